"""Parsing in a worker process (the default): same results, and a killed worker costs one poll only."""

from __future__ import annotations

import asyncio
import os
import signal
from concurrent.futures import ProcessPoolExecutor

from aiohttp import web

from planwatch.config import Settings
from planwatch.ingest.poller import Poller
from planwatch.services.feeds import add_feed
from planwatch.store import Store
from tests.conftest import FeedServer, poll_feed, rss


def items(prefix: str) -> list[dict[str, str]]:
    return [{"title": f"{prefix} report {n}", "link": f"https://o.example/{prefix}/{n}"} for n in range(4)]


async def test_worker_process_parses_and_recovers_from_a_crash(store: Store, settings: Settings, feed_server: FeedServer) -> None:
    """With parse_workers=1 feeds parse in another process; if it dies, the next poll starts a new one."""
    settings = settings.with_overrides(parse_workers=1)
    body = {"value": rss(items("first"))}

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body["value"], content_type="application/rss+xml")

    feed = await add_feed(store, settings, feed_server.route("/w.xml", handler))
    poller = Poller(store, settings)
    try:
        first = await poller.poll_one(await store.feeds.get(feed.id))
        assert (first.outcome, first.new) == ("new", 4)
        pool = poller._executor
        assert isinstance(pool, ProcessPoolExecutor)
        for pid in [p.pid for p in pool._processes.values() if p.pid is not None]:  # the worker dies, as under the OOM killer
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        body["value"] = rss(items("second"))
        crashed = await poller.poll_one(await store.feeds.get(feed.id))
        assert crashed.outcome == "error" and "parser process stopped" in (crashed.error or "")
        recovered = await poller.poll_one(await store.feeds.get(feed.id))
        assert (recovered.outcome, recovered.new) == ("new", 4)
        assert poller._executor is not pool
    finally:
        await poller.close()
    assert await store.reports.count() == 8


async def test_parse_errors_cross_the_process_boundary(store: Store, settings: Settings, feed_server: FeedServer) -> None:
    """A not-a-feed error raised in the worker process arrives whole, as the feed's last_error."""
    settings = settings.with_overrides(parse_workers=1)
    url = feed_server.static("/page", b"<!doctype html><html><body>Our site</body></html>", content_type="text/html")
    feed = await add_feed(store, settings, url)
    result = await poll_feed(store, settings, feed.id)
    assert result.outcome == "error"
    assert (await store.feeds.get(feed.id)).last_error == (
        "not a feed: the server sent an HTML page (is the URL the site, not its feed?)"
    )
