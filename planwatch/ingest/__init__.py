"""The ingest pipeline: fetch -> parse -> normalize -> dedup -> match -> store, one module a step."""
