"""Readers and writers beside a busy `planwatch run`: nobody sees "database is locked".

The service is a real `planwatch run` process polling a real loopback feed server whose feeds keep
growing, so it writes all the time (each poll a transaction, then the story analysis of what came);
CLI commands, each a process of its own, read and write alongside it. Then the retry itself, against a
write lock another connection holds on the same file."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from planwatch.errors import StoreError
from planwatch.models import Entry
from planwatch.services import stories
from planwatch.store import Store
from planwatch.store.db import BusyPolicy, DatabaseBusy
from planwatch.stories.refresh import refresh_stories
from planwatch.textviews import report_json
from planwatch.timeutil import utcnow
from tests.conftest import FeedServer, RouteHandler
from tests.smtp_server import free_port

TOPIC = "ukraine-peace-plan"
FAST = BusyPolicy(wait_seconds=0.5, attempt_ms=20, first_pause_seconds=0.01, max_pause_seconds=0.05)

FEEDS = 200
LOOP_SECONDS = 30.0
CLI_LOOPS = 3  # users at their terminals at once
ITEM_EVERY = 2.0  # seconds between two new entries of one feed
ITEMS_SHOWN = 40  # a feed shows its newest entries, as real feeds do
PEOPLE = ["Witkoff", "Dmitriev", "Umerov", "Driscoll", "Zelensky", "Putin", "Rubio", "Yermak"]
PLACES = ["Kyiv", "Moscow", "Geneva", "Miami", "Abu Dhabi", "Donbas", "Zaporizhzhia", "Brussels"]
WORDS = (
    "peace plan draft proposal framework talks security guarantees territory ceasefire sanctions "
    "negotiators delegation leaked document points amendments envoy officials meeting reported said "
    "according sources agreement frontline troops referendum elections reconstruction assets frozen"
).split()


def entry(feed: int, number: int, at: datetime) -> str:
    """One report, about one of a few events (so stories form and copies appear), ~120 words long."""
    rng = random.Random(feed * 100_003 + number)
    event = number % 6
    who, where = PEOPLE[event], PLACES[(event + feed) % len(PLACES)]
    title = f"{who} in {where}: Ukraine peace plan {rng.choice(WORDS)} {rng.choice(WORDS)} ({feed}-{number})"
    sentences = [
        f"{who} met officials in {where} on the 28-point peace plan for Ukraine, the Kremlin said.",
        *(" ".join(rng.choice(WORDS) for _ in range(14)).capitalize() + "." for _ in range(7)),
    ]
    return (
        f"<item><title>{title}</title><link>https://outlet{feed}.example/{number}</link>"
        f"<guid>outlet{feed}-{number}</guid><pubDate>{format_datetime(at, usegmt=True)}</pubDate>"
        f"<description>{' '.join(sentences)}</description></item>"
    )


def growing_feed(feed: int, started: float, origin: datetime) -> RouteHandler:
    """A feed that gains an entry every ITEM_EVERY seconds: each poll finds new ones."""

    async def handler(request: web.Request) -> web.Response:
        newest = int((time.monotonic() - started) / ITEM_EVERY) + ITEMS_SHOWN
        items = "".join(
            entry(feed, n, origin + timedelta(seconds=n * ITEM_EVERY)) for n in range(newest, max(newest - ITEMS_SHOWN, 0), -1)
        )
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Outlet {feed}</title>'
            f"<link>https://outlet{feed}.example/</link>{items}</channel></rss>"
        )
        return web.Response(body=body.encode(), content_type="application/rss+xml")

    return handler


@dataclass(frozen=True, slots=True)
class Outcome:
    args: tuple[str, ...]
    code: int
    stderr: str


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANWATCH_", "DISCORD_"))}
    return {**env, "PLANWATCH_ALLOW_PRIVATE_FEEDS": "1", "PLANWATCH_PARSE_WORKERS": "0", **extra}


async def run_cli(db: Path, *args: str) -> Outcome:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "planwatch.cli", "--db", str(db), *args,
        env=cli_env(), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return Outcome(args, proc.returncode, err.decode(errors="replace").strip())


async def user(db: Path, number: int, feed_ids: list[int], deadline: float) -> list[Outcome]:
    """One person's commands, one after another, reads and writes mixed, until the deadline."""
    outcomes: list[Outcome] = []
    turn = 0
    while time.monotonic() < deadline:
        feed = str(feed_ids[(number * 37 + turn) % len(feed_ids)])
        topic = f"load-{number}-{turn}"
        for args in (
            ("ask", "summary", "--json"),
            ("topics", "add", topic, "--query", "kremlin AND geneva"),
            ("ask", "sources", "--json"),
            ("feeds", "pause", feed),
            ("articles", "--json", "--limit", "20"),
            ("feeds", "resume", feed),  # due at once: the service polls it again, and finds new entries
            ("ask", "latest", "--json"),
            ("topics", "remove", topic),
            ("feeds", "list", "--json"),
            ("ask", "search", "witkoff", "--json"),
        ):
            # A pair (add/remove, pause/resume) is finished even past the deadline: nothing is left behind.
            if time.monotonic() >= deadline and args[0] not in ("topics", "feeds"):
                break
            outcomes.append(await run_cli(db, *args))
        turn += 1
    return outcomes


async def test_cli_reads_and_writes_never_fail_beside_a_polling_service(tmp_path: Path, feed_server: FeedServer) -> None:
    """200 growing feeds polled by a real service (1 s ticks); 30 s of CLI reads and writes: zero failures."""
    db = tmp_path / "busy.db"
    started, origin = time.monotonic(), datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    now = utcnow()
    async with await Store.open(db) as store:
        for n in range(FEEDS):
            url = feed_server.route(f"/f{n}.xml", growing_feed(n, started, origin))
            feed = await store.feeds.add(url, name=f"Outlet {n}", interval_minutes=1, now=now)
            # Feeds come due one after another over the first 25 s, so every tick has polls to write.
            async with store.transaction() as conn:
                await store.feeds.write_state(conn, feed.id, next_poll_at=now + timedelta(seconds=n * 25 / FEEDS))
        feed_ids = [f.id for f in await store.feeds.list_all()]

    service = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "planwatch.cli", "--db", str(db), "run", "--no-starter-feeds",
        env=cli_env(PLANWATCH_POLL_TICK="1", PLANWATCH_POLL_INTERVAL="1", PLANWATCH_POLL_MIN_INTERVAL="1",
                    PLANWATCH_WEB_PORT=str(free_port()), PLANWATCH_OUTBOX=str(tmp_path / "outbox")),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with await Store.open(db) as store:
            for _ in range(300):  # the service has begun writing
                if await store.reports.count() > 0:
                    break
                await asyncio.sleep(0.1)
            before = await store.reports.count()
        assert before > 0, "the service never stored a report"
        deadline = time.monotonic() + LOOP_SECONDS
        results = await asyncio.gather(*(user(db, n, feed_ids, deadline) for n in range(CLI_LOOPS)))
        async with await Store.open(db) as store:
            after = await store.reports.count()
    finally:
        service.send_signal(signal.SIGTERM)
        _, service_err = await asyncio.wait_for(service.communicate(), 60)
    outcomes = [o for r in results for o in r]
    failed = [o for o in outcomes if o.code != 0 or o.stderr]
    assert not failed, f"{len(failed)} of {len(outcomes)} commands failed: " + "; ".join(
        f"{' '.join(o.args)} -> {o.code}: {o.stderr[-300:]}" for o in failed[:8]
    )
    assert after > before  # the service kept writing while the commands ran
    assert service.returncode == 0
    assert b"locked" not in service_err and b"is busy" not in service_err, service_err.decode()[-2000:]


# --- the retry, and the read path, against a lock held on the same file ----------------------------------
class LockHolder:
    """Another connection to the same file, in a thread of its own, holding the write lock (BEGIN
    IMMEDIATE) from start() until release(); it writes one feed, so a later writer's ids show the order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.held = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO feeds (url, interval_minutes, created_at) VALUES ('https://holder.example/rss', 15, ?)",
                (utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),),
            )
            self.held.set()
            self._release.wait()
            conn.execute("COMMIT")
        finally:
            conn.close()

    async def start(self) -> LockHolder:
        self._thread.start()
        assert await asyncio.to_thread(self.held.wait, 10)
        return self

    async def release(self) -> None:
        self._release.set()
        await asyncio.to_thread(self._thread.join, 10)


async def test_a_write_waits_for_another_process_lock_then_succeeds(tmp_path: Path) -> None:
    """Held well past SQLite's own per-attempt wait, the lock only delays the write: it retries, and
    goes in after the holder's commit."""
    path = tmp_path / "held.db"
    store = await Store.open(path, busy=BusyPolicy(wait_seconds=30, attempt_ms=20, max_pause_seconds=0.05))
    try:
        holder = await LockHolder(path).start()
        write = asyncio.create_task(store.feeds.add("https://mine.example/rss", name=None, interval_minutes=15, now=utcnow()))
        await asyncio.sleep(0.5)  # 25 times the per-attempt wait: a single attempt would have failed
        assert not write.done()
        await holder.release()
        feed = await asyncio.wait_for(write, 10)
        assert [f.url for f in await store.feeds.list_all()] == ["https://holder.example/rss", feed.url]
    finally:
        await store.close()


async def test_a_lock_held_forever_gives_one_clear_error_and_leaves_the_store_usable(tmp_path: Path) -> None:
    """After the bounded wait: DatabaseBusy (a StoreError, so the CLI prints its one line), never a
    raw OperationalError; once the other process is done, the same store writes again."""
    path = tmp_path / "held.db"
    store = await Store.open(path, busy=FAST)
    try:
        holder = await LockHolder(path).start()
        try:
            with pytest.raises(DatabaseBusy) as caught:
                await store.feeds.add("https://mine.example/rss", name=None, interval_minutes=15, now=utcnow())
        finally:
            await holder.release()
        assert isinstance(caught.value, StoreError)
        message = str(caught.value)
        assert "\n" not in message and "is busy" in message and "try again" in message and str(path) in message
        await store.feeds.add("https://mine.example/rss", name=None, interval_minutes=15, now=utcnow())
        assert await store.feeds.count() == 2
    finally:
        await store.close()


def _canonical(data: Any, ids: dict[int, int] | None = None) -> Any:
    """JSON with story ids replaced by their order of appearance ("since" and the header, which name
    the moment of asking, left out): an answer from the overlay and one from the stored analysis
    must then be equal."""
    ids = {} if ids is None else ids
    if isinstance(data, list):
        return [_canonical(item, ids) for item in data]
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        if key in {"since", "header"}:
            continue
        if key == "story_id" or (key == "id" and "sources" in data and value is not None):
            out[key] = None if value is None else ids.setdefault(value, len(ids))
        else:
            out[key] = _canonical(value, ids)
    return out


async def answers(store: Store) -> dict[str, Any]:
    day = timedelta(hours=48)  # the sample story: its syndicated copy is a day old
    _, latest = await stories.latest(store, TOPIC, 20)
    return {
        "summary": _canonical((await stories.summary(store, TOPIC, day)).as_json()),
        "sources": _canonical((await stories.sources(store, TOPIC, day)).as_json()),
        "timeline": _canonical((await stories.timeline(store, TOPIC, timedelta(days=7))).as_json()),
        "latest": _canonical([report_json(r) for r in latest]),
        "search": _canonical([h.as_json() for h in await stories.search(store, "Kremlin OR Witkoff")]),
    }


async def test_reads_answer_while_another_process_writes_as_a_refresh_would(demo_store: Store) -> None:
    """The sample reports polled, not analysed yet, and the write lock held by another process for
    good: summary, sources, timeline, latest and search answer at once, from the analysis done in
    memory, and exactly as they answer once it is stored. Nothing is stored while the lock is held;
    the first read after it is free stores it."""
    store = await Store.open(demo_store.path, busy=FAST)  # a second process, in effect
    try:
        assert await store.stories.pending(1)
        holder = await LockHolder(store.path).start()
        try:
            in_memory = await answers(store)
            assert await store.stories.pending(1)  # nothing stored
        finally:
            await holder.release()
        assert in_memory["sources"]["stories"] and in_memory["summary"]["points"]
        assert any(s["copy_of"] for s in in_memory["sources"]["sources"])  # the syndicated copy is found
        stored = await answers(store)
        assert not await store.stories.pending(1)  # the lock was free: the read stored the analysis
        assert stored == in_memory
        assert await answers(store) == stored
    finally:
        await store.close()


async def test_a_copy_relinked_in_memory_reads_as_stored(store: Store, tmp_path: Path) -> None:
    """A copy analysed and stored first, its earlier original pending while another process writes:
    the overlay makes the stored copy a copy of the new original, as the refresh then stores it."""
    text = ("Port workers in the northern harbour walked out on Monday over pay, halting container traffic "
            "and stranding dozens of ships at anchor near Kyiv, union leaders said of the peace plan talks. ") * 2  # fmt: skip
    now = utcnow()
    copy_feed = await store.feeds.add("https://copy.example/rss", name="Copy Daily", interval_minutes=15, now=now)
    orig_feed = await store.feeds.add("https://orig.example/rss", name="Origin Wire", interval_minutes=15, now=now)
    copy = Entry("c", "https://copy.example/s", "Witkoff peace plan: port strike halts traffic", text, None, "en",
                 now - timedelta(hours=1), None)  # fmt: skip
    original = Entry("o", "https://orig.example/s", "Witkoff peace plan: port strike halts container traffic", text,
                     None, "en", now - timedelta(hours=3), None)  # fmt: skip
    async with store.transaction() as db:
        c = await store.reports.save_batch(db, feed_id=copy_feed.id, outlet="Copy Daily", entries=[copy], now=now)
        await store.topics.match_reports(db, c.new_ids, [], now)
    await refresh_stories(store)
    async with store.transaction() as db:
        o = await store.reports.save_batch(db, feed_id=orig_feed.id, outlet="Origin Wire", entries=[original], now=now)
        await store.topics.match_reports(db, o.new_ids, [], now)
    reader = await Store.open(store.path, busy=FAST)
    try:
        holder = await LockHolder(store.path).start()
        try:
            listing = await stories.sources(reader, TOPIC, timedelta(hours=24))
        finally:
            await holder.release()
        copy_of = {s.report.id: s.report.copy_of for g in listing.stories for s in g.sources}
        assert copy_of == {o.new_ids[0]: None, c.new_ids[0]: o.new_ids[0]}
        assert len(listing.stories) == 1 and listing.stories[0].sources[0].first
        stored = await stories.sources(reader, TOPIC, timedelta(hours=24))
        assert _canonical(stored.as_json()) == _canonical(listing.as_json())
    finally:
        await reader.close()


async def test_two_refreshes_at_once_store_each_report_once(demo_store: Store) -> None:
    """Two processes refreshing together both analyse before taking the lock; the second to store
    sees the first's work (the analysis generation moved) and stores nothing twice."""
    other = await Store.open(demo_store.path)
    try:
        reports = await demo_store.reports.count()
        first, second = await asyncio.gather(refresh_stories(demo_store), refresh_stories(other))
        assert first.analysed + second.analysed == reports
        assert first.new_stories + second.new_stories == await demo_store.scalar("SELECT count(*) FROM stories")
        assert await demo_store.scalar("SELECT count(*) FROM report_analysis") == reports
    finally:
        await other.close()
