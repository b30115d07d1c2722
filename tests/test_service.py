"""The long-running service: the real APScheduler ticks, polls what is due, and stops cleanly."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from planwatch.config import Settings
from planwatch.demo.run import run_demo
from planwatch.health import health
from planwatch.service import Service, run_service
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
    # A clean stop is recorded: health fails at once, not when the heartbeat has aged.
    ok, message = await health(settings)
    assert not ok and message.startswith("the service stopped at ")
    # Started again, it is healthy again.
    stop = asyncio.Event()
    task = asyncio.create_task(run_service(settings, stop))
    try:

        async def healthy() -> bool:
            return (await health(settings))[0]

        await wait_for(healthy)
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0


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
        # The Steppe Dispatch re-post of the Northbridge story (same text, its own URL) is the Steppe
        # Dispatch's report, a copy of the Northbridge one: the outlet's reach is kept, not its claim.
        axios = sorted((r for r in reports if r.title.startswith("US and Russian envoys drafted")), key=lambda r: r.id)
        assert [r.outlet for r in axios] == ["The Northbridge Herald", "Steppe Dispatch"]
        analysed = await store.stories.reports_by_id([r.id for r in axios])
        assert analysed[axios[1].id].copy_of == axios[0].id and analysed[axios[0].id].copy_of is None
        # Decoys stay out of the topic; plan stories are in.
        for title, r in by_title.items():
            decoy = any(w in title for w in ("grain", "World Cup", "Gaza", "Erdogan"))
            assert ("ukraine-peace-plan" in r.topics or title.startswith("Swiss talks")) != decoy, title
        # The day-three Swiss talks report says neither "28-point" nor "peace plan": only tracking (its
        # story) brings it in, and the demo says so, with the command that explains it.
        geneva = next(r for t, r in by_title.items() if t.startswith("Swiss talks"))
        topic = await store.topics.get("ukraine-peace-plan")
        assert await store.topics.matched_by(topic.id, geneva.id) in ("story", "profile")
        assert f"#{geneva.id} The Northbridge Herald: Swiss talks" in output
        assert f"topics explain ukraine-peace-plan {geneva.id}" in output
        # Hostile markup is gone from the stored title; Latin-1 text decoded.
        assert any(t.startswith("Plan @everyone **28-point** plan leaked") for t in by_title)
        assert not any("<script" in r.title or "<script" in r.text for r in reports)
        assert any("é" in (r.author or "") + r.text for r in reports if r.outlet == "Moscow Courier")
        # A relative link was resolved against the feed's own URL (the XML base of the document).
        leak = by_title["Plan @everyone **28-point** plan leaked"]
        assert leak.url is not None and leak.url.startswith("http://127.0.0.1:")
        assert leak.url.endswith("/news/28-point-plan-leak")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_busy_web_port_is_reported_and_polling_goes_on(
    settings: Settings, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds the web port: the service keeps polling, and health says the web is down
    (confirm and unsubscribe links do not work). The port differs from the default public URL's: one warning."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = settings.with_overrides(import_starter_feeds=False, poll_tick_seconds=1, web_port=port)
        async with await Store.open(settings.db_path) as store:
            await add_feed(store, settings, feed_server.static("/busy.xml", rss(ITEMS)))
        stop = asyncio.Event()
        task = asyncio.create_task(run_service(settings, stop))
        try:

            async def reported() -> bool:
                ok, message = await health(settings)
                return not ok and message == f"web: down (port {port} in use)"

            await wait_for(reported)
            await wait_for(lambda: _true_when(bool(feed_server.hits("/busy.xml"))))
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 10) == 0
    wrong_port = [r for r in caplog.records if r.levelno == logging.WARNING and "point at the wrong port" in r.getMessage()]
    assert len(wrong_port) == 1


async def test_healthz_reports_the_web_server(settings: Settings) -> None:
    """/healthz, served by the running service, names the web server's state with the others."""
    port = free_port()
    settings = settings.with_overrides(import_starter_feeds=False, web_port=port, public_url=f"http://localhost:{port}")
    stop = asyncio.Event()
    task = asyncio.create_task(run_service(settings, stop))
    try:
        async with aiohttp.ClientSession() as client:

            async def answered() -> bool:
                try:
                    async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                        return response.status == 200
                except aiohttp.ClientConnectionError:
                    return False

            await wait_for(answered)
            async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                data = await response.json()
        assert data["status"] == "ok" and data["web"] == "up" and data["scheduler"] == "running"
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0


def _child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test's environment without the operator's Planwatch or Discord settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANWATCH_", "DISCORD_"))}
    return {**env, "PLANWATCH_OUTBOX": str(tmp_path / "outbox"), **extra}


async def test_ctrl_c_stops_planwatch_run_without_a_traceback(
    tmp_path: Path, settings: Settings, feed_server: FeedServer
) -> None:
    """Ctrl-C signals the whole process group, parse worker included: the worker ignores it, the service
    finishes and stops it, the exit is clean with no traceback, and `health` fails at once."""
    db = tmp_path / "run.db"
    async with await Store.open(db) as store:
        await add_feed(store, settings, feed_server.static("/run.xml", rss(ITEMS)))
    port = free_port()
    env = _child_env(
        tmp_path, PLANWATCH_ALLOW_PRIVATE_FEEDS="1", PLANWATCH_PARSE_WORKERS="1", PLANWATCH_WEB_PORT=str(port),
        PLANWATCH_PUBLIC_URL=f"http://localhost:{port}",
    )  # fmt: skip
    command = [sys.executable, "-m", "planwatch.cli", "--db", str(db)]
    proc = await asyncio.create_subprocess_exec(
        *command, "run", "--no-starter-feeds", cwd=tmp_path, env=env, start_new_session=True,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    seen: list[bytes] = []
    try:
        async with asyncio.timeout(60):
            while b"tick: polled 1 feeds" not in (line := await proc.stderr.readline()):
                assert line, b"".join(seen).decode()
                seen.append(line)
            seen.append(line)
            os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
            _, rest = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stderr = (b"".join(seen) + rest).decode()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert "stopped" in stderr.splitlines()[-1]
    checked = await asyncio.create_subprocess_exec(
        *command, "health", cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await checked.communicate()
    assert checked.returncode == 1 and not out
    assert err.decode().startswith("unhealthy: the service stopped at ") and err.count(b"\n") == 1
