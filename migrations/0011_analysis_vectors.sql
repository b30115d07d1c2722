-- The weights each report had when it was grouped (planwatch.stories.grouping.StoryIndex): the story
-- index read back after a restart is then the one the running process had, and reading it costs a
-- parse, not a re-weighing of every report in the window. Empty for reports analysed before: they are
-- weighed when read, as before.
ALTER TABLE report_analysis ADD COLUMN vectors TEXT NOT NULL DEFAULT '';
