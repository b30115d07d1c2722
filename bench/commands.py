"""Each slash command's handler on a large store: service + embed rendering, no network.

    python bench/commands.py [--reports 100000] [--outlets 50] [--runs 20]

Builds a store of N reports (over 30 days, 50 outlets, 5 topics), analyses them once (as ingest does
over time), then prints p50/p95 per command. Target (issue #4): p95 under 200 ms for every command, so
no command needs a defer on a normal server."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from bot import render
from planwatch.config import load_settings
from planwatch.models import Entry
from planwatch.services import guilds, stories
from planwatch.store import Store
from planwatch.stories.refresh import refresh_stories
from planwatch.timeutil import utcnow

GUILD = "1"
TOPICS = {
    "ukraine-talks": "ukraine AND (plan OR talks)",
    "sanctions": "sanction* OR oil",
    "front-line": "frontline OR drone OR offensive",
    "europe": "brussels OR kallas OR europe",
    "energy": "gas OR grid OR energy",
}
SUBJECTS = "Ukraine Kremlin Brussels Kallas Witkoff Zelenskyy Peskov Rubio".split()
VERBS = "discussed rejected proposed welcomed criticised announced delayed confirmed".split()
OBJECTS = (
    "the peace plan", "new sanctions on oil", "a drone offensive", "the energy grid", "gas transit talks",
    "a frontline ceasefire",
)  # fmt: skip


def entries(count: int, outlets: int, rng: random.Random) -> list[tuple[str, Entry]]:
    now = utcnow()
    out = []
    for n in range(count):
        event = rng.randrange(count // 8)
        subject, verb, obj = SUBJECTS[event % 8], VERBS[(event // 8) % 8], OBJECTS[(event // 64) % 6]
        outlet = f"Outlet {rng.randrange(outlets)}"
        title = f"{subject} {verb} {obj} (event {event})"
        text = (f"{subject} {verb} {obj} on {event % 28 + 1} November, {outlet} reported in item {n}. "
                f"Officials in Kyiv and Moscow commented; analysts expect more talks on the plan.")  # fmt: skip
        published = now - timedelta(minutes=(event * 30 * 24 * 60) // (count // 8) + rng.randrange(120))
        out.append((outlet, Entry(f"g{n}", f"https://o.example/{n}", title, text, None, "en", published, None)))
    return out


async def build(path: Path, count: int, outlets: int) -> Store:
    store = await Store.open(path)
    now = utcnow()
    for name, query in TOPICS.items():
        await guilds.add_guild_topic(store, GUILD, name, query)
    feeds: dict[str, int] = {}
    batch: dict[str, list[Entry]] = {}
    for outlet, entry in entries(count, outlets, random.Random(4)):
        batch.setdefault(outlet, []).append(entry)
    for outlet, items in batch.items():
        feed, _ = await guilds.add_guild_feed(store, _Settings, GUILD, f"https://{outlet.replace(' ', '')}.example/rss",
                                              name=outlet, interval=None)  # fmt: skip
        feeds[outlet] = feed.id
        for start in range(0, len(items), 500):
            async with store.transaction() as db:
                saved = await store.reports.save_batch(
                    db, feed_id=feed.id, outlet=outlet, entries=items[start : start + 500], now=now
                )
                await store.topics.match_reports(db, saved.new_ids, [], now)
    return store


_Settings = load_settings(env={}, allow_private_feeds=True)


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        store = await build(Path(tmp) / "commands.db", args.reports, args.outlets)
        built = time.perf_counter() - started
        started = time.perf_counter()
        analysed = await refresh_stories(store)
        analysis = time.perf_counter() - started
        topic = await guilds.resolve_topic(store, GUILD, "ukraine-talks")
        day, week = timedelta(hours=24), timedelta(days=7)

        async def summary() -> object:
            return render.summary_embed(await stories.summary(store, topic.name, day, scope=topic.scope))

        async def sources() -> object:
            return render.sources_pages(await stories.sources(store, topic.name, day, scope=topic.scope))

        async def timeline() -> object:
            return render.timeline_pages(await stories.timeline(store, topic.name, week, scope=topic.scope))

        async def latest() -> object:
            found, reports = await stories.latest(store, topic.name, 10, scope=topic.scope)
            return render.latest_pages(found, reports)

        async def search() -> object:
            return render.search_pages("Kallas AND plan", await stories.search(store, "Kallas AND plan", week, limit=25))

        async def topics() -> object:
            return render.topics_embed(await guilds.visible_topics(store, GUILD), await store.topics.match_counts(), "guild:1")

        async def feed_list() -> object:
            return render.feeds_embed(await guilds.guild_feeds(store, GUILD))

        async def topic_test() -> object:
            return render.topic_test_embed(await guilds.test_query(store, "drone AND offensive", week))

        commands: dict[str, Callable[[], Awaitable[object]]] = {
            "/summary": summary, "/sources": sources, "/timeline": timeline, "/latest": latest, "/search": search,
            "/topics": topics, "/feed list": feed_list, "/topic test": topic_test,
        }  # fmt: skip
        in_window = len(await store.stories.topic_reports(topic.id, utcnow() - day))
        print(f"store: {await store.reports.count()} reports, {args.outlets} outlets, {len(TOPICS)} topics "
              f"(built in {built:.0f} s, analysed in {analysis:.0f} s: {analysed.new_stories} stories); "
              f"{in_window} reports in the last 24 h of ukraine-talks")  # fmt: skip
        worst = 0.0
        for name, handler in commands.items():
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                await handler()
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            p50, p95 = statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]
            worst = max(worst, p95)
            print(f"{name:12} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
        print(f"every p95 under 200 ms: {'yes' if worst < 200 else 'NO'} (worst {worst:.0f} ms)")
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--outlets", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
