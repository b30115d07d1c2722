"""A real `planwatch poll --once` process killed (SIGKILL) mid-poll loses nothing and duplicates nothing."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from aiohttp import web

from planwatch.store import Store
from planwatch.timeutil import utcnow
from tests.conftest import FeedServer, RouteHandler, rss

FEEDS = 12
ITEMS = 5


async def test_killed_mid_poll_then_rerun_stores_each_report_once(tmp_path: Path, feed_server: FeedServer) -> None:
    """Feeds committed before the kill stay; those in flight are polled again; no report is stored twice."""
    release = asyncio.Event()

    def handler_for(n: int) -> RouteHandler:
        body = rss(
            [{"title": f"Feed {n} story {i}", "link": f"https://o{n}.example/{i}"} for i in range(ITEMS)],
            title=f"Outlet {n}",
        )

        async def handler(request: web.Request) -> web.Response:
            if n >= FEEDS // 2:
                await release.wait()  # the second half hangs until the process is dead
            return web.Response(body=body, content_type="application/rss+xml")

        return handler

    db = tmp_path / "crash.db"
    async with await Store.open(db) as store:
        for n in range(FEEDS):
            url = feed_server.route(f"/f{n}.xml", handler_for(n))
            await store.feeds.add(url, name=None, interval_minutes=15, now=utcnow())

    env = {**os.environ, "PLANWATCH_ALLOW_PRIVATE_FEEDS": "1", "PLANWATCH_PARSE_WORKERS": "0"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "planwatch.cli", "--db", str(db), "poll", "--once",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        # Wait until the fast half is committed and the slow half is in flight.
        for _ in range(200):
            async with await Store.open(db) as store:
                stored = await store.reports.count()
            if stored == (FEEDS // 2) * ITEMS and len(feed_server.requests) >= FEEDS // 2 + 1:
                break
            await asyncio.sleep(0.05)
        assert stored == (FEEDS // 2) * ITEMS
    finally:
        proc.kill()
        await proc.wait()
        release.set()
    assert proc.returncode == -9

    rerun = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "planwatch.cli", "--db", str(db), "poll", "--once",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(rerun.communicate(), 60)
    assert rerun.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert sum(f"{ITEMS} new" in line for line in lines) == FEEDS // 2  # only the interrupted half is new
    async with await Store.open(db) as store:
        assert await store.reports.count() == FEEDS * ITEMS
        distinct = await store.scalar("SELECT count(DISTINCT url) FROM reports")
        assert distinct == FEEDS * ITEMS
        assert {f.status for f in await store.feeds.list_all()} == {"ok"}
