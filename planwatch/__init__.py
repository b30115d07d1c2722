"""Planwatch: follow one developing news story across many outlets."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/planwatch/planwatch"
