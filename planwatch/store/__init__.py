"""The store layer: every SQL statement Planwatch runs lives in this package."""

from planwatch.store.db import Store

__all__ = ["Store"]
