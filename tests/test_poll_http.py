"""The real Fetcher and Poller against a real HTTP server on 127.0.0.1: conditional GET, errors and
backoff, pausing, timeouts, size caps, redirects, not-a-feed bodies, encodings, the address guard,
the per-host bound, and versioned updates. Everything is checked through the store."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from planwatch import PROJECT_URL, __version__
from planwatch.config import Settings
from planwatch.errors import UsageError
from planwatch.ingest.fetch import Fetcher
from planwatch.ingest.poller import Poller, PollResult
from planwatch.models import Feed, Report
from planwatch.services.feeds import add_feed
from planwatch.store import Store
from planwatch.timeutil import utcnow
from tests.conftest import FeedServer, RouteHandler, rss

ITEMS = [
    {"title": "Ceasefire talks resume in Geneva", "link": "https://outlet.example/a", "guid": "a"},
    {"title": "Envoys meet again on the peace plan", "link": "https://outlet.example/b", "guid": "b"},
]
LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"


class PollerFactory(Protocol):
    def __call__(self, *, clock: Callable[[], datetime] | None = None, **overrides: Any) -> Poller: ...


@pytest.fixture
async def make_poller(store: Store, settings: Settings) -> AsyncIterator[PollerFactory]:
    """Pollers on the test's store with settings overrides; every one is closed at teardown."""
    made: list[Poller] = []

    def make(*, clock: Callable[[], datetime] | None = None, **overrides: Any) -> Poller:
        poller = Poller(store, settings.with_overrides(**overrides), clock=clock or utcnow)
        made.append(poller)
        return poller

    try:
        yield make
    finally:
        for poller in made:
            await poller.close()


async def poll(poller: Poller, store: Store, feed_id: int) -> tuple[PollResult, Feed]:
    """Poll one feed as it is stored now; return the result and the feed's state afterwards."""
    result = await poller.poll_one(await store.feeds.get(feed_id))
    return result, await store.feeds.get(feed_id)


async def all_reports(store: Store) -> list[Report]:
    return await store.reports.recent(limit=10_000)


def fixed_clock(now: datetime) -> Callable[[], datetime]:
    return lambda: now


# --- 1, 2: conditional GET and unchanged bodies ----------------------------------------------------------


def _conditional(server: FeedServer, path: str, **not_modified_headers: str) -> str:
    """A route that serves ITEMS with an ETag and Last-Modified, and a 304 when the ETag comes back."""
    body = rss(ITEMS)

    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers=not_modified_headers)
        return web.Response(
            body=body,
            headers={"Content-Type": "application/rss+xml", "ETag": '"v1"', "Last-Modified": LAST_MODIFIED},
        )

    return server.route(path, handler)


async def test_conditional_get_sends_validators_and_304_stores_nothing(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """ETag/Last-Modified are stored, sent back as If-None-Match/If-Modified-Since, and a 304 is a quiet success."""
    url = _conditional(feed_server, "/cond.xml", ETag='"v1"', **{"Last-Modified": LAST_MODIFIED})
    feed = await add_feed(store, settings, url)
    poller = make_poller()

    first, state = await poll(poller, store, feed.id)
    assert first.outcome == "new" and first.new == 2
    assert state.etag == '"v1"' and state.last_modified == LAST_MODIFIED
    assert await store.reports.count() == 2

    second, state = await poll(poller, store, feed.id)
    hits = feed_server.hits("/cond.xml")
    assert len(hits) == 2
    assert "If-None-Match" not in hits[0].headers and "If-Modified-Since" not in hits[0].headers
    assert hits[1].headers["If-None-Match"] == '"v1"'
    assert hits[1].headers["If-Modified-Since"] == LAST_MODIFIED
    assert second.outcome == "not-modified"
    assert (second.new, second.updated, second.unchanged) == (0, 0, 0)
    assert await store.reports.count() == 2
    assert state.consecutive_failures == 0 and state.last_error is None and state.last_status == 304
    assert state.etag == '"v1"' and state.last_modified == LAST_MODIFIED


async def test_304_keeps_the_validator_it_does_not_repeat(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """A 304 that repeats only the ETag (as RFC 9110 allows) must not erase the stored Last-Modified."""
    feed = await add_feed(store, settings, _conditional(feed_server, "/etag-only.xml", ETag='"v1"'))
    poller = make_poller()

    await poll(poller, store, feed.id)
    second, state = await poll(poller, store, feed.id)
    assert second.outcome == "not-modified"
    assert state.etag == '"v1"'
    assert state.last_modified == LAST_MODIFIED
    third, _ = await poll(poller, store, feed.id)
    assert third.outcome == "not-modified"
    assert feed_server.hits("/etag-only.xml")[2].headers.get("If-Modified-Since") == LAST_MODIFIED


async def test_same_body_without_validators_is_unchanged_without_parsing(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """A byte-identical body (no ETag) is recognised by its hash: outcome 'unchanged', nothing parsed or stored."""
    feed = await add_feed(store, settings, feed_server.static("/same.xml", rss(ITEMS)))
    poller = make_poller()

    first, _ = await poll(poller, store, feed.id)
    assert first.outcome == "new" and first.new == 2
    second, state = await poll(poller, store, feed.id)
    assert len(feed_server.hits("/same.xml")) == 2
    assert second.outcome == "unchanged"
    assert (second.new, second.updated, second.unchanged, second.merged, second.matched) == (0, 0, 0, 0, 0)
    assert await store.reports.count() == 2
    assert state.consecutive_failures == 0 and state.last_error is None and state.body_hash is not None


# --- 3, 4, 5: errors, backoff, pausing ---------------------------------------------------------------------


def _status(server: FeedServer, path: str, status: int, **headers: str) -> str:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, text="not now", headers=headers)

    return server.route(path, handler)


async def test_429_retry_after_seconds_delays_the_next_poll(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """A 429 counts as a failure and its Retry-After (in seconds) pushes next_poll_at beyond the interval."""
    settings = settings.with_overrides(poll_min_interval_minutes=1)
    url = _status(feed_server, "/busy.xml", 429, **{"Retry-After": "120"})
    feed = await add_feed(store, settings, url, interval=1)
    now = utcnow()
    poller = make_poller(clock=fixed_clock(now), poll_min_interval_minutes=1)

    result, state = await poll(poller, store, feed.id)
    assert result.outcome == "error"
    assert state.consecutive_failures == 1 and state.last_status == 429
    assert state.last_error is not None and "429" in state.last_error and "120 s" in state.last_error
    # The interval alone (1 minute) would say now + 60 s; the server asked for 120 s.
    assert state.next_poll_at == now + timedelta(seconds=120)
    assert await store.reports.count() == 0


async def test_429_retry_after_http_date_delays_the_next_poll(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """Retry-After given as an HTTP date is honoured like the seconds form."""
    settings = settings.with_overrides(poll_min_interval_minutes=1)
    when = email.utils.format_datetime(utcnow() + timedelta(seconds=600), usegmt=True)
    url = _status(feed_server, "/busy-date.xml", 429, **{"Retry-After": when})
    feed = await add_feed(store, settings, url, interval=1)
    now = utcnow()
    poller = make_poller(clock=fixed_clock(now), poll_min_interval_minutes=1)

    result, state = await poll(poller, store, feed.id)
    assert result.outcome == "error"
    assert state.consecutive_failures == 1
    assert state.last_error is not None and "429" in state.last_error
    assert state.next_poll_at is not None
    assert timedelta(seconds=590) <= state.next_poll_at - now <= timedelta(seconds=601)


async def test_server_errors_back_off_exponentially_up_to_the_cap_and_success_resets(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """503/500 failures double the wait (interval, 2x, 4x) up to max_backoff_hours; a success clears it all."""
    statuses = [503, 500, 503, 500, 200]

    async def handler(request: web.Request) -> web.Response:
        status = statuses.pop(0)
        if status == 200:
            return web.Response(body=rss(ITEMS), content_type="application/rss+xml")
        return web.Response(status=status, text="down")

    feed = await add_feed(store, settings, feed_server.route("/flaky.xml", handler))
    assert feed.interval_minutes == 15
    now = utcnow()
    poller = make_poller(clock=fixed_clock(now), max_backoff_hours=1.0)

    expected_minutes = [15, 30, 60, 60]  # interval, 2x, 4x, then capped at 1 hour (8x would be 120)
    for failures, minutes in enumerate(expected_minutes, start=1):
        if failures == 1:
            result, state = await poll(poller, store, feed.id)
        else:
            # Backing off: a normal poll_once skips the feed, force=True polls it anyway.
            assert await poller.poll_once() == []
            (result,) = await poller.poll_once(force=True)
            state = await store.feeds.get(feed.id)
        assert result.outcome == "error"
        assert state.consecutive_failures == failures
        assert state.status == "failing"
        assert state.last_status in (500, 503)
        assert state.last_error is not None and str(state.last_status) in state.last_error
        assert state.next_poll_at == now + timedelta(minutes=minutes)
    assert len(feed_server.hits("/flaky.xml")) == 4

    (result,) = await poller.poll_once(force=True)
    state = await store.feeds.get(feed.id)
    assert result.outcome == "new" and result.new == 2
    assert state.consecutive_failures == 0 and state.last_error is None and state.status == "ok"
    assert state.next_poll_at is not None
    assert timedelta(minutes=13.5) <= state.next_poll_at - now <= timedelta(minutes=16.5)  # interval +-10% jitter


async def test_feed_is_paused_after_repeated_failures(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """pause_after_failures failures in a row pause the feed, with a reason, and it is no longer polled."""

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="oops")

    feed = await add_feed(store, settings, feed_server.route("/broken.xml", broken))
    poller = make_poller(pause_after_failures=3)

    for failures in (1, 2):
        result, state = await poll(poller, store, feed.id)
        assert result.paused is None and not state.paused and state.consecutive_failures == failures
    result, state = await poll(poller, store, feed.id)
    assert result.outcome == "error" and result.paused
    assert state.paused and state.status == "paused" and state.consecutive_failures == 3
    assert state.paused_reason is not None and "3 failures" in state.paused_reason
    assert await poller.poll_once(force=True) == []
    assert len(feed_server.hits("/broken.xml")) == 3


async def test_410_gone_pauses_at_once(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """A 410 Gone pauses the feed on the first failure, saying why."""

    async def gone(request: web.Request) -> web.Response:
        return web.Response(status=410, text="gone")

    feed = await add_feed(store, settings, feed_server.route("/gone.xml", gone))
    result, state = await poll(make_poller(), store, feed.id)
    assert result.outcome == "error" and result.paused
    assert state.paused and state.status == "paused" and state.consecutive_failures == 1
    assert state.paused_reason is not None and "410" in state.paused_reason
    assert state.last_error is not None and "410" in state.last_error


# --- 6, 7: time and size bounds ----------------------------------------------------------------------------


async def test_hanging_server_times_out(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """A server that never answers costs one fetch timeout, then a 'timed out' failure is recorded."""
    hanging: list[asyncio.Task[Any]] = []

    async def hang(request: web.Request) -> web.Response:
        task = asyncio.current_task()
        assert task is not None
        hanging.append(task)
        await asyncio.sleep(30)
        return web.Response(body=rss(ITEMS), content_type="application/rss+xml")

    feed = await add_feed(store, settings, feed_server.route("/hang.xml", hang))
    poller = make_poller(fetch_timeout_seconds=1.0)
    try:
        started = time.monotonic()
        result, state = await poll(poller, store, feed.id)
        elapsed = time.monotonic() - started
    finally:
        for task in hanging:  # let the server shut down without waiting out the sleep
            task.cancel()
    assert elapsed < 4.0
    assert result.outcome == "error"
    assert state.consecutive_failures == 1
    assert state.last_error is not None and "timed out" in state.last_error
    assert await store.reports.count() == 0


def _big_feed(size: int) -> bytes:
    padding = "x" * size
    return rss([{"title": "Huge", "link": "https://outlet.example/huge", "description": padding}])


async def test_oversized_body_is_refused(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """A body over max_body_bytes is refused, whether its length is declared or it is streamed in chunks."""
    body = _big_feed(100 * 1024)
    declared = await add_feed(store, settings, feed_server.static("/big.xml", body))

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for start in range(0, len(body), 8192):
            await resp.write(body[start : start + 8192])
        await resp.write_eof()
        return resp

    streamed = await add_feed(store, settings, feed_server.route("/big-chunked.xml", chunked))
    poller = make_poller(max_body_bytes=4096)

    for feed in (declared, streamed):
        result, state = await poll(poller, store, feed.id)
        assert result.outcome == "error"
        assert state.last_error is not None and "too large" in state.last_error
        assert state.consecutive_failures == 1 and state.body_hash is None
    assert "Transfer-Encoding" not in feed_server.hits("/big.xml")[0].headers
    assert await store.reports.count() == 0


async def test_gzip_bomb_is_refused_after_decompression(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """A small gzip body that inflates past max_body_bytes is refused as too large; nothing is stored."""
    compressed = gzip.compress(_big_feed(1024 * 1024))
    assert len(compressed) < 4096  # it is the inflated size that must count
    url = feed_server.static("/bomb.xml", compressed, **{"Content-Encoding": "gzip"})
    feed = await add_feed(store, settings, url)

    result, state = await poll(make_poller(max_body_bytes=4096), store, feed.id)
    assert result.outcome == "error"
    assert state.last_error is not None and "too large" in state.last_error
    assert state.consecutive_failures == 1 and state.body_hash is None
    assert await store.reports.count() == 0


async def test_gzip_feed_is_decompressed_and_stored(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """A valid feed sent with Content-Encoding: gzip is stored like a plain one."""
    url = feed_server.static("/gz.xml", gzip.compress(rss(ITEMS)), **{"Content-Encoding": "gzip"})
    feed = await add_feed(store, settings, url)

    result, state = await poll(make_poller(), store, feed.id)
    assert result.outcome == "new" and result.new == 2
    assert state.consecutive_failures == 0 and state.last_error is None
    assert state.title == "Test Outlet"
    assert sorted(r.title for r in await all_reports(store)) == sorted(i["title"] for i in ITEMS)


# --- 8, 11: redirects --------------------------------------------------------------------------------------


def _redirect(server: FeedServer, path: str, target: str, status: int = 302) -> str:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Location": target})

    return server.route(path, handler)


async def test_redirect_loop_is_an_error(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """/a -> /b -> /a is stopped as a redirect loop, not followed until the hop limit."""
    url = _redirect(feed_server, "/a", "/b")
    _redirect(feed_server, "/b", "/a")
    feed = await add_feed(store, settings, url)

    result, state = await poll(make_poller(), store, feed.id)
    assert result.outcome == "error"
    assert state.last_error is not None and "redirect" in state.last_error
    assert state.consecutive_failures == 1
    assert len(feed_server.hits("/a")) == 1 and len(feed_server.hits("/b")) == 1


async def test_redirect_chain_longer_than_max_redirects_is_an_error(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """max_redirects hops are followed; one more is 'too many redirects'."""
    feed_server.static("/end.xml", rss(ITEMS))
    hops = 3
    # /ok0 -> /ok1 -> /ok2 -> /end.xml: exactly `hops` redirects.
    for n in range(hops):
        _redirect(feed_server, f"/ok{n}", f"/ok{n + 1}" if n + 1 < hops else "/end.xml")
    # /long0 -> ... -> /long3 -> /end.xml: one redirect too many.
    for n in range(hops + 1):
        _redirect(feed_server, f"/long{n}", f"/long{n + 1}" if n < hops else "/end.xml")
    ok = await add_feed(store, settings, feed_server.url("/ok0"))
    long = await add_feed(store, settings, feed_server.url("/long0"))
    poller = make_poller(max_redirects=hops)

    result, state = await poll(poller, store, ok.id)
    assert result.outcome == "new" and state.consecutive_failures == 0
    result, state = await poll(poller, store, long.id)
    assert result.outcome == "error"
    assert state.last_error is not None and "too many redirects" in state.last_error
    assert state.consecutive_failures == 1
    assert len(feed_server.hits("/end.xml")) == 1  # reached only through the short chain


async def test_permanent_redirect_moves_the_feed(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """A 301 updates the stored feed URL to the target, and the next poll goes straight there."""
    new_url = feed_server.static("/new.xml", rss(ITEMS))
    old_url = _redirect(feed_server, "/old.xml", "/new.xml", status=301)
    feed = await add_feed(store, settings, old_url)
    poller = make_poller()

    result, state = await poll(poller, store, feed.id)
    assert result.outcome == "new" and result.moved_to == new_url
    assert state.url == new_url
    await poll(poller, store, feed.id)
    assert len(feed_server.hits("/old.xml")) == 1 and len(feed_server.hits("/new.xml")) == 2


async def test_temporary_redirect_keeps_the_feed_url(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """A 302 is followed for this poll only; the stored URL stays (also when a 301 follows the 302)."""
    feed_server.static("/target.xml", rss(ITEMS))
    temp_url = _redirect(feed_server, "/temp.xml", "/target.xml", status=302)
    _redirect(feed_server, "/mid.xml", "/target.xml", status=301)
    mixed_url = _redirect(feed_server, "/mixed.xml", "/mid.xml", status=302)
    temp = await add_feed(store, settings, temp_url)
    mixed = await add_feed(store, settings, mixed_url)
    poller = make_poller()

    for feed, url in ((temp, temp_url), (mixed, mixed_url)):
        result, state = await poll(poller, store, feed.id)
        assert result.outcome in ("new", "unchanged") and result.moved_to is None
        assert state.url == url and state.consecutive_failures == 0
    assert await store.reports.count() == 2


# --- 9, 10, 12: bodies -------------------------------------------------------------------------------------


async def test_html_page_is_not_a_feed(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """An HTML page where a feed was expected fails with 'not a feed: ... HTML page'."""
    page = (
        b"<!doctype html><html><head><title>Outlet home</title></head>"
        b'<body><h1>Welcome</h1><a href="/news">News</a></body></html>'
    )
    url = feed_server.static("/site", page, "text/html; charset=utf-8")
    feed = await add_feed(store, settings, url)

    result, state = await poll(make_poller(), store, feed.id)
    assert result.outcome == "error"
    assert state.last_error is not None
    assert state.last_error.startswith("not a feed:") and "HTML page" in state.last_error
    assert state.consecutive_failures == 1 and state.body_hash is None
    assert await store.reports.count() == 0


async def test_empty_body_is_not_a_feed(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """An empty 200 response fails with a message saying the body is empty."""
    feed = await add_feed(store, settings, feed_server.static("/empty.xml", b""))

    result, state = await poll(make_poller(), store, feed.id)
    assert result.outcome == "error"
    assert state.last_error is not None and "not a feed" in state.last_error and "empty" in state.last_error
    assert state.consecutive_failures == 1
    assert await store.reports.count() == 0


async def test_windows_1251_feed_declared_in_xml_is_stored_as_unicode(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """A windows-1251 feed (encoding in the XML declaration) has its Cyrillic titles decoded correctly."""
    doc = (
        '<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>Новости дня</title>'
        "<link>https://novosti.example/</link>"
        "<item><title>Переговоры о мире продолжаются</title><link>https://novosti.example/1</link></item>"
        "</channel></rss>"
    )
    feed = await add_feed(store, settings, feed_server.static("/cp1251.xml", doc.encode("windows-1251")))

    result, state = await poll(make_poller(), store, feed.id)
    assert result.outcome == "new" and result.new == 1
    assert state.title == "Новости дня"
    (report,) = await all_reports(store)
    assert report.title == "Переговоры о мире продолжаются"
    assert report.outlet == "Новости дня"


async def test_latin1_feed_declared_only_in_http_charset_is_stored_as_unicode(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """A feed whose charset is given only by Content-Type (ISO-8859-1) has its accented titles decoded."""
    doc = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Le Quotidien Zürichois</title>'
        "<link>https://quotidien.example/</link>"
        "<item><title>Café à Genève : la négociation reprend</title><link>https://quotidien.example/1</link></item>"
        "</channel></rss>"
    )
    url = feed_server.static("/latin1.xml", doc.encode("iso-8859-1"), "application/xml; charset=ISO-8859-1")
    feed = await add_feed(store, settings, url)

    result, state = await poll(make_poller(), store, feed.id)
    assert result.outcome == "new" and result.new == 1
    assert state.title == "Le Quotidien Zürichois"
    (report,) = await all_reports(store)
    assert report.title == "Café à Genève : la négociation reprend"


# --- 13: identification ------------------------------------------------------------------------------------


async def test_requests_carry_the_planwatch_user_agent(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """Every request names Planwatch, its version and its project URL, and asks for feed types."""
    feed = await add_feed(store, settings, feed_server.static("/ua.xml", rss(ITEMS)))
    await poll(make_poller(), store, feed.id)

    (request,) = feed_server.hits("/ua.xml")
    agent = request.headers["User-Agent"]
    assert agent == f"Planwatch/{__version__} (+{PROJECT_URL})"
    assert re.fullmatch(r"Planwatch/\d+\.\d+\.\d+\S* \(\+https?://\S+\)", agent)
    assert "application/rss+xml" in request.headers["Accept"]


# --- 14: the private-address guard -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8080/x", "127.0.0.1 is a loopback address"),
        ("http://localhost/x", "localhost is a loopback name"),
        ("http://10.0.0.1/x", "10.0.0.1 is a private address"),
        ("http://[::1]/x", "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]/x", "loopback address"),
        ("http://169.254.169.254/latest", "169.254.169.254 is a"),
        ("http://2130706433/x", "2130706433 is a loopback address"),
        ("http://0x7f000001/x", "0x7f000001 is a loopback address"),
        ("ftp://example.com/x", "must start with http:// or https://"),
    ],
)
async def test_add_feed_refuses_non_public_and_non_web_urls(store: Store, settings: Settings, url: str, why: str) -> None:
    """With allow_private_feeds off, adding an internal or non-http(s) URL is refused with the reason."""
    guarded = settings.with_overrides(allow_private_feeds=False)
    with pytest.raises(UsageError) as caught:
        await add_feed(store, guarded, url)
    message = str(caught.value)
    assert why in message
    if not url.startswith("ftp:"):
        assert "refused" in message and "PLANWATCH_ALLOW_PRIVATE_FEEDS" in message
    assert await store.feeds.count() == 0


async def test_fetch_refuses_loopback_feed_without_sending_a_request(
    store: Store, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """A stored feed pointing at 127.0.0.1 is refused at fetch time when private feeds are off; no request leaves."""
    url = feed_server.static("/x", rss(ITEMS))
    feed = await store.feeds.add(url, name=None, interval_minutes=15, now=utcnow())

    result, state = await poll(make_poller(allow_private_feeds=False), store, feed.id)
    assert result.outcome == "error"
    assert state.last_error is not None and state.last_error.startswith("refused")
    assert "loopback" in state.last_error
    assert state.consecutive_failures == 1
    assert feed_server.requests == []
    assert await store.reports.count() == 0


class _PinnedResolver(AbstractResolver):
    """DNS is the one edge these machines cannot reach: this answers every name with 127.0.0.1,
    as a hostile DNS server (or a rebinding attack) would."""

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        return [{"hostname": host, "host": "127.0.0.1", "port": port, "family": socket.AF_INET, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]  # fmt: skip

    async def close(self) -> None:
        return None


async def test_fetch_resolver_refuses_a_name_that_resolves_to_loopback(
    store: Store, settings: Settings, feed_server: FeedServer
) -> None:
    """A public-looking name whose DNS answer is 127.0.0.1 is refused at connection time; no request leaves."""
    feed_server.static("/x", rss(ITEMS))
    port = feed_server.base.rsplit(":", 1)[1]
    feed = await store.feeds.add(f"http://evil.example:{port}/x", name=None, interval_minutes=15, now=utcnow())

    guarded = settings.with_overrides(allow_private_feeds=False)
    poller = Poller(store, guarded, Fetcher(guarded, resolver=_PinnedResolver()))
    try:
        result = await poller.poll_one(await store.feeds.get(feed.id))
    finally:
        await poller.close()
    state = await store.feeds.get(feed.id)
    assert result.outcome == "error"
    assert feed_server.requests == []
    assert state.last_error is not None and state.last_error.startswith("refused"), state.last_error
    assert "evil.example resolves to 127.0.0.1, a loopback address" in state.last_error

    # Control: the same answer with private feeds allowed does reach the loopback server.
    poller = Poller(store, settings, Fetcher(settings, resolver=_PinnedResolver()))
    try:
        result = await poller.poll_one(await store.feeds.get(feed.id))
    finally:
        await poller.close()
    assert result.outcome == "new" and len(feed_server.requests) == 1


async def test_fetch_refuses_legacy_numeric_loopback_host_without_sending_a_request(
    store: Store, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """http://2130706433:port/ (127.0.0.1 as one number) is refused by Planwatch's own guard; no request leaves."""
    feed_server.static("/x", rss(ITEMS))
    port = feed_server.base.rsplit(":", 1)[1]
    url = f"http://2130706433:{port}/x"
    feed = await store.feeds.add(url, name=None, interval_minutes=15, now=utcnow())

    result, state = await poll(make_poller(allow_private_feeds=False), store, feed.id)
    assert result.outcome == "error"
    assert feed_server.requests == []
    assert await store.reports.count() == 0
    assert state.last_error is not None and state.last_error.startswith("refused"), state.last_error


# --- 15: many feeds and the per-host bound -----------------------------------------------------------------


async def test_many_feeds_poll_once_stores_all_within_the_per_host_bound(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """poll_once over 30 feeds on one host stores them all, never more than poll_per_host requests at once."""
    in_flight = 0
    peak = 0

    def handler_for(n: int) -> RouteHandler:
        body = rss([{"title": f"Story {n} from feed {n}", "link": f"https://outlet{n}.example/{n}"}], title=f"Outlet {n}")

        async def handler(request: web.Request) -> web.Response:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                await asyncio.sleep(0.05)
            finally:
                in_flight -= 1
            return web.Response(body=body, content_type="application/rss+xml")

        return handler

    for n in range(30):
        await add_feed(store, settings, feed_server.route(f"/many/{n}.xml", handler_for(n)))
    poller = make_poller()

    results = await poller.poll_once()
    assert len(results) == 30
    assert all(r.outcome == "new" and r.new == 1 for r in results), [r.line() for r in results]
    assert await store.reports.count() == 30
    assert all(f.status == "ok" for f in await store.feeds.list_all())
    assert len(feed_server.requests) == 30
    assert settings.poll_per_host == 2
    assert 1 <= peak <= settings.poll_per_host
    assert peak == settings.poll_per_host  # bounded, yet still concurrent


# --- 16: updates are versioned -----------------------------------------------------------------------------


async def test_changed_entry_is_updated_with_its_old_version_kept(
    store: Store, settings: Settings, feed_server: FeedServer, make_poller: PollerFactory
) -> None:
    """A re-served feed with one retitled and one new item: 1 updated, 1 new; the old title is kept as a version."""
    bodies = [
        rss(ITEMS),
        rss(
            [
                {**ITEMS[0], "title": "Ceasefire talks resume in Geneva, envoys say"},
                ITEMS[1],
                {"title": "A third round is scheduled", "link": "https://outlet.example/c", "guid": "c"},
            ]
        ),
    ]

    async def handler(request: web.Request) -> web.Response:
        body = bodies[0] if len(feed_server.hits("/story.xml")) == 1 else bodies[1]
        return web.Response(body=body, content_type="application/rss+xml")

    feed = await add_feed(store, settings, feed_server.route("/story.xml", handler))
    t0 = utcnow()
    first, _ = await poll(make_poller(clock=fixed_clock(t0)), store, feed.id)
    assert first.new == 2
    before = {r.url: r for r in await all_reports(store)}

    t1 = t0 + timedelta(hours=1)
    second, state = await poll(make_poller(clock=fixed_clock(t1)), store, feed.id)
    assert second.outcome == "new"
    assert (second.new, second.updated, second.unchanged) == (1, 1, 1)
    assert state.consecutive_failures == 0

    after = {r.url: r for r in await all_reports(store)}
    a, b, c = (f"https://outlet.example/{x}" for x in "abc")
    assert set(after) == {a, b, c}
    changed = after[a]
    assert changed.id == before[a].id
    assert changed.title == "Ceasefire talks resume in Geneva, envoys say"
    assert changed.first_seen_at == before[a].first_seen_at == t0
    assert changed.updated_at == t1
    versions = await store.reports.versions(changed.id)
    assert [(title, valid_from, replaced_at) for title, _, valid_from, replaced_at in versions] == [
        ("Ceasefire talks resume in Geneva", t0, t1)
    ]
    assert after[b].updated_at is None and await store.reports.versions(after[b].id) == []
    assert after[c].first_seen_at == t1
