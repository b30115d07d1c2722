-- Planwatch's first schema: feeds with their fetch state, reports with their identities and earlier
-- versions, topics with their matches, and a full-text index over reports.
-- Times are UTC text 'YYYY-MM-DDTHH:MM:SSZ' so that they sort and compare as strings.

CREATE TABLE feeds (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT    NOT NULL UNIQUE,
    name                 TEXT,                      -- set by the operator; overrides the feed's title
    title                TEXT,                      -- the feed's own title, as last parsed
    site_url             TEXT,
    interval_minutes     INTEGER NOT NULL CHECK (interval_minutes >= 1),
    etag                 TEXT,
    last_modified        TEXT,
    body_hash            TEXT,                      -- sha256 of the last body parsed: unchanged bodies skip parsing
    last_status          INTEGER,                   -- last HTTP status, NULL if no answer
    last_polled_at       TEXT,
    last_success_at      TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_poll_at         TEXT,                      -- NULL: due now
    last_error           TEXT,
    paused               INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    paused_reason        TEXT,
    created_at           TEXT    NOT NULL
);
CREATE INDEX feeds_due ON feeds (paused, next_poll_at);

CREATE TABLE reports (
    id                  INTEGER PRIMARY KEY,
    url                 TEXT,                       -- canonical URL of the first copy seen
    guid                TEXT,
    title               TEXT    NOT NULL,
    text                TEXT    NOT NULL DEFAULT '',
    author              TEXT,
    outlet              TEXT    NOT NULL,
    language            TEXT,
    published_at        TEXT    NOT NULL,
    published_estimated INTEGER NOT NULL DEFAULT 0 CHECK (published_estimated IN (0, 1)),
    first_seen_at       TEXT    NOT NULL,
    updated_at          TEXT,                       -- last change of title or text
    content_hash        TEXT    NOT NULL,
    feed_id             INTEGER REFERENCES feeds (id) ON DELETE SET NULL
);
CREATE INDEX reports_first_seen ON reports (first_seen_at);
CREATE INDEX reports_published ON reports (published_at);

-- Every identity under which a report has been seen: canonical URL, feed-scoped guid, content hash.
-- A report that comes again under any of them is the same report.
CREATE TABLE report_keys (
    kind      TEXT    NOT NULL CHECK (kind IN ('url', 'guid', 'hash')),
    key       TEXT    NOT NULL,
    report_id INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX report_keys_report ON report_keys (report_id);

-- Which feeds carried a report, and the content each last gave: a change is a change only when the
-- same feed delivers different content (two feeds disagreeing is not an edit).
CREATE TABLE report_sources (
    report_id     INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    feed_id       INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    url           TEXT,
    guid          TEXT,
    content_hash  TEXT    NOT NULL,
    first_seen_at TEXT    NOT NULL,
    last_seen_at  TEXT    NOT NULL,
    PRIMARY KEY (report_id, feed_id)
) WITHOUT ROWID;
CREATE INDEX report_sources_feed ON report_sources (feed_id);

-- Earlier title/text of a report, kept when it changes (the timeline shows old -> new).
CREATE TABLE report_versions (
    id           INTEGER PRIMARY KEY,
    report_id    INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    title        TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    valid_from   TEXT    NOT NULL,                  -- when this version was first seen
    replaced_at  TEXT    NOT NULL                   -- when a newer version replaced it
);
CREATE INDEX report_versions_report ON report_versions (report_id, replaced_at);

CREATE TABLE topics (
    id          INTEGER PRIMARY KEY,
    scope       TEXT    NOT NULL DEFAULT 'global',  -- 'global' (CLI, email) or 'guild:<id>'
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    query       TEXT    NOT NULL,
    aliases     TEXT    NOT NULL DEFAULT '[]',      -- JSON list of lists: extra spelling variants
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    UNIQUE (scope, name)
);

CREATE TABLE report_topics (
    report_id  INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    topic_id   INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    matched_at TEXT    NOT NULL,
    PRIMARY KEY (topic_id, report_id)
) WITHOUT ROWID;
CREATE INDEX report_topics_report ON report_topics (report_id);

CREATE VIRTUAL TABLE reports_fts USING fts5 (
    title, text,
    content = 'reports', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER reports_fts_insert AFTER INSERT ON reports BEGIN
    INSERT INTO reports_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER reports_fts_delete AFTER DELETE ON reports BEGIN
    INSERT INTO reports_fts (reports_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TRIGGER reports_fts_update AFTER UPDATE OF title, text ON reports BEGIN
    INSERT INTO reports_fts (reports_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO reports_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;

-- Small facts about the running service (last scheduler tick, ...), read by `planwatch health`.
CREATE TABLE service_state (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
