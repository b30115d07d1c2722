"""Incremental story analysis at scale: N new reports arriving with W analysed reports in the window.

    .venv/bin/python bench/analysis_scale.py [--window 50000] [--new 2000]

Target (issue #9): 2,000 new reports with 50,000 in the window analysed in under 2 s, by the process
that keeps the window between batches (the service). Printed beside it, on the same database: the
same batch in a process that has just started (it reads the window back from the stored analysis),
the bare SQLite read of the window's rows (what that start reads before it compares anything), and
the same 2,000 reports analysed with an empty window: the ratio shows how much of the cost follows
the window rather than the new work."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosqlite

from bench.stories import make_entries
from planwatch.models import Entry
from planwatch.store import Store
from planwatch.stories.refresh import refresh_stories
from planwatch.timeutil import to_db, utcnow


async def _store(path: Path, entries: list[tuple[str, Entry]]) -> Store:
    store = await Store.open(path)
    now = utcnow()
    feeds: dict[str, int] = {}
    for outlet, _ in entries:
        if outlet not in feeds:
            feeds[outlet] = (await store.feeds.add(f"https://{outlet.replace(' ', '')}.example/rss", name=outlet,
                                                   interval_minutes=15, now=now)).id  # fmt: skip
    by_outlet: dict[str, list[Entry]] = {}
    for outlet, entry in entries:
        by_outlet.setdefault(outlet, []).append(entry)
    async with store.transaction() as db:
        for outlet, items in sorted(by_outlet.items()):
            batch = await store.reports.save_batch(db, feed_id=feeds[outlet], outlet=outlet, entries=items, now=now)
            await store.topics.match_reports(db, batch.new_ids, [], now)
    return store


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(11)
    entries = make_entries(args.window + args.new, args.outlets, rng)
    old, new = entries[: args.window], entries[args.window :]
    # The new reports are the newest: published after everything in the window.
    latest = max(e.published_at for _, e in old if e.published_at is not None)
    new = [(o, replace(e, guid=f"n{n}", url=f"https://new.example/{n}", published_at=latest + timedelta(seconds=n + 1)))
           for n, (o, e) in enumerate(new)]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        store = await _store(Path(tmp) / "scale.db", old)
        t0 = time.perf_counter()
        await refresh_stories(store)
        build = time.perf_counter() - t0
        await _add(store, new)
        # The same database, for a process that has just started: it reads the window back first.
        copy = Path(tmp) / "restarted.db"
        async with aiosqlite.connect(copy) as target:
            await store.db.backup(target)
        t0 = time.perf_counter()
        result = await refresh_stories(store)
        incremental = time.perf_counter() - t0
        restarted = await Store.open(copy)
        t0 = time.perf_counter()
        await refresh_stories(restarted)
        cold = time.perf_counter() - t0
        await restarted.close()
        since = utcnow() - timedelta(days=4)
        t0 = time.perf_counter()
        rows = await store.fetchall(
            "SELECT r.id, r.title, r.text, r.outlet, r.published_at, a.story_id, a.copy_of, a.cites, a.terms"
            " FROM reports r JOIN report_analysis a ON a.report_id = r.id WHERE r.published_at >= ?",
            (to_db(since),),
        )
        bare_read = time.perf_counter() - t0
        await store.close()
        alone = await _store(Path(tmp) / "alone.db", new)
        t0 = time.perf_counter()
        await refresh_stories(alone)
        empty = time.perf_counter() - t0
        await alone.close()
    print(f"window: {args.window} analysed reports (analysed once in {build:.1f} s); new: {result.analysed} reports")
    print(f"incremental analysis of the new reports:   {incremental:.2f} s  (target < 2 s: {'yes' if incremental < 2 else 'NO'})")
    print(f"the same, in a process just started:       {cold:.2f} s  (reads the window back: {cold / incremental:.1f}x)")
    ratio = incremental / bare_read
    print(f"bare SQLite read of the window's {len(rows)} rows: {bare_read:.2f} s  (analysis / read = {ratio:.1f}x)")
    print(f"the same new reports, empty window:        {empty:.2f} s  (with window / without = {incremental / empty:.1f}x)")


async def _add(store: Store, entries: list[tuple[str, Entry]]) -> None:
    now = utcnow()
    feed = await store.feeds.add("https://new.example/rss", name="New Wire", interval_minutes=15, now=now)
    async with store.transaction() as db:
        batch = await store.reports.save_batch(db, feed_id=feed.id, outlet="New Wire", entries=[e for _, e in entries], now=now)
        await store.topics.match_reports(db, batch.new_ids, [], now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--window", type=int, default=50_000)
    parser.add_argument("--new", type=int, default=2_000)
    parser.add_argument("--outlets", type=int, default=50)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
