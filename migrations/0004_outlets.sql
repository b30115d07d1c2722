-- Outlets that operators add to the built-in registry (planwatch/stories/outlets.py), with their
-- aliases: what citation extraction recognises beyond the curated list.
CREATE TABLE outlets (
    name     TEXT PRIMARY KEY,
    aliases  TEXT NOT NULL DEFAULT '[]',  -- JSON list of other names it goes by
    added_at TEXT NOT NULL
);
