-- How a report came to be a topic's: its own words matched the topic's query ('query'), or it joined a
-- story that a query-matched report is in ('story': the story followed as it develops, in words the
-- moderator's query did not foresee). Rows from before are query matches.
ALTER TABLE report_topics ADD COLUMN matched_by TEXT NOT NULL DEFAULT 'query' CHECK (matched_by IN ('query', 'story'));
