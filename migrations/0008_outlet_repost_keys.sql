-- A report's text hash now identifies it within its outlet only: the same text under another outlet's
-- URL is that outlet's own report (a syndicated copy, marked copy_of by the story analysis), no longer
-- merged away as "already known". Existing keys get their report's outlet, as new keys are written
-- ('outlet:sha1'); the feed-scoped keys of items with little text ('feed_id:sha1') stay as they are.
UPDATE report_keys
SET key = (SELECT outlet FROM reports WHERE reports.id = report_keys.report_id) || ':' || key
WHERE kind = 'hash' AND instr(key, ':') = 0;
