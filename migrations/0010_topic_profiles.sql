-- Adaptive tracking: a report can be a topic's because it is like what the topic's query matched
-- ('profile'; `evidence` keeps the likeness and the shared terms, for `topics explain`), or because a
-- moderator pinned it ('pinned'). A moderator can also exclude a report from a topic: no route
-- (query, story, profile) brings it back. SQLite cannot widen a CHECK in place: the table is rebuilt.
CREATE TABLE report_topics_new (
    report_id  INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    topic_id   INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    matched_at TEXT    NOT NULL,
    backfilled INTEGER NOT NULL DEFAULT 0,
    matched_by TEXT    NOT NULL DEFAULT 'query' CHECK (matched_by IN ('query', 'story', 'profile', 'pinned')),
    evidence   TEXT,
    PRIMARY KEY (topic_id, report_id)
) WITHOUT ROWID;
INSERT INTO report_topics_new (report_id, topic_id, matched_at, backfilled, matched_by)
    SELECT report_id, topic_id, matched_at, backfilled, matched_by FROM report_topics;
DROP TABLE report_topics;
ALTER TABLE report_topics_new RENAME TO report_topics;
CREATE INDEX report_topics_report ON report_topics (report_id);

CREATE TABLE topic_exclusions (
    topic_id   INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    report_id  INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (topic_id, report_id)
) WITHOUT ROWID;
