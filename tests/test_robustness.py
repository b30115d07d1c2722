"""The service under stress and misuse: shutdown, fairness between hosts, races between feeds and
processes, cancellation mid-transaction, reused ids, and the demo near a real database."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from aiohttp import web

from planwatch.config import Settings, load_settings
from planwatch.demo.run import run_demo
from planwatch.errors import ConfigError, UsageError
from planwatch.ingest.poller import Poller
from planwatch.models import Entry
from planwatch.services.feeds import add_feed, import_starter_feeds, remove_feed
from planwatch.services.topics import add_topic
from planwatch.store import Store
from planwatch.timeutil import utcnow
from tests.conftest import FeedServer, RouteHandler, rss


def slow_feed(n: int, delay: float, hits: list[str]) -> RouteHandler:
    async def handler(request: web.Request) -> web.Response:
        hits.append(f"{request.host}{request.path}")
        await asyncio.sleep(delay)
        return web.Response(
            body=rss([{"title": f"Story {n}", "link": f"https://o{n}.example/"}]), content_type="application/rss+xml"
        )

    return handler


async def test_stop_does_not_start_feeds_still_queued(store: Store, settings: Settings, feed_server: FeedServer) -> None:
    """After stop(), feeds waiting for a slot are not fetched; the one under way finishes and commits."""
    settings = settings.with_overrides(poll_per_host=1)
    hits: list[str] = []
    for n in range(6):
        await add_feed(store, settings, feed_server.route(f"/q{n}.xml", slow_feed(n, 0.3, hits)))
    poller = Poller(store, settings)
    try:
        polling = asyncio.create_task(poller.poll_once())
        while not hits:
            await asyncio.sleep(0.01)
        poller.stop()
        results = await polling
    finally:
        await poller.close()
    assert len(hits) == 1
    assert sum(r.outcome == "new" for r in results) == 1
    assert sum(r.error == "shutting down" for r in results) == 5
    assert all(f.consecutive_failures == 0 for f in await store.feeds.list_all())  # not counted as failures


async def test_a_busy_host_does_not_starve_other_hosts(store: Store, settings: Settings, feed_server: FeedServer) -> None:
    """Waiting for a busy host's slot holds no global slot: another host's feed is served early."""
    settings = settings.with_overrides(poll_per_host=1, poll_concurrency=2)
    hits: list[str] = []
    for n in range(4):
        await add_feed(store, settings, feed_server.route(f"/busy{n}.xml", slow_feed(n, 0.2, hits)))
    other = feed_server.url("/other.xml").replace("127.0.0.1", "localhost")
    feed_server.route("/other.xml", slow_feed(99, 0.0, hits))
    await add_feed(store, settings, other)
    poller = Poller(store, settings)
    try:
        results = await poller.poll_once()
    finally:
        await poller.close()
    assert all(r.outcome == "new" for r in results)
    assert any(h.startswith("localhost") for h in hits[:2]), hits


async def test_two_feeds_redirected_to_one_url(store: Store, settings: Settings, feed_server: FeedServer) -> None:
    """Both permanent redirects land on one URL in the same poll: one feed moves, both store, no crash."""
    target = feed_server.static("/final.xml", rss([{"title": "Moved story", "link": "https://m.example/1"}]))

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(target)

    for n in range(2):
        await add_feed(store, settings, feed_server.route(f"/old{n}.xml", moved))
    poller = Poller(store, settings)
    try:
        results = await poller.poll_once()
    finally:
        await poller.close()
    assert {r.outcome for r in results} <= {"new", "unchanged"}
    urls = [f.url for f in await store.feeds.list_all()]
    assert urls.count(target) == 1 and len(set(urls)) == 2


async def test_a_reused_feed_id_does_not_inherit_guids(store: Store, settings: Settings) -> None:
    """SQLite reuses the id of a removed newest feed; the new feed's guid g1 is a different story."""
    now = utcnow()
    first = await store.feeds.add("https://a.example/rss", name="A", interval_minutes=15, now=now)
    old = Entry("g1", None, "A's story about the budget", "", None, None, now, None)
    async with store.transaction() as db:
        await store.reports.save_batch(db, feed_id=first.id, outlet="A", entries=[old], now=now)
    await remove_feed(store, str(first.id))
    second = await store.feeds.add("https://b.example/rss", name="B", interval_minutes=15, now=now)
    assert second.id == first.id
    new = Entry("g1", None, "B's story about the harbour", "", None, None, now, None)
    async with store.transaction() as db:
        result = await store.reports.save_batch(db, feed_id=second.id, outlet="B", entries=[new], now=now)
    assert result.new == 1 and await store.reports.count() == 2


async def test_cancelled_while_waiting_for_the_write_lock(tmp_path: Path) -> None:
    """A transaction cancelled while BEGIN waits for another process's lock leaves the store usable."""
    path = tmp_path / "lock.db"
    store = await Store.open(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:

        async def write() -> None:
            async with store.transaction() as db:
                await db.execute("INSERT INTO service_state VALUES ('k', 'v', 'now')")

        task = asyncio.create_task(write())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        other.execute("ROLLBACK")
        other.close()
    await store.state.set("after", "ok", utcnow())  # the connection is not stuck in a transaction
    assert await store.state.get("after") == "ok" and await store.state.get("k") is None
    await store.close()


async def test_two_processes_migrating_a_new_database(tmp_path: Path) -> None:
    """Several openers of a fresh file at once: every migration applied exactly once, none fails."""
    for trial in range(5):
        path = tmp_path / f"race{trial}.db"
        stores = await asyncio.gather(*(Store.open(path) for _ in range(3)))
        versions = await stores[0].fetchall("SELECT version FROM schema_migrations ORDER BY version")
        assert [v[0] for v in versions] == list(range(1, len(versions) + 1))
        for s in stores:
            await s.close()


async def test_deeply_nested_or_huge_queries_are_refused(store: Store) -> None:
    """Nesting or length that would overflow the parser is a usage error, never an internal one."""
    with pytest.raises(UsageError, match="nested more than"):
        await add_topic(store, "deep", "(" * 300 + "a" + ")" * 300)
    with pytest.raises(UsageError, match="more than 200 terms"):
        await add_topic(store, "wide", " OR ".join("t" for _ in range(300)))


async def test_demo_never_deletes_a_database_it_did_not_make(tmp_path: Path, settings: Settings) -> None:
    """`planwatch --db prod.db demo` refuses instead of wiping prod.db; its own file it replaces."""
    prod = tmp_path / "prod.db"
    async with await Store.open(prod) as store:
        await add_topic(store, "mine", "budget")
    with pytest.raises(UsageError, match="refusing to overwrite"):
        await run_demo(settings.with_overrides(db_path=prod), lambda _: None)
    async with await Store.open(prod) as store:
        assert [t.name for t in await store.topics.list_all()] == ["ukraine-peace-plan", "mine"]
    demo = tmp_path / "demo.db"
    for _ in range(2):
        assert await run_demo(settings.with_overrides(db_path=demo), lambda _: None) == 0


async def test_starter_feeds_do_not_come_back(store: Store, settings: Settings) -> None:
    """Removing every starter feed is respected: the next start imports nothing."""
    result = await import_starter_feeds(store, settings)
    assert result is not None and result.added
    for feed in await store.feeds.list_all():
        await store.feeds.remove(feed.id)
    assert await import_starter_feeds(store, settings) is None and await store.feeds.count() == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PLANWATCH_MAX_BACKOFF_HOURS": "-1"}, "max_backoff_hours"),
        ({"PLANWATCH_CONNECT_TIMEOUT": "0"}, "connect_timeout"),
    ],
)
def test_settings_that_would_hammer_a_server_are_refused(env: dict[str, str], message: str) -> None:
    """A negative backoff would poll a failing feed every tick."""
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)


def test_percent_encoded_smtp_password_is_scrubbed_in_both_forms() -> None:
    """p%40ss%2Fw in the URL is p@ss/w on the wire: both spellings are secrets."""
    settings = load_settings(env={"PLANWATCH_SMTP_URL": "smtp://me:p%40ss%2Fw@mail.example:587"})
    assert {"p%40ss%2Fw", "p@ss/w"} <= set(settings.secret_values)
