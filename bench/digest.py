"""Digest delivery at scale: S confirmed subscribers get the day's digest, rendered, queued and delivered
over SMTP to a local aiosmtpd server, against the same message bytes through a bare aiosmtplib loop.

    python bench/digest.py [--subscribers 10000] [--reports 200]

Targets (issue #5): Planwatch's delivery rate >= 0.8 of the bare aiosmtplib loop's; under 5 ms to
render (and queue) one digest. The SMTP server runs in its own process so it does not share the
measured process's CPU time; its handler only counts messages."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import socket
import statistics
import tempfile
import threading
import time
from datetime import datetime, timedelta
from email.utils import parseaddr
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosmtplib

from digests.deliver import DeliveryResult, deliver_due
from digests.mailer import SmtpMailer
from digests.schedule import composer_for, queue_for_date
from planwatch.config import Settings, load_settings
from planwatch.models import Entry
from planwatch.services.subscriptions import check_request
from planwatch.store import Store
from planwatch.store.subscribers import OutboxRepo
from planwatch.stories.refresh import refresh_stories
from planwatch.timeutil import to_db, utcnow

TOPIC = "ukraine-peace-plan"  # the default topic (migrations/0002_default_topic.sql)
HOURS = (18, 19, 20, 21, 22)
ZONES_NEAR_NOON = 3  # fixed-offset zones where it is 11:xx, 12:xx and 13:xx at the start of the run
DOMAINS = ("example.org", "example.net", "example.com", "mail.example")
SEEN_WITHIN = timedelta(hours=6)  # reports first seen over the last 6 hours

ACTORS = "Witkoff Dmitriev Zelenskyy Peskov Kallas Rubio Driscoll Umerov Yermak Erdogan Macron Starmer".split()
PLACES = "Kyiv Moscow Washington Istanbul Geneva Brussels Ankara Abu-Dhabi Warsaw Berlin Miami Riyadh".split()
ACTIONS = (
    "met to discuss the 28-point peace plan",
    "rejected parts of the draft peace plan",
    "proposed changes to the 28-point framework",
    "said the Witkoff plan would cap the army at 600,000",
    "denied that new proposals were on the table",
    "called the leaked 28-point draft unacceptable",
    "welcomed talks on the peace plan",
)
FILLER = (
    "Officials familiar with the talks said the document was still changing. The reports could not be verified "
    "independently. Negotiators are expected to meet again next week, according to Reuters. Ukraine says it "
    "will not cede territory it still controls, and European capitals want a seat at the table."
)


# --- the SMTP server, in its own process -----------------------------------------------------------------
def serve(port: int, ready: Event, received: Any) -> None:
    """aiosmtpd on 127.0.0.1:PORT; every message is counted in the shared `received` and accepted."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, Envelope, Session

    class Counter:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            received.value += 1
            return "250 OK"

    # server_hostname: without it aiosmtpd asks for this machine's FQDN (a DNS lookup) on every connection.
    controller = Controller(Counter(), hostname="127.0.0.1", port=port, server_hostname="bench.planwatch.example")
    controller.start()
    ready.set()
    threading.Event().wait()  # until the parent terminates this process


def free_port() -> int:
    """A port nobody uses now (aiosmtpd's Controller cannot bind port 0 and report it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the store ------------------------------------------------------------------------------------------
def make_entries(count: int, outlets: int, now: datetime, rng: random.Random) -> list[tuple[str, datetime, Entry]]:
    """(outlet, first seen, entry): reports on the default topic, first seen over the last hours."""
    out: list[tuple[str, datetime, Entry]] = []
    events = max(count // 8, 1)
    for n in range(count):
        event = rng.randrange(events)
        actor, place, action = ACTORS[event % len(ACTORS)], PLACES[(event // 3) % len(PLACES)], ACTIONS[event % len(ACTIONS)]
        outlet = f"Outlet {rng.randrange(outlets)}"
        title = f"{actor} {action} in {place} (event {event})"
        text = (
            f"{actor} {action} in {place} on Ukraine, as talks on the Witkoff plan continued. "
            f"The meeting in {place} was the {event}th such contact this month, {outlet} reported in dispatch {n}. " + FILLER
        )
        seen = now - timedelta(seconds=rng.randrange(60, int(SEEN_WITHIN.total_seconds())))
        published = seen - timedelta(minutes=rng.randrange(0, 30))
        entry = Entry(f"g{n}", f"https://outlet{outlet.split()[-1]}.example/news/{n}", title, text, None, "en", published, None)
        out.append((outlet, seen, entry))
    return sorted(out, key=lambda item: item[1])


async def add_reports(store: Store, count: int, now: datetime, rng: random.Random) -> None:
    """As bench/stories.py does: one feed per outlet, then save_batch + match_reports per report."""
    entries = make_entries(count, 20, now, rng)
    feeds: dict[str, int] = {}
    for outlet, _, _ in entries:
        if outlet not in feeds:
            url = f"https://{outlet.replace(' ', '').lower()}.example/rss"
            feeds[outlet] = (await store.feeds.add(url, name=outlet, interval_minutes=15, now=now - SEEN_WITHIN)).id
    async with store.transaction() as db:
        for outlet, seen, entry in entries:
            batch = await store.reports.save_batch(db, feed_id=feeds[outlet], outlet=outlet, entries=[entry], now=seen)
            await store.topics.match_reports(db, batch.new_ids, [], seen)


def zones_near_noon(now: datetime) -> tuple[str, ...]:
    """Zones where it is now 11:xx, 12:xx and 13:xx: one local date in all, and every delivery hour above
    still ahead in each, so each window is the 24 hours up to now and holds all the reports. (A day
    ahead of a reader's own today is refused: its row would stand in for that day's real digest.)"""
    offsets = [11 - now.hour + k for k in range(ZONES_NEAR_NOON)]  # UTC-12 .. UTC+13: each exists in Etc/
    return tuple("UTC" if o == 0 else f"Etc/GMT{-o:+d}" for o in offsets)  # POSIX signs: Etc/GMT-2 is UTC+2


async def add_subscribers(store: Store, count: int, now: datetime, zones: tuple[str, ...]) -> None:
    """S confirmed subscribers to the default topic, spread over 5 delivery hours x 3 time zones.

    Direct SQL in one transaction: subscribe(..., confirmed=True) costs about 1 ms a subscriber (a lookup,
    one transaction and a read-back each; ~10 s for 10,000), which would only slow the setup. The rows are
    the ones upsert_pending writes for a confirmed import, and check_request validates every value."""
    rows = []
    for n in range(count):
        request = check_request(f"reader{n}@{DOMAINS[n % len(DOMAINS)]}", [TOPIC], HOURS[n % len(HOURS)],
                                zones[(n // len(HOURS)) % len(zones)])  # fmt: skip
        rows.append((request.email, '["' + TOPIC + '"]', request.hour, request.timezone, to_db(now), to_db(now)))
    async with store.transaction() as db:
        await db.executemany(
            "INSERT INTO subscribers (email, scope, topics, hour, timezone, status, requested_at, confirmed_at)"
            " VALUES (?, 'global', ?, ?, ?, 'confirmed', ?, ?)",
            rows,
        )


class TimedOutbox(OutboxRepo):
    """The outbox, noting when each queue_digest starts (its `exists` check) and ends (its `queue`)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.starts: list[float] = []
        self.ends: list[float] = []

    async def exists(self, *args: Any, **kwargs: Any) -> bool:
        self.starts.append(time.perf_counter())
        return await super().exists(*args, **kwargs)

    async def queue(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return await super().queue(*args, **kwargs)
        finally:
            self.ends.append(time.perf_counter())


async def queued_messages(store: Store) -> list[tuple[str, bytes]]:
    """(recipient, message bytes) of every mail waiting, read back as Planwatch's delivery reads them."""
    items = await store.outbox.due(utcnow(), limit=1_000_000)
    out: list[tuple[str, bytes]] = []
    for start in range(0, len(items), 500):
        part = items[start : start + 500]
        messages = await store.outbox.messages([item.id for item in part])
        out += [(item.email, messages[item.id]) for item in part if item.id in messages]
    return out


# --- sending --------------------------------------------------------------------------------------------
async def bare_send(port: int, sender: str, messages: list[tuple[str, bytes]]) -> float:
    """The baseline: one aiosmtplib connection, one sendmail per message, nothing else."""
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30)
    start = time.perf_counter()
    await smtp.connect()
    for recipient, data in messages:
        await smtp.sendmail(sender, [recipient], data)
    await smtp.quit()
    return time.perf_counter() - start


async def planwatch_send(store: Store, settings: Settings, port: int) -> tuple[DeliveryResult, float]:
    """deliver_due (rate 0: no throttle), called again until a call finds nothing left to send."""
    mailer = SmtpMailer(f"smtp://127.0.0.1:{port}")
    results: list[DeliveryResult] = []
    start = time.perf_counter()
    while not results or results[-1].sent or results[-1].retried or results[-1].failed:
        results.append(await deliver_due(store, mailer, settings.mail_from, rate=0))  # rate 0: no throttle
    elapsed = time.perf_counter() - start
    total = DeliveryResult(*(sum(getattr(r, name) for r in results) for name in ("sent", "retried", "failed", "paused")))
    return total, elapsed


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


async def run(args: argparse.Namespace, port: int, received: Any) -> None:
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env={}, db_path=Path(tmp) / "digest.db", secret="bench-signing-secret-0123456789")
        store = await Store.open(settings.db_path)
        try:
            now = utcnow()
            setup = time.perf_counter()
            await add_reports(store, args.reports, now, rng)
            zones = zones_near_noon(now)
            await add_subscribers(store, args.subscribers, now, zones)
            setup = time.perf_counter() - setup
            start = time.perf_counter()
            analysed = await refresh_stories(store)  # the one-off analysis ingest does as reports arrive
            analysis = time.perf_counter() - start

            day = now.astimezone(ZoneInfo(zones[0])).date()  # today where the readers are
            subscribers = await store.subscribers.list_all("confirmed")
            timed = TimedOutbox(store)
            store.outbox = timed
            composer = await composer_for(store, settings)
            start = time.perf_counter()
            queued = await queue_for_date(store, settings, composer, day, now)
            queue_time = time.perf_counter() - start
            store.outbox = OutboxRepo(store)
            per_digest = [end - begin for begin, end in zip(timed.starts, timed.ends, strict=True)]

            messages = await queued_messages(store)
            sender = parseaddr(settings.mail_from)[1]

            await bare_send(port, sender, messages[:50])  # warm both ends up; not measured
            before = received.value
            bare_time = await bare_send(port, sender, messages)
            bare_received = received.value - before
            before = received.value
            delivered, deliver_time = await planwatch_send(store, settings, port)
            planwatch_received = received.value - before
            start = time.perf_counter()
            purged = await store.outbox.purge_finished()  # what digests.jobs.deliver does once the batch is out
            purge_time = time.perf_counter() - start
            counts = await store.outbox.counts()
        finally:
            await store.close()

    # Which digests rendered a body: the first of each (hour, zone) in queueing order (subscriber id).
    firsts: set[int] = set()
    seen_keys: set[tuple[int, str]] = set()
    for index, subscriber in enumerate(subscribers):
        if (subscriber.hour, subscriber.timezone) not in seen_keys:
            seen_keys.add((subscriber.hour, subscriber.timezone))
            firsts.add(index)
    rendered = [t for i, t in enumerate(per_digest) if i in firsts and i > 0]
    cached = [t for i, t in enumerate(per_digest) if i not in firsts]
    total = len(messages)
    sizes = [len(data) for _, data in messages]
    bare_rate = total / bare_time
    deliver_rate = delivered.sent / deliver_time
    median = statistics.median(per_digest)
    p95 = statistics.quantiles(per_digest, n=20)[-1] if len(per_digest) >= 20 else max(per_digest)

    print(f"subscribers:                   {len(subscribers):,} confirmed on {TOPIC} ({len(HOURS)} hours x {len(zones)} zones)")
    print(f"reports in the window:         {args.reports} (analysis once on arrival: {analysis * 1000:.0f} ms, "
          f"{analysed.analysed} reports; setup {setup:.1f} s)")  # fmt: skip
    print(f"messages:                      {total:,} queued ({queued.queued} queued, {queued.skipped} skipped), "
          f"{statistics.mean(sizes) / 1024:.1f} KB each on average")  # fmt: skip
    print(f"render+queue (queue_for_date): {queue_time:.2f} s, {queued.queued / queue_time:,.0f} digests/s")
    print(f"  per digest:                  median {ms(median)}, p95 {ms(p95)}, max {ms(max(per_digest))}")
    print(f"  first digest:                {ms(per_digest[0])} (topic section built, summary, render)")
    if rendered:
        print(f"  first of each hour x zone:   median {ms(statistics.median(rendered))} ({len(rendered)} more bodies rendered)")
    if cached:
        print(f"  cached body:                 median {ms(statistics.median(cached))} ({len(cached):,} digests)")
    print(f"  under 5 ms:                  {'yes' if median < 0.005 else 'NO'} (median {ms(median)})")
    print(f"Planwatch delivery:            {deliver_time:.2f} s, {deliver_rate:,.0f} messages/s "
          f"({delivered.sent} sent, {delivered.retried} to retry, {delivered.failed} failed; "
          f"server got {planwatch_received})")  # fmt: skip
    print(f"then sent bodies purged:       {purge_time:.2f} s ({purged:,} bodies; after the last mail, not on the send path)")
    print(f"Planwatch render+deliver:      {queue_time + deliver_time:.2f} s, "
          f"{delivered.sent / (queue_time + deliver_time):,.0f} messages/s")  # fmt: skip
    print(f"bare aiosmtplib loop:          {bare_time:.2f} s, {bare_rate:,.0f} messages/s (server got {bare_received})")
    print(f"ratio (Planwatch / bare):      {deliver_rate / bare_rate:.2f}   (target >= 0.8)")
    print(f"  counting the purge too:      {delivered.sent / (deliver_time + purge_time) / bare_rate:.2f}")
    print(f"outbox after delivery:         {dict(sorted(counts.items()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--reports", type=int, default=200)
    args = parser.parse_args()
    if args.subscribers < 1 or args.reports < 1:
        parser.error("--subscribers and --reports must be at least 1")
    ctx = multiprocessing.get_context("spawn")
    port = free_port()
    ready = ctx.Event()
    received = ctx.Value("q", 0, lock=False)  # only the server's one handler thread writes it
    server = ctx.Process(target=serve, args=(port, ready, received), daemon=True)
    server.start()
    try:
        if not ready.wait(60):
            raise SystemExit("the SMTP server did not start")
        asyncio.run(run(args, port, received))
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
