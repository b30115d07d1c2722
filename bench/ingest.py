"""Ingest throughput: N loopback feeds x M entries through a full `poll --once` into a fresh database,
against the same bytes through bare `feedparser.parse`; then a re-poll where every feed answers 304.

    python bench/ingest.py [--feeds 200] [--entries 50] [--parse-workers 0]

Targets (issue #2): ratio >= 0.7; 200 x 50 in under 10 s; the 304 re-poll under 1 s.
The feed server runs in its own process so it does not share the poller's CPU time."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser
from aiohttp import web

from planwatch.config import load_settings
from planwatch.ingest.opml import write_opml
from planwatch.ingest.poller import Poller
from planwatch.services.feeds import import_opml
from planwatch.store import Store

_VOCABULARY = (
    "envoy draft plan ceasefire kyiv moscow washington talks border sanctions minister delegation proposal "
    "frontline army region security guarantee referendum parliament statement agency officials reported "
    "according sources confirmed denied negotiators summit memorandum territory corridor reconstruction"
)
WORDS = tuple(_VOCABULARY.split(" "))


def make_feed(index: int, entries: int, now: datetime) -> bytes:
    rng = random.Random(index)
    items = []
    for n in range(entries):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12))).capitalize()
        paragraphs = "".join("<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(25, 45))) + ".</p>" for _ in range(3))
        when = format_datetime(now - timedelta(minutes=index * entries + n), usegmt=True)
        link = f"https://outlet{index}.example/news/{n}-{title[:20].replace(' ', '-').lower()}?utm_source=rss"
        items.append(
            f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
            f"<guid isPermaLink='false'>o{index}-{n}</guid><pubDate>{when}</pubDate>"
            f"<description>{escape(paragraphs)}</description></item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Outlet {index}</title>'
        f"<link>https://outlet{index}.example/</link>{''.join(items)}</channel></rss>"
    ).encode()


def serve(feeds: int, entries: int, port_queue: multiprocessing.Queue[int]) -> None:
    now = datetime.now(UTC)
    bodies = {f"/feed/{i}.xml": make_feed(i, entries, now) for i in range(feeds)}
    etags = {path: '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"' for path, body in bodies.items()}

    async def handler(request: web.Request) -> web.Response:
        body = bodies.get(request.path)
        if body is None:
            raise web.HTTPNotFound()
        etag = etags[request.path]
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": etag})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_queue.put(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


async def run(args: argparse.Namespace, base: str) -> None:
    now = datetime.now(UTC)
    bodies = [make_feed(i, args.entries, now) for i in range(args.feeds)]
    total_entries = args.feeds * args.entries

    start = time.perf_counter()
    for body in bodies:
        feedparser.parse(body)
    bare = time.perf_counter() - start
    bare_rate = total_entries / bare
    # The same call as Planwatch makes (it turns feedparser's sanitizer and URI rewriting off, since it
    # makes plain text itself): the like-for-like baseline.
    start = time.perf_counter()
    for body in bodies:
        feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    lean_rate = total_entries / (time.perf_counter() - start)

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            env={},
            db_path=Path(tmp) / "bench.db",
            allow_private_feeds=True,
            parse_workers=args.parse_workers,  # None: the configured default
            poll_concurrency=args.concurrency,
        )
        store = await Store.open(settings.db_path)
        await store.feeds.add_many([(f"{base}/feed/{i}.xml", None) for i in range(args.feeds)], interval_minutes=15, now=now)
        poller = Poller(store, settings)
        try:
            start = time.perf_counter()
            results = await poller.poll_once()
            full = time.perf_counter() - start
            stored = await store.reports.count()
            errors = [r for r in results if r.outcome == "error"]
            start = time.perf_counter()
            again = await poller.poll_once()
            repoll = time.perf_counter() - start
            not_modified = sum(r.outcome == "not-modified" for r in again)
        finally:
            await poller.close()
            await store.close()

        opml = write_opml([(f"https://news{i}.example/rss.xml", f"Outlet {i}", None) for i in range(500)], now)
        store = await Store.open(Path(tmp) / "import.db")
        try:
            start = time.perf_counter()
            imported = await import_opml(store, settings.with_overrides(allow_private_feeds=False), opml.encode())
            import_time = time.perf_counter() - start
        finally:
            await store.close()

    rate = total_entries / full
    print(f"feeds x entries:             {args.feeds} x {args.entries} = {total_entries} entries")
    print(f"bare feedparser.parse:       {bare:.2f} s  ({bare_rate:,.0f} entries/s)")
    print(f"planwatch poll --once:       {full:.2f} s  ({rate:,.0f} entries/s), {stored} reports stored, "
          f"{len(errors)} feed errors")  # fmt: skip
    print(f"ratio (planwatch / bare):    {rate / bare_rate:.2f}   (target >= 0.7)")
    print(f"bare parse, Planwatch's options: {lean_rate:,.0f} entries/s; ratio to that: {rate / lean_rate:.2f}")
    print(f"full poll under 10 s:        {'yes' if full < 10 else 'NO'}")
    print(f"304 re-poll:                 {repoll:.3f} s for {len(again)} feeds, {not_modified} answered 304 "
          f"(target < 1 s)")  # fmt: skip
    print(f"OPML import of 500 feeds:    {import_time:.2f} s ({len(imported.added)} added, "
          f"{len(imported.skipped)} skipped)")  # fmt: skip
    if errors:
        print("first error:", errors[0].line(), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--parse-workers", type=int, help="0: a thread; N: N processes (default: the setting, 1)")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    ctx = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue[int] = ctx.Queue()
    server = ctx.Process(target=serve, args=(args.feeds, args.entries, ports), daemon=True)
    server.start()
    try:
        port = ports.get(timeout=60)
        asyncio.run(run(args, f"http://127.0.0.1:{port}"))
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
