"""The demo: a fresh database, the sample feeds polled from a loopback server, and what came of it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from planwatch.config import Settings
from planwatch.demo.server import DemoServer, sample_feed_names
from planwatch.errors import UsageError
from planwatch.ingest.poller import Poller
from planwatch.services import stories
from planwatch.services.feeds import add_feed
from planwatch.services.topics import DEFAULT_TOPIC
from planwatch.store import Store
from planwatch.stories.refresh import refresh_stories
from planwatch.textviews import sources_text, summary_text
from planwatch.timeutil import utcnow

DEMO_DB = Path("planwatch-demo.db")


DEMO_MARK = "demo.database"


async def _fresh(path: Path) -> None:
    """Start from an empty file, but never delete a database the demo did not make."""
    if await asyncio.to_thread(path.exists):
        store = await Store.open(path, run_migrations=False)
        try:
            ours = await store.fetchone("SELECT 1 FROM service_state WHERE key = ?", (DEMO_MARK,))
        except sqlite3.Error:
            ours = None
        finally:
            await store.close()
        if ours is None:
            raise UsageError(f"refusing to overwrite {path}: it is not a database made by `planwatch demo`")
    for suffix in ("", "-wal", "-shm"):
        await asyncio.to_thread(Path(f"{path}{suffix}").unlink, missing_ok=True)


async def _demo_digest(store: Store, settings: Settings) -> str:
    """A confirmed demo subscriber and today's digest, delivered the embedded way: an .eml in the outbox."""
    from digests.jobs import deliver
    from digests.schedule import composer_for, queue_digest
    from planwatch.services.subscriptions import check_request, subscribe
    from planwatch.services.topics import GLOBAL_SCOPE

    now = utcnow()
    # A delivery time still ahead today, so the window ends now and holds what was just polled: 23:00 UTC,
    # or in UTC's last hour 23:00 in a zone behind it (a day that has not come yet gets no digest).
    zone = "UTC" if now.hour < 23 else "America/Sao_Paulo"
    day = now.astimezone(ZoneInfo(zone)).date()
    request = check_request("reader@example.org", [DEFAULT_TOPIC], 23, zone)
    result = await subscribe(store, request, scope=GLOBAL_SCOPE, now=now, confirmed=True)
    await queue_digest(store, settings, await composer_for(store, settings), result.subscriber, day, now)
    delivered = await deliver(store, settings)
    where = "sent over SMTP" if settings.smtp_url else f"written to {settings.outbox_dir}/ as an .eml file"
    return f"A digest for {request.email}: {delivered.sent} message {where} (open it in any mail program)."


async def run_demo(settings: Settings, out: Callable[[str], None] = print) -> int:
    settings = settings.with_overrides(allow_private_feeds=True)
    await _fresh(settings.db_path)
    server = DemoServer()
    base = await server.start()
    out(f"Serving {len(sample_feed_names())} sample feeds on {base} (loopback only)")
    store = await Store.open(settings.db_path)
    poller = Poller(store, settings)
    try:
        await store.state.set(DEMO_MARK, "made by planwatch demo; the demo may delete it", utcnow())
        for name in sample_feed_names():
            await add_feed(store, settings, server.url(name))
        out(f"Polling them into {settings.db_path} ...")
        for result in await poller.poll_once():
            out("  " + result.line())
        reports = await store.reports.recent(limit=1000)
        outlets = Counter(r.outlet for r in reports)
        out("")
        out(f"Stored {len(reports)} reports from {len(outlets)} outlets (copies and re-posts stored once):")
        for outlet, count in sorted(outlets.items()):
            out(f"  {outlet}: {count}")
        topic = await store.topics.get(DEFAULT_TOPIC)
        await refresh_stories(store)  # stories, copies, and the topic's story and profile members
        how = await store.topics.memberships(topic.id)
        matched = [r for r in reports if r.id in how]
        out("")
        out(f"Topic {topic.name!r} follows {len(matched)} of {len(reports)} reports; how each came in")
        out("(query: its own words; story: its story holds a query match; profile: like what the query matched):")
        for report in sorted(matched, key=lambda r: r.published_at):
            flag = " (date estimated)" if report.published_estimated else ""
            when = f"{report.published_at:%Y-%m-%d %H:%M}Z"
            out(f"  {when}  {how[report.id]:<7}  #{report.id} {report.outlet}: {report.title}{flag}")
        tracked = [r for r in matched if how[r.id] in ("story", "profile")]
        if tracked:
            out(f"  {len(tracked)} of them the query alone would miss: "
                f"planwatch --db {settings.db_path} topics explain {topic.name} {tracked[-1].id}")  # fmt: skip
        others = [r for r in reports if r.id not in how]
        if others:
            out("Not followed (other news):")
            for report in others:
                out(f"  #{report.id} {report.outlet}: {report.title}")
        window = timedelta(hours=48)  # the sample story unfolds over the last 40 hours
        out("")
        out("=" * 100)
        out("What is being reported (planwatch ask summary --since 48h):\n")
        out(summary_text(await stories.summary(store, topic.name, window)))
        out("")
        out("=" * 100)
        out("By whom, and since when (planwatch ask sources --since 48h):\n")
        out(sources_text(await stories.sources(store, topic.name, window)))
        out("")
        out("=" * 100)
        out(await _demo_digest(store, settings))
        out("")
        out(f"Try: planwatch --db {settings.db_path} ask timeline   (or: ask latest, ask search kremlin, articles --json)")
    finally:
        await poller.close()
        await store.close()
        await server.stop()
    return 0
