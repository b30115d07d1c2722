"""Adding, listing, removing, pausing, importing and exporting feeds."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planwatch.config import Settings
from planwatch.errors import NotFoundError, PlanwatchError, UsageError
from planwatch.ingest.feedurl import canonical_feed_url, feed_key, shown
from planwatch.ingest.netguard import check_feed_url
from planwatch.ingest.opml import read_opml, write_opml
from planwatch.ingest.urls import redact_credentials
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
    url = canonical_feed_url(url)
    await check_feed_url(url, allow_private=settings.allow_private_feeds)
    existing = await watched_feed(store, url)
    if existing is not None:
        raise UsageError(f"feed {url} is already watched as feed #{existing.id}")
    name = name.strip()[:200] if name and name.strip() else None
    return await store.feeds.add(
        url, name=name, interval_minutes=check_interval(interval, settings), now=utcnow(), added_by=added_by
    )


async def watched_feed(store: Store, url: str) -> Feed | None:
    """The feed watched under any spelling of `url`. Rows saved before URLs were made canonical keep
    their old spelling (no migration rewrites them), so those are compared by their canonical form."""
    key = feed_key(url)
    feed = await store.feeds.get_by_url(key)
    if feed is not None:
        return feed
    for stored, feed_id in (await store.feeds.ids_by_url()).items():
        if stored != key and feed_key(stored) == key:
            return await store.feeds.get(feed_id)
    return None


async def find_feed(store: Store, ref: str) -> Feed:
    """A feed by its id ("3", "#3") or its URL, in any spelling of it."""
    ref = ref.strip()
    digits = ref.removeprefix("#")
    if digits.isascii() and digits.isdigit():  # "²" is a digit to isdigit(), not to int()
        if len(digits) > 18:  # past SQLite's 64-bit integers: no such feed, rather than an OverflowError
            raise NotFoundError(f"no feed #{digits[:30]} (see: planwatch feeds list)")
        return await store.feeds.get(int(digits))
    feed = await store.feeds.get_by_url(ref) or await watched_feed(store, ref)
    if feed is None:
        raise NotFoundError(f"no feed with URL {shown(ref)} (see: planwatch feeds list)")
    return feed


async def remove_feed(store: Store, ref: str) -> Feed:
    feed = await find_feed(store, ref)
    await store.feeds.remove(feed.id)
    return feed


async def pause_feed(store: Store, ref: str, paused: bool) -> Feed:
    feed = await find_feed(store, ref)
    return await store.feeds.set_paused(feed.id, paused, "paused by a moderator" if paused else None, utcnow())


def shown_url(feed: Feed) -> str:
    """The feed's URL as printed: a password stored before credentials were refused is masked."""
    return redact_credentials(feed.url)


def shown_name(feed: Feed) -> str:
    return redact_credentials(feed.display_name)


def feed_json(feed: Feed) -> dict[str, Any]:
    def ts(value: Any) -> str | None:
        return None if value is None else to_db(value)

    return {
        "id": feed.id,
        "url": shown_url(feed),
        "name": shown_name(feed),
        "status": feed.status,
        "interval_minutes": feed.interval_minutes,
        "consecutive_failures": feed.consecutive_failures,
        "last_status": feed.last_status,
        "last_error": redact_credentials(feed.last_error) if feed.last_error else None,
        "last_polled_at": ts(feed.last_polled_at),
        "last_success_at": ts(feed.last_success_at),
        "next_poll_at": ts(feed.next_poll_at),
        "paused_reason": feed.paused_reason,
    }


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: list[str]  # canonical URLs
    skipped: list[tuple[str, str]]  # (url as the file spells it, made printable; reason)


@dataclass(frozen=True, slots=True)
class _Candidate:
    listed: str  # as the file spells it, printable on one line
    url: str  # canonical
    title: str | None


async def import_opml(store: Store, settings: Settings, data: bytes) -> ImportResult:
    """Add every feed of an OPML file in one transaction; say what was skipped and why."""
    skipped: list[tuple[str, str]] = []
    candidates: list[_Candidate] = []
    for outline in read_opml(data):
        try:
            candidates.append(_Candidate(shown(outline.url), canonical_feed_url(outline.url), outline.title))
        except UsageError as exc:
            skipped.append((shown(outline.url), str(exc)))
    checks = await asyncio.gather(
        *(check_feed_url(c.url, allow_private=settings.allow_private_feeds, resolve=False) for c in candidates),
        return_exceptions=True,
    )
    watched = {feed_key(url) for url in await store.feeds.ids_by_url()}
    accepted: dict[str, str | None] = {}
    for candidate, check in zip(candidates, checks, strict=True):
        if isinstance(check, PlanwatchError):
            skipped.append((candidate.listed, str(check)))
        elif isinstance(check, BaseException):
            raise check
        elif candidate.url in accepted:
            skipped.append((candidate.listed, "listed twice in the file"))
        elif candidate.url in watched:
            skipped.append((candidate.listed, "already watched"))
        else:
            accepted[candidate.url] = candidate.title
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
    return write_opml([(shown_url(f), shown_name(f), f.site_url) for f in feeds], utcnow())


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
