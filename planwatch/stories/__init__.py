"""Stories: grouping reports into events, copies, citations, summaries, source lists, timelines."""
