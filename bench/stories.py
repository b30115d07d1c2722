"""Story services at scale: summary and sources for a topic with N reports in its window, and one
10-document cluster summarized.

    python bench/stories.py [--reports 2000] [--outlets 50]

Targets (issue #3): summary and sources under 300 ms with 2,000 reports in the window; a 10-document
cluster summarized in under 50 ms. The one-off analysis of the new reports (grouping, copies,
citations), which happens once as reports arrive, is timed separately."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from planwatch.models import Entry
from planwatch.services import stories
from planwatch.store import Store
from planwatch.stories.refresh import refresh_stories
from planwatch.stories.summarize import summarize_texts
from planwatch.timeutil import utcnow

ACTORS = "Witkoff Dmitriev Zelenskyy Peskov Kallas Rubio Driscoll Umerov Yermak Erdogan Macron Starmer".split()
PLACES = "Kyiv Moscow Washington Istanbul Geneva Brussels Ankara Abu-Dhabi Warsaw Berlin Miami Riyadh".split()
ACTIONS = (
    "met to discuss the 28-point peace plan",
    "rejected parts of the draft peace plan",
    "proposed changes to the peace framework",
    "said the plan would cap the army at 600,000",
    "denied that new proposals were on the table",
    "called the leaked draft unacceptable",
    "welcomed talks on the peace plan",
)
FILLER = (
    "Officials familiar with the talks said the document was still changing. The reports could not be verified "
    "independently. Negotiators are expected to meet again next week, according to Reuters. Ukraine says it "
    "will not cede territory it still controls, and European capitals want a seat at the table."
)


def make_entries(count: int, outlets: int, rng: random.Random) -> list[tuple[str, Entry]]:
    now = utcnow()
    out: list[tuple[str, Entry]] = []
    events = max(count // 10, 1)
    for n in range(count):
        event = rng.randrange(events)
        actor, place, action = (
            ACTORS[event % len(ACTORS)],
            PLACES[(event // 3) % len(PLACES)],
            ACTIONS[event % len(ACTIONS)],
        )
        outlet = f"Outlet {rng.randrange(outlets)}"
        title = f"{actor} {action} in {place} (event {event})"
        text = (
            f"{actor} {action} in {place} on Ukraine, as talks on the Witkoff plan continued. "
            f"The meeting in {place} was the {event}th such contact this month, {outlet} reported in dispatch {n}. " + FILLER
        )
        published = now - timedelta(minutes=rng.randrange(0, 23 * 60))
        out.append((outlet, Entry(f"g{n}", f"https://outlet.example/{n}", title, text, None, "en", published, None)))
    return out


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "stories.db")
        now = utcnow()
        feeds: dict[str, int] = {}
        entries = make_entries(args.reports, args.outlets, rng)
        for outlet, _ in entries:
            if outlet not in feeds:
                feeds[outlet] = (await store.feeds.add(f"https://{outlet.replace(' ', '')}.example/rss", name=outlet,
                                                       interval_minutes=15, now=now)).id  # fmt: skip
        async with store.transaction() as db:
            for outlet, entry in entries:
                batch = await store.reports.save_batch(db, feed_id=feeds[outlet], outlet=outlet, entries=[entry], now=now)
                await store.topics.match_reports(db, batch.new_ids, [], now)
        start = time.perf_counter()
        analysed = await refresh_stories(store)
        analysis = time.perf_counter() - start
        window = timedelta(hours=24)
        timings: dict[str, list[float]] = {"summary": [], "sources": [], "summary+sources": []}
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            summary = await stories.summary(store, "ukraine-peace-plan", window)
            t1 = time.perf_counter()
            listing = await stories.sources(store, "ukraine-peace-plan", window)
            t2 = time.perf_counter()
            timings["summary"].append(t1 - t0)
            timings["sources"].append(t2 - t1)
            timings["summary+sources"].append(t2 - t0)
        await store.close()

    docs = [(title, text) for title, text in ((e.title, e.text) for _, e in entries[:10])]
    cluster_times = []
    for _ in range(20):
        t0 = time.perf_counter()
        summarize_texts(docs, max_words=250)
        cluster_times.append(time.perf_counter() - t0)

    print(f"reports in the window:        {len(summary.window.reports)} from {len(summary.window.outlets)} outlets, "
          f"{len(listing.stories)} stories")  # fmt: skip
    print(f"analysis (once, on arrival):  {analysis * 1000:.0f} ms for {analysed.analysed} reports")
    for name, values in timings.items():
        print(f"{name + ':':30}median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms")
    total = statistics.median(timings["summary+sources"]) * 1000
    print(f"summary + sources under 300 ms: {'yes' if total < 300 else 'NO'} ({total:.0f} ms)")
    cluster = statistics.median(cluster_times) * 1000
    print(f"10-document cluster summary:  median {cluster:.1f} ms (target < 50 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--outlets", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
