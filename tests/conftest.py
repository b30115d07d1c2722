"""Shared fixtures: a real SQLite file per test, a real HTTP server on 127.0.0.1 with routes a test
programs, a real SMTP server (tests/smtp_server.py), and the third-party corpus in ../shared (skipped
with a clear reason when absent)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from planwatch.config import Settings, load_settings
from planwatch.ingest.poller import Poller, PollResult
from planwatch.store import Store
from tests.smtp_server import smtp  # noqa: F401  (the fixture: a real aiosmtpd server per test that asks for it)

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path in ../shared; the test is skipped, saying why, when that folder is not beside the repo."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: clone the project with ../shared beside it to run this test")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        env={},
        db_path=tmp_path / "planwatch.db",
        allow_private_feeds=True,
        fetch_timeout_seconds=5.0,
        connect_timeout_seconds=2.0,
        outbox_dir=tmp_path / "outbox",
        # Tests parse in a thread (no worker start-up per Poller); test_poll_workers covers processes.
        parse_workers=0,
    )


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    opened = await Store.open(settings.db_path)
    try:
        yield opened
    finally:
        await opened.close()


RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FeedServer:
    """A real aiohttp server on 127.0.0.1; tests add routes and read back the requests it got."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.routes: dict[str, RouteHandler] = {}
        self.requests: list[web.Request] = []
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        handler = self.routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        return await handler(request)

    def route(self, path: str, handler: RouteHandler) -> str:
        self.routes[path] = handler
        return self.url(path)

    def static(self, path: str, body: bytes, content_type: str = "application/rss+xml", **headers: str) -> str:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=body, headers={"Content-Type": content_type, **headers})

        return self.route(path, handler)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def hits(self, path: str) -> list[web.Request]:
        return [r for r in self.requests if r.path == path]

    async def start(self) -> None:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def rss(items: list[dict[str, str]], title: str = "Test Outlet", link: str = "https://outlet.example/") -> bytes:
    """A small RSS 2.0 document; item values are inserted as given (escape them yourself)."""
    parts = []
    for item in items:
        fields = "".join(f"<{k}>{v}</{k}>" for k, v in item.items())
        parts.append(f"<item>{fields}</item>")
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>{link}</link>{''.join(parts)}</channel></rss>"
    ).encode()


async def poll_feed(store: Store, settings: Settings, feed_id: int) -> PollResult:
    """Poll one feed with a poller of its own (closed afterwards), as the scheduler would."""
    poller = Poller(store, settings)
    try:
        return await poller.poll_one(await store.feeds.get(feed_id))
    finally:
        await poller.close()


@pytest.fixture
async def demo_store(store: Store, settings: Settings) -> AsyncIterator[Store]:
    """The sample feeds (our own wording) polled from the loopback demo server into a fresh store."""
    from planwatch.demo.server import DemoServer, sample_feed_names
    from planwatch.services.feeds import add_feed

    server = DemoServer()
    await server.start()
    poller = Poller(store, settings)
    try:
        for name in sample_feed_names():
            await add_feed(store, settings, server.url(name))
        results = await poller.poll_once()
        assert all(r.outcome == "new" for r in results)
        yield store
    finally:
        await poller.close()
        await server.stop()
