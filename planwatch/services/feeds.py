"""Adding, listing, removing, pausing, importing and exporting feeds."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planwatch.config import Settings
from planwatch.errors import NotFoundError, PlanwatchError, UsageError
from planwatch.ingest.netguard import check_feed_url
from planwatch.ingest.opml import read_opml, write_opml
from planwatch.models import Feed
from planwatch.resources import data_file
from planwatch.store import Store
from planwatch.timeutil import to_db, utcnow

STARTER_OPML = "starter-feeds.opml"


def check_interval(minutes: int | None, settings: Settings) -> int:
    if minutes is None:
        return settings.poll_interval_minutes
    if minutes < settings.poll_min_interval_minutes:
        raise UsageError(f"interval must be at least {settings.poll_min_interval_minutes} minutes (got {minutes})")
    if minutes > 7 * 24 * 60:
        raise UsageError(f"interval must be at most a week ({7 * 24 * 60} minutes; got {minutes})")
    return minutes


async def add_feed(
    store: Store,
    settings: Settings,
    url: str,
    *,
    name: str | None = None,
    interval: int | None = None,
    added_by: str | None = None,
) -> Feed:
    url = url.strip()
    await check_feed_url(url, allow_private=settings.allow_private_feeds)
    name = name.strip()[:200] if name and name.strip() else None
    return await store.feeds.add(
        url, name=name, interval_minutes=check_interval(interval, settings), now=utcnow(), added_by=added_by
    )


async def find_feed(store: Store, ref: str) -> Feed:
    """A feed by its id ("3", "#3") or its URL."""
    ref = ref.strip()
    digits = ref.removeprefix("#")
    if digits.isdigit():
        return await store.feeds.get(int(digits))
    feed = await store.feeds.get_by_url(ref)
    if feed is None:
        raise NotFoundError(f"no feed with URL {ref} (see: planwatch feeds list)")
    return feed


async def remove_feed(store: Store, ref: str) -> Feed:
    feed = await find_feed(store, ref)
    await store.feeds.remove(feed.id)
    return feed


async def pause_feed(store: Store, ref: str, paused: bool) -> Feed:
    feed = await find_feed(store, ref)
    return await store.feeds.set_paused(feed.id, paused, "paused by a moderator" if paused else None, utcnow())


def feed_json(feed: Feed) -> dict[str, Any]:
    def ts(value: Any) -> str | None:
        return None if value is None else to_db(value)

    return {
        "id": feed.id,
        "url": feed.url,
        "name": feed.display_name,
        "status": feed.status,
        "interval_minutes": feed.interval_minutes,
        "consecutive_failures": feed.consecutive_failures,
        "last_status": feed.last_status,
        "last_error": feed.last_error,
        "last_polled_at": ts(feed.last_polled_at),
        "last_success_at": ts(feed.last_success_at),
        "next_poll_at": ts(feed.next_poll_at),
        "paused_reason": feed.paused_reason,
    }


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: list[str]
    skipped: list[tuple[str, str]]  # (url, reason)


async def import_opml(store: Store, settings: Settings, data: bytes) -> ImportResult:
    """Add every feed of an OPML file in one transaction; say what was skipped and why."""
    outlines = read_opml(data)
    skipped: list[tuple[str, str]] = []
    checks = await asyncio.gather(
        *(check_feed_url(o.url, allow_private=settings.allow_private_feeds, resolve=False) for o in outlines),
        return_exceptions=True,
    )
    accepted: dict[str, str | None] = {}
    for outline, check in zip(outlines, checks, strict=True):
        if isinstance(check, PlanwatchError):
            skipped.append((outline.url, str(check)))
        elif isinstance(check, BaseException):
            raise check
        elif outline.url in accepted:
            skipped.append((outline.url, "listed twice in the file"))
        else:
            accepted[outline.url] = outline.title
    already = await store.feeds.add_many(list(accepted.items()), interval_minutes=settings.poll_interval_minutes, now=utcnow())
    skipped += [(url, "already watched") for url in already]
    return ImportResult([u for u in accepted if u not in set(already)], skipped)


STARTER_DONE = "feeds.starter_imported_at"


async def import_starter_feeds(store: Store, settings: Settings) -> ImportResult | None:
    """On a database that never had feeds, add the bundled starter list (real outlets), once: an
    operator who later removes them all does not get them back."""
    if not settings.import_starter_feeds or await store.state.get(STARTER_DONE):
        return None
    now = utcnow()
    if await store.feeds.count():  # the operator chose feeds before the first start: theirs stand
        await store.state.set(STARTER_DONE, "not needed: feeds were there", now)
        return None
    result = await import_opml(store, settings, data_file(STARTER_OPML).read_bytes())
    await store.state.set(STARTER_DONE, to_db(now), now)
    return result


async def export_opml(store: Store) -> str:
    feeds = await store.feeds.list_all()
    return write_opml([(f.url, f.display_name, f.site_url) for f in feeds], utcnow())


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
