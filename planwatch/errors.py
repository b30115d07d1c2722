"""Errors that reach a user as one clear line (CLI, slash command reply), never as a traceback."""

from __future__ import annotations


class PlanwatchError(Exception):
    """Base: the message is written for the person who ran the command."""


class ConfigError(PlanwatchError):
    """Settings that cannot work."""


class UsageError(PlanwatchError):
    """A bad argument: wrong duration, unknown topic, invalid URL. CLI exit code 2."""


class NotFoundError(UsageError):
    """A named thing (feed, topic) that does not exist."""


class StoreError(PlanwatchError):
    """The database cannot be used (newer than the code, unreadable)."""
