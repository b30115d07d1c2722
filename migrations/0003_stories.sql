-- Stories: reports about the same event, across outlets and days. Everything here is derived from
-- reports and can be rebuilt (`planwatch stories rebuild`); report_analysis records which version of
-- a report was analysed, so a changed report is analysed again.

CREATE TABLE stories (
    id         INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL
);

CREATE TABLE report_analysis (
    report_id    INTEGER PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
    content_hash TEXT    NOT NULL,                  -- the report version this analysis is of
    story_id     INTEGER REFERENCES stories (id) ON DELETE SET NULL,
    copy_of      INTEGER REFERENCES reports (id) ON DELETE SET NULL,  -- syndicated/near-identical earlier report
    terms        TEXT    NOT NULL,                  -- weighted content terms of title and lead, space-separated
    cites        TEXT    NOT NULL DEFAULT '[]',     -- JSON list of outlets the report cites
    analysed_at  TEXT    NOT NULL
);
CREATE INDEX report_analysis_story ON report_analysis (story_id);
CREATE INDEX report_analysis_copy ON report_analysis (copy_of) WHERE copy_of IS NOT NULL;
CREATE INDEX reports_updated ON reports (updated_at) WHERE updated_at IS NOT NULL;
