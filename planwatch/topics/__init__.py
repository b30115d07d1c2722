"""Watched topics: their query language and how reports are matched to them."""
