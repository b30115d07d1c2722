"""The long-running service: the real APScheduler ticks, polls what is due, and stops cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from planwatch.config import Settings
from planwatch.demo.run import run_demo
from planwatch.service import Service, health, run_service
from planwatch.services.feeds import add_feed, import_starter_feeds
from planwatch.store import Store
from tests.conftest import FeedServer, rss

ITEMS = [{"title": f"Peace plan report {n} on Ukraine and Witkoff", "link": f"https://o.example/{n}"} for n in range(3)]


async def wait_for(predicate: object, timeout: float = 10.0) -> None:
    assert callable(predicate)
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_scheduler_tick_polls_due_feeds_and_records_health(
    store: Store, settings: Settings, feed_server: FeedServer
) -> None:
    """Started, the scheduler polls at once; the tick is recorded for the health check."""
    settings = settings.with_overrides(poll_tick_seconds=1)
    await add_feed(store, settings, feed_server.static("/f.xml", rss(ITEMS)))
    service = Service(store, settings)
    service.start()
    try:

        async def stored() -> bool:
            return await store.reports.count() == 3

        await wait_for(stored)
        assert service.scheduler.get_job("poll") is not None
    finally:
        await service.stop()
    assert not service.scheduler.running
    ok, message = await health(settings)
    assert ok, message
    feed = (await store.feeds.list_all())[0]
    assert feed.next_poll_at is not None and feed.status == "ok"
    # Not due again for ~15 minutes: another tick polls nothing.
    assert await service.poller.store.feeds.due(feed.last_polled_at or feed.created_at) == []


async def test_stop_waits_for_the_poll_under_way(store: Store, settings: Settings, feed_server: FeedServer) -> None:
    """Shutdown during a slow fetch lets that feed finish and commit; no new feed starts."""
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(body=rss(ITEMS), content_type="application/rss+xml")

    await add_feed(store, settings, feed_server.route("/slow.xml", slow))
    service = Service(store, settings)
    tick = asyncio.create_task(service.tick())
    await wait_for(lambda: _true_when(bool(feed_server.hits("/slow.xml"))))
    stopping = asyncio.create_task(service.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()  # waiting for the in-flight poll
    release.set()
    await asyncio.wait_for(stopping, 5)
    await tick
    assert await store.reports.count() == 3


async def _true_when(value: bool) -> bool:
    return value


async def test_health_fails_before_any_tick(settings: Settings, store: Store) -> None:
    """A service that never ticked is not healthy."""
    ok, message = await health(settings)
    assert not ok and "not ticked" in message


async def test_run_service_stops_on_event(settings: Settings, feed_server: FeedServer) -> None:
    """run_service polls, then returns 0 when told to stop."""
    settings = settings.with_overrides(import_starter_feeds=False, poll_tick_seconds=1)
    async with await Store.open(settings.db_path) as store:
        await add_feed(store, settings, feed_server.static("/r.xml", rss(ITEMS)))
    stop = asyncio.Event()
    task = asyncio.create_task(run_service(settings, stop))
    await wait_for(lambda: _true_when(bool(feed_server.hits("/r.xml"))))
    await asyncio.sleep(0.2)
    stop.set()
    assert await asyncio.wait_for(task, 10) == 0
    async with await Store.open(settings.db_path) as store:
        assert await store.reports.count() == 3


async def test_starter_feeds_imported_once_into_an_empty_database(store: Store, settings: Settings) -> None:
    """An empty database gets the bundled starter list (without fetching it); a second call adds nothing."""
    result = await import_starter_feeds(store, settings)
    assert result is not None and len(result.added) >= 12 and not result.skipped
    urls = {f.url for f in await store.feeds.list_all()}
    assert "https://kyivindependent.com/news-archive/rss/" in urls and "https://tass.com/rss/v2.xml" in urls
    assert await import_starter_feeds(store, settings) is None
    assert await import_starter_feeds(store, settings.with_overrides(import_starter_feeds=False)) is None


async def test_demo_stores_the_sample_story(tmp_path: Path, settings: Settings) -> None:
    """The demo polls its sample feeds: copies stored once, decoys unmatched, hostile markup gone."""
    lines: list[str] = []
    db = tmp_path / "demo.db"
    assert await run_demo(settings.with_overrides(db_path=db, allow_private_feeds=False), lines.append) == 0
    output = "\n".join(lines)
    assert "error" not in output
    async with await Store.open(db) as store:
        reports = await store.reports.recent(limit=100)
        by_title = {r.title: r for r in reports}
        # The Steppe Dispatch re-post of the Northbridge story (same text, new URL) is one report.
        axios = [r for r in reports if r.title.startswith("US and Russian envoys drafted")]
        assert len(axios) == 1 and axios[0].outlet == "The Northbridge Herald"
        # Decoys stay out of the topic; plan stories are in.
        for title, r in by_title.items():
            decoy = any(w in title for w in ("grain", "World Cup", "Gaza", "Erdogan"))
            assert ("ukraine-peace-plan" in r.topics) != decoy, title
        # Hostile markup is gone from the stored title; Latin-1 text decoded.
        assert any(t.startswith("Plan @everyone **28-point** plan leaked") for t in by_title)
        assert not any("<script" in r.title or "<script" in r.text for r in reports)
        assert any("é" in (r.author or "") + r.text for r in reports if r.outlet == "Moscow Courier")
        # A relative link was resolved against the feed's own URL (the XML base of the document).
        leak = by_title["Plan @everyone **28-point** plan leaked"]
        assert leak.url is not None and leak.url.startswith("http://127.0.0.1:")
        assert leak.url.endswith("/news/28-point-plan-leak")
