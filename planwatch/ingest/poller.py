"""Polls feeds: fetch -> parse/normalize (off the event loop) -> dedup + store + match, one transaction
per feed that also records the feed's new fetch state, so a crash loses nothing and repeats nothing:
either the entries and the new ETag are both saved, or neither is and the next poll does it again."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Iterable
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Literal

import aiosqlite

from planwatch.config import Settings
from planwatch.ingest.errors import FeedError, FetchError, ShuttingDown
from planwatch.ingest.fetch import Fetcher, FetchResult
from planwatch.ingest.normalize import outlet_name, parse_feed
from planwatch.ingest.schedule import Backoff
from planwatch.ingest.urls import redact_credentials
from planwatch.models import Feed, ParsedFeed
from planwatch.store import Store
from planwatch.timeutil import utcnow

log = logging.getLogger(__name__)

Outcome = Literal["new", "unchanged", "not-modified", "error"]
PARSE_TIMEOUT = 60.0  # seconds for parse + normalize of one feed (15 MiB of plain RSS takes ~10 s)


@dataclass(frozen=True, slots=True)
class PollResult:
    feed_id: int
    url: str
    name: str
    outcome: Outcome
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    matched: int = 0
    error: str | None = None
    paused: str | None = None
    next_poll_at: datetime | None = None
    moved_to: str | None = None

    def line(self) -> str:
        """The one line `poll --once` prints for this feed; a password in a URL stored before
        credentials were refused (the name can be the URL) is masked."""
        return redact_credentials(self._text())

    def _text(self) -> str:
        if self.outcome == "error":
            tail = f"; paused: {self.paused}" if self.paused else ""
            return f"#{self.feed_id} {self.name}: error: {self.error}{tail}"
        if self.outcome == "not-modified":
            return f"#{self.feed_id} {self.name}: unchanged (304 not modified)"
        parts = [f"{self.new} new", f"{self.updated} updated", f"{self.unchanged + self.merged} unchanged"]
        if self.merged:
            parts.append(f"{self.merged} already known from other feeds")
        if self.matched:
            parts.append(f"{self.matched} topic matches")
        moved = f" (moved to {self.moved_to})" if self.moved_to else ""
        return f"#{self.feed_id} {self.name}: " + ", ".join(parts) + moved


def ignore_sigint() -> None:
    """Parse workers' initializer. Ctrl-C reaches the whole process group; the service decides when
    workers stop (it shuts the pool down once the polls under way are done), so a worker must not die
    on SIGINT, with a KeyboardInterrupt traceback of its own, under a poll that is still running."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Poller:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        fetcher: Fetcher | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.settings = settings
        self.fetcher = fetcher or Fetcher(settings)
        self.clock = clock
        self.backoff = Backoff(timedelta(hours=settings.max_backoff_hours), settings.pause_after_failures)
        self._executor: Executor | None = None
        self._stopping = False

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.settings.parse_workers > 0:
                import multiprocessing

                self._executor = ProcessPoolExecutor(
                    self.settings.parse_workers, mp_context=multiprocessing.get_context("spawn"), initializer=ignore_sigint
                )
            else:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="planwatch-parse")
        return self._executor

    async def close(self) -> None:
        self._stopping = True
        await self.fetcher.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def stop(self) -> None:
        """Start no new feed (nor one queued for a slot); those already fetching finish and commit."""
        self._stopping = True
        self.fetcher.stopping = True

    async def poll_due(self) -> list[PollResult]:
        return await self.poll_feeds(await self.store.feeds.due(self.clock()))

    async def poll_once(self, *, force: bool = False) -> list[PollResult]:
        return await self.poll_feeds(await self.store.feeds.pollable(self.clock(), ignore_backoff=force))

    async def poll_feeds(self, feeds: Iterable[Feed]) -> list[PollResult]:
        feeds = list(feeds)
        results = await asyncio.gather(*(self.poll_one(feed) for feed in feeds), return_exceptions=True)
        out: list[PollResult] = []
        for feed, result in zip(feeds, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                log.error("feed #%s: could not record the poll: %r", feed.id, result)
                result = PollResult(feed.id, feed.url, feed.display_name, "error", error=f"internal error: {result!r}")
            out.append(result)
        return out

    async def poll_one(self, feed: Feed) -> PollResult:
        if self._stopping:
            return PollResult(feed.id, feed.url, feed.display_name, "error", error="shutting down")
        try:
            return await self._poll(feed)
        except ShuttingDown:
            return PollResult(feed.id, feed.url, feed.display_name, "error", error="shutting down")
        except FeedError as exc:
            return await self._failed(feed, exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not stop the other feeds, nor go unseen
            log.exception("feed #%s: unexpected error while polling %s", feed.id, feed.url)
            message = f"internal error: {exc.__class__.__name__}: {exc}".encode("utf-8", "replace").decode()
            return await self._failed(feed, FeedError(message[:500]))

    async def _poll(self, feed: Feed) -> PollResult:
        started = self.clock()
        fetched = await self.fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        now = self.clock()
        next_poll = self.backoff.after_success(now, timedelta(minutes=feed.interval_minutes), fetched.max_age)
        moved_to = await self._new_url(feed, fetched)
        state = {
            "first_success_at": feed.first_success_at or now,
            "last_status": fetched.status,
            "last_polled_at": started,
            "last_success_at": now,
            "consecutive_failures": 0,
            "last_error": None,
            "next_poll_at": next_poll,
        }
        if not fetched.not_modified:
            state["etag"] = fetched.etag
            state["last_modified"] = fetched.last_modified
        else:  # a 304 updates only the validators it carries (RFC 9111 4.3.4)
            if fetched.etag:
                state["etag"] = fetched.etag
            if fetched.last_modified:
                state["last_modified"] = fetched.last_modified
        if fetched.not_modified or fetched.body_hash == feed.body_hash:
            async with self.store.transaction() as db:
                await self.store.feeds.write_state(db, feed.id, **state)
                moved_to = await self._move(db, feed, moved_to)
            outcome: Outcome = "not-modified" if fetched.not_modified else "unchanged"
            return PollResult(feed.id, feed.url, feed.display_name, outcome, next_poll_at=next_poll, moved_to=moved_to)
        parsed = await self._parse(fetched, now)
        outlet = feed.name or outlet_name(parsed.meta.title, parsed.meta.site_url, feed.url)
        if parsed.meta.ttl_minutes:
            ttl_next = self.backoff.after_success(
                now, timedelta(minutes=feed.interval_minutes), timedelta(minutes=parsed.meta.ttl_minutes)
            )
            state["next_poll_at"] = next_poll = max(next_poll, ttl_next)
        state.update(title=parsed.meta.title, site_url=parsed.meta.site_url, body_hash=fetched.body_hash)
        if parsed.warning:
            state["last_error"] = f"warning: {parsed.warning}"
        async with self.store.transaction() as db:
            batch = await self.store.reports.save_batch(
                db, feed_id=feed.id, outlet=outlet, entries=parsed.entries, now=now,
                backlog=feed.first_success_at is None,  # a feed's first poll brings its archive, not news
            )  # fmt: skip
            matched = await self.store.topics.match_reports(db, batch.new_ids, batch.updated_ids, now)
            await self.store.feeds.write_state(db, feed.id, **state)
            moved_to = await self._move(db, feed, moved_to)
        result = PollResult(
            feed.id, feed.url, feed.display_name if feed.name or feed.title else outlet,
            "new" if batch.new or batch.updated else "unchanged",
            new=batch.new, updated=batch.updated, unchanged=batch.unchanged, merged=batch.merged,
            matched=matched, next_poll_at=next_poll, moved_to=moved_to,
        )  # fmt: skip
        log.info(
            "feed #%s polled: %d new, %d updated, %d unchanged, %d matched",
            feed.id, batch.new, batch.updated, batch.unchanged + batch.merged, matched,
        )  # fmt: skip
        return result

    @staticmethod
    async def _new_url(feed: Feed, fetched: FetchResult) -> str | None:
        target = fetched.permanent_url
        return target if target and target != feed.url else None

    async def _move(self, db: aiosqlite.Connection, feed: Feed, target: str | None) -> str | None:
        """A permanent redirect moves the feed, unless another feed already has that URL (checked in
        the same transaction, so two feeds redirected to one URL cannot both take it)."""
        if target is None:
            return None
        if not await self.store.feeds.move(db, feed.id, target):
            log.warning("feed #%s moved permanently to %s, which is already another feed", feed.id, target)
            return None
        log.info("feed #%s moved permanently: %s -> %s", feed.id, feed.url, target)
        return target

    async def _parse(self, fetched: FetchResult, now: datetime) -> ParsedFeed:
        job = partial(parse_feed, fetched.body, content_type=fetched.content_type, url=fetched.url, now=now)
        pool = self._pool()
        try:
            return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(pool, job), PARSE_TIMEOUT)
        except TimeoutError:
            # A document that takes this long is hostile or broken; a stuck worker process is replaced.
            if self._executor is pool and isinstance(pool, ProcessPoolExecutor):
                self._executor = None
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.kill()
                pool.shutdown(wait=False, cancel_futures=True)
            raise FeedError(f"parsing took longer than {PARSE_TIMEOUT:g} s; the feed is skipped this time") from None
        except BrokenExecutor:
            # A worker died (out of memory, killed): start a fresh pool for the next feeds.
            if self._executor is pool:
                self._executor = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise FeedError("the parser process stopped unexpectedly; the feed is tried again next poll") from None

    async def _failed(self, feed: Feed, exc: FeedError) -> PollResult:
        now = self.clock()
        failures = feed.consecutive_failures + 1
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        gone = isinstance(exc, FetchError) and exc.gone
        next_poll = self.backoff.after_failure(now, timedelta(minutes=feed.interval_minutes), failures, retry_after)
        pause = self.backoff.should_pause(failures, gone)
        async with self.store.transaction() as db:
            await self.store.feeds.write_state(
                db, feed.id,
                last_status=exc.status, last_polled_at=now, consecutive_failures=failures,
                last_error=exc.message, next_poll_at=next_poll,
                **({"paused": True, "paused_reason": pause} if pause else {}),
            )  # fmt: skip
        level = logging.WARNING if pause else logging.INFO
        log.log(level, "feed #%s failed (%d in a row): %s%s", feed.id, failures, exc.message,
                f"; paused: {pause}" if pause else "")  # fmt: skip
        return PollResult(feed.id, feed.url, feed.display_name, "error", error=exc.message, paused=pause, next_poll_at=next_poll)
