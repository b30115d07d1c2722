"""Plain data passed between the pipeline steps, the store and the edges (CLI, Discord, mail)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

FeedStatus = Literal["new", "ok", "failing", "paused"]
# How a report is a topic's: its own words match the query, it is in a story with a query match, it is
# like what the query matched (the topic's learned profile), or a moderator pinned it.
MatchedBy = Literal["query", "story", "profile", "pinned"]
# What a topic learns from and spreads from: never its story or profile members (no drift by chaining).
SEEDS = ("query", "pinned")


@dataclass(frozen=True, slots=True)
class Feed:
    id: int
    url: str
    name: str | None
    title: str | None
    site_url: str | None
    interval_minutes: int
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    last_status: int | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    next_poll_at: datetime | None
    last_error: str | None
    paused: bool
    paused_reason: str | None
    created_at: datetime
    first_success_at: datetime | None = None
    added_by: str | None = None  # None: the operator; 'guild:<id>': a Discord server's moderators

    @property
    def status(self) -> FeedStatus:
        if self.paused:
            return "paused"
        if self.consecutive_failures:
            return "failing"
        if self.last_polled_at is None:
            return "new"
        return "ok"

    @property
    def display_name(self) -> str:
        return self.name or self.title or self.url


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """What a parsed feed says about itself."""

    title: str | None
    site_url: str | None
    language: str | None
    ttl_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed item after normalization: plain text, canonical URL, UTC date or none."""

    guid: str | None
    url: str | None
    title: str
    text: str
    author: str | None
    language: str | None
    published_at: datetime | None  # None: missing, unreadable or implausible; the store estimates it
    outlet: str | None  # the item's own source (aggregators), else the feed's outlet is used


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    meta: FeedMeta
    entries: list[Entry]
    skipped: int = 0  # items with no title, link or id: nothing to store
    warning: str | None = None  # feed was not well-formed but yielded entries


@dataclass(frozen=True, slots=True)
class Topic:
    id: int
    scope: str
    name: str
    description: str
    query: str
    aliases: list[list[str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Report:
    id: int
    url: str | None
    guid: str | None
    title: str
    text: str
    author: str | None
    outlet: str
    language: str | None
    published_at: datetime
    published_estimated: bool
    first_seen_at: datetime
    updated_at: datetime | None
    content_hash: str
    topics: list[str] = field(default_factory=list)
