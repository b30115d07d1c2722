"""The `planwatch` command. Its command names, flags and --json shapes are a contract (see README).

Exit codes: 0 ok, 1 a failure (one clear line on stderr), 2 a usage error."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from planwatch import __version__
from planwatch.config import Settings, load_settings
from planwatch.durations import parse_duration
from planwatch.errors import ConfigError, PlanwatchError, UsageError
from planwatch.logs import setup_logging
from planwatch.store import Store
from planwatch.timeutil import to_db, utcnow

if TYPE_CHECKING:
    from planwatch.services.topics import Correction

Handler = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]
log = logging.getLogger("planwatch")
MAX_ARTICLES = 1_000_000
MAX_SNOWFLAKE = 2**64 - 1  # Discord ids are unsigned 64-bit


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


async def _write_text(name: str, text: str) -> None:
    path = Path(name)
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {name}: folder {path.parent} does not exist")
    try:
        await asyncio.to_thread(path.write_text, text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {name}: {exc.strerror}") from None


# --- handlers --------------------------------------------------------------------------------------------
async def cmd_db_migrate(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.store.migrate import migrate

    store = await Store.open(settings.db_path, run_migrations=False)
    try:
        applied = await migrate(store.db)
        # A migration that changed a topic's query (0012) leaves it to be matched again, here.
        rematched = await store.topics.rematch_flagged(utcnow())
    finally:
        await store.close()
    if applied:
        for m in applied:
            print(f"applied {m.version:04d}_{m.name}")
        if rematched:
            print(f"matched {rematched} topic(s) again against the stored reports")
    else:
        print(f"{settings.db_path}: schema is up to date")
    return 0


async def cmd_feeds_add(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.services.feeds import add_feed

    async with await Store.open(settings.db_path) as store:
        feed = await add_feed(store, settings, ns.url, name=ns.name, interval=ns.interval)
    print(f"added feed #{feed.id} {feed.url} (every {feed.interval_minutes} min); it is polled on the next tick")
    return 0


async def cmd_feeds_list(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.services.feeds import feed_json

    async with await Store.open(settings.db_path) as store:
        feeds = await store.feeds.list_all()
    if ns.json:
        _print_json([feed_json(f) for f in feeds])
        return 0
    if not feeds:
        print("no feeds yet: planwatch feeds add URL, or planwatch feeds import FILE.opml")
        return 0
    for feed in feeds:
        data = feed_json(feed)
        line = f"#{feed.id} [{feed.status}] {data['name']} <{data['url']}>"
        if feed.status == "paused":
            line += f" paused: {feed.paused_reason}"
        elif data["next_poll_at"]:
            line += f" next poll {data['next_poll_at']}"
        if feed.consecutive_failures:
            line += f" ({feed.consecutive_failures} failures in a row)"
        if data["last_error"]:
            line += f" last error: {data['last_error']}"
        print(line)
    return 0


async def cmd_feeds_remove(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.services.feeds import remove_feed, shown_url

    async with await Store.open(settings.db_path) as store:
        feed = await remove_feed(store, ns.feed)
    print(f"removed feed #{feed.id} {shown_url(feed)} (its reports stay)")
    return 0


async def cmd_feeds_pause(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.services.feeds import pause_feed

    async with await Store.open(settings.db_path) as store:
        feed = await pause_feed(store, ns.feed, ns.command == "pause")
    print(f"feed #{feed.id} is now {feed.status}")
    return 0


async def cmd_feeds_import(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.services.feeds import import_opml, read_file

    data = read_file(Path(ns.file))
    async with await Store.open(settings.db_path) as store:
        result = await import_opml(store, settings, data)
    print(f"imported {len(result.added)} feeds, skipped {len(result.skipped)}")
    for url, reason in result.skipped:
        print(f"  skipped {url}: {reason}")
    return 0


async def cmd_feeds_export(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.services.feeds import export_opml

    async with await Store.open(settings.db_path) as store:
        text = await export_opml(store)
    if ns.file and ns.file != "-":
        await _write_text(ns.file, text)
        print(f"wrote {ns.file}")
    else:
        sys.stdout.write(text)
    return 0


async def cmd_topics_add(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.services.topics import add_topic, parse_aliases

    async with await Store.open(settings.db_path) as store:
        topic, matched = await add_topic(
            store, ns.name, ns.query, description=ns.description or "", aliases=parse_aliases(ns.alias)
        )
    print(f"added topic {topic.name}: {matched} stored reports match it")
    return 0


async def cmd_topics_edit(ns: argparse.Namespace, settings: Settings) -> int:
    """Change a topic's query, description or aliases (the default topic's too): every stored report is
    matched again at once. --alias replaces all alias groups; --no-aliases clears them."""
    from planwatch.services.topics import edit_topic, parse_aliases

    aliases = [] if ns.no_aliases else (parse_aliases(ns.alias) if ns.alias else None)
    async with await Store.open(settings.db_path) as store:
        topic, matched = await edit_topic(store, ns.name, query=ns.query, description=ns.description, aliases=aliases)
    print(f"edited topic {topic.name}: {matched} stored reports match it")
    return 0


async def cmd_topics_list(ns: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.db_path) as store:
        topics = await store.topics.list_all()
        counts = await store.topics.match_counts()
    if ns.json:
        _print_json(
            [
                {"id": t.id, "name": t.name, "description": t.description, "query": t.query,
                 "aliases": t.aliases, "scope": t.scope, "report_count": counts.get(t.id, 0)}
                for t in topics
            ]
        )  # fmt: skip
        return 0
    for t in topics:
        print(f"{t.name} ({counts.get(t.id, 0)} reports): {t.description or '-'}\n  query: {t.query}")
    if not topics:
        print("no topics: planwatch topics add NAME --query Q")
    return 0


async def cmd_topics_explain(ns: argparse.Namespace, settings: Settings) -> int:
    """Whether a report is the topic's, and why: by its own words (the query terms it contains), by
    the story it joined (and the report of that story that matched), or not at all."""
    from planwatch.services.topics import explain

    async with await Store.open(settings.db_path) as store:
        found = await explain(store, ns.name, ns.report_id)
    if ns.json:
        _print_json(found.as_json())
    else:
        print(found.line())
    return 0


async def cmd_topics_pin(ns: argparse.Namespace, settings: Settings) -> int:
    """Make a report the topic's whatever its words (it then teaches the topic's profile and brings
    its story in); --undo: it is the topic's again only if its words or its story say so."""
    return await _topics_correct(ns, settings, "pin")


async def cmd_topics_exclude(ns: argparse.Namespace, settings: Settings) -> int:
    """Take a report out of the topic for good: neither its words, nor its story, nor the profile
    bring it back (the story members only it brought in leave too); --undo lifts the exclusion."""
    return await _topics_correct(ns, settings, "exclude")


async def _topics_correct(ns: argparse.Namespace, settings: Settings, action: Correction) -> int:
    from planwatch.services.topics import correct

    async with await Store.open(settings.db_path) as store:
        found = await correct(store, ns.name, ns.report_id, action, undo=ns.undo)
    if ns.json:
        _print_json(found.as_json())
    else:
        print(found.line())
    return 0


async def cmd_topics_profile(ns: argparse.Namespace, settings: Settings) -> int:
    """What the topic has learned from the reports its query matched (or that were pinned) in the
    story window: its heaviest terms, with its pins and exclusions."""
    from planwatch.services.topics import profile

    async with await Store.open(settings.db_path) as store:
        view = await profile(store, ns.name)
    if ns.json:
        _print_json(view.as_json())
    else:
        print("\n".join(view.lines()))
    return 0


async def cmd_topics_remove(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.services.topics import remove_topic

    async with await Store.open(settings.db_path) as store:
        followers = await remove_topic(store, ns.name, force=ns.force)
    print(f"removed topic {ns.name}" + (f" (it was followed by {followers.describe()})" if followers.count else ""))
    return 0


async def cmd_poll(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.ingest.poller import Poller

    if not ns.once:
        raise UsageError("poll needs --once (the scheduler that polls continuously is `planwatch run`)")
    async with await Store.open(settings.db_path) as store:
        poller = Poller(store, settings)
        try:
            results = await poller.poll_once(force=ns.force)
        finally:
            await poller.close()
    if not results:
        print("nothing to poll: no feeds, or all are paused or backing off (--force ignores backoff)")
    for result in results:
        print(result.line())
    return 0


async def cmd_articles(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.services.articles import article_json, list_articles

    since = parse_duration(ns.since) if ns.since else None
    if not 1 <= ns.limit <= MAX_ARTICLES:
        raise UsageError(f"--limit must be between 1 and {MAX_ARTICLES} (got {ns.limit})")
    async with await Store.open(settings.db_path) as store:
        reports = await list_articles(store, topic=ns.topic, since=since, limit=ns.limit)
    if ns.json:
        _print_json([article_json(r) for r in reports])
        return 0
    if not reports:
        window = f" in the last {ns.since}" if ns.since else ""
        print(f"no reports{window}" + (f" for {ns.topic}" if ns.topic else ""))
    for r in reports:
        print(f"{r.first_seen_at:%Y-%m-%d %H:%M}Z  {r.outlet}: {r.title}\n    {r.url or '(no link)'}")
    return 0


async def cmd_ask(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch import textviews
    from planwatch.services import stories

    async with await Store.open(settings.db_path) as store:
        if ns.command == "summary":
            summary = await stories.summary(store, ns.topic, parse_duration(ns.since))
            output, data = textviews.summary_text(summary), summary.as_json()
        elif ns.command == "sources":
            listing = await stories.sources(store, ns.topic, parse_duration(ns.since))
            output, data = textviews.sources_text(listing), listing.as_json()
        elif ns.command == "timeline":
            events = await stories.timeline(store, ns.topic, parse_duration(ns.since))
            output, data = textviews.timeline_text(events), events.as_json()
        elif ns.command == "latest":
            topic, reports = await stories.latest(store, ns.topic, ns.count)
            output = textviews.latest_text(topic.name, reports)
            data = {"topic": topic.name, "reports": [textviews.report_json(r) for r in reports]}
        else:
            since = parse_duration(ns.since) if ns.since else None
            hits = await stories.search(store, ns.query, since, limit=ns.limit)
            output, data = (
                textviews.search_text(ns.query, hits),
                {"query": ns.query, "results": [h.as_json() for h in hits]},
            )
    if ns.json:
        _print_json(data)
    else:
        print(output)
    return 0


async def cmd_outlets(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.stories.outlets import BUILTIN

    async with await Store.open(settings.db_path) as store:
        if ns.command == "add":
            name = ns.name.strip()
            if not name or len(name) > 100:
                raise UsageError("an outlet name is 1 to 100 characters")
            await store.outlets.add(name, [a.strip() for a in ns.alias or [] if a.strip()], utcnow())
            print(f"outlet {name} added; `planwatch stories rebuild` applies it to stored reports")
            return 0
        if ns.command == "remove":
            await store.outlets.remove(ns.name)
            print(f"outlet {ns.name} removed")
            return 0
        extra = await store.outlets.extra()
    rows = [{"name": o.name, "aliases": list(o.aliases), "source": "built-in"} for o in BUILTIN]
    rows += [{"name": o.name, "aliases": list(o.aliases), "source": "added"} for o in extra]
    if ns.json:
        _print_json(rows)
    else:
        for row in rows:
            aliases = f" (also: {', '.join(row['aliases'])})" if row["aliases"] else ""
            print(f"{row['name']}{aliases}{'  [added]' if row['source'] == 'added' else ''}")
    return 0


async def cmd_stories_rebuild(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.stories.refresh import refresh_stories

    async with await Store.open(settings.db_path) as store:
        await store.stories.clear()
        result = await refresh_stories(store)
    print(f"analysed {result.analysed} reports: {result.new_stories} stories, {result.copies} copies")
    return 0


async def cmd_sync(ns: argparse.Namespace, settings: Settings) -> int:
    from bot.sync import dry_run_payload, sync_commands

    if ns.guild is not None and not 0 < ns.guild <= MAX_SNOWFLAKE:
        raise UsageError(f"--guild {ns.guild} is not a Discord server id (right-click the server: Copy Server ID)")
    if ns.dry_run:
        payload = dry_run_payload()
        if ns.json:
            _print_json(payload)
        else:
            for command in payload:
                print(f"/{command['name']}: {command.get('description', '')}")
            print(f"{len(payload)} commands would be sent {'to guild ' + str(ns.guild) if ns.guild else 'globally'}")
        return 0
    count = await sync_commands(settings.discord_token, ns.guild)
    print(f"synced {count} commands {'to guild ' + str(ns.guild) if ns.guild else 'globally (may take up to an hour)'}")
    return 0


async def cmd_subscribers(ns: argparse.Namespace, settings: Settings) -> int:
    from digests.jobs import deliver
    from digests.schedule import composer_for, queue_confirmation
    from planwatch.services import subscriptions
    from planwatch.services.topics import DEFAULT_TOPIC, GLOBAL_SCOPE
    from planwatch.store.subscribers import Subscriber

    async with await Store.open(settings.db_path) as store:
        if ns.command == "add":
            if any(not t.strip() for t in ns.topic or []):
                raise UsageError("--topic is empty: name a topic (see planwatch topics list), or leave it out")
            if ns.tz is not None and not ns.tz.strip():
                raise UsageError("--tz is empty: give an IANA time zone such as Europe/Kyiv, or leave it out for UTC")
            # Order kept, repeats dropped: `--topic x --topic x` is one topic, not two sections of one digest.
            topics = list(dict.fromkeys(t.strip().lower() for t in ns.topic or [])) or [DEFAULT_TOPIC]
            for name in topics:
                await store.topics.get(name, GLOBAL_SCOPE)
            request = subscriptions.check_request(ns.email, topics, ns.hour, ns.tz)
            now = utcnow()
            composer = await composer_for(store, settings)

            async def send(subscriber: Subscriber) -> bool:
                return await queue_confirmation(store, composer, subscriber, "the command line", now)

            result = await subscriptions.subscribe(
                store, request, scope=GLOBAL_SCOPE, now=now, confirmed=ns.confirmed, send_confirmation=send
            )
            if result.status == "confirmation-sent":
                await deliver(store, settings)
            print(f"{result.subscriber.email}: {result.status.replace('-', ' ')}")
            return 0
        if ns.command == "remove":
            found = await store.subscribers.by_email(subscriptions.check_email(ns.email))
            if not found:
                raise UsageError(f"no subscriber {ns.email}")
            for subscriber in found:
                await store.subscribers.remove(subscriber.id)
            print(f"removed {ns.email} ({len(found)} subscription{'s' if len(found) != 1 else ''})")
            return 0
        subscribers = await store.subscribers.list_all()
    rows = [
        {"id": s.id, "email": s.email, "status": s.status, "topics": s.topics, "hour": s.hour, "timezone": s.timezone,
         "scope": s.scope, "discord_user_id": s.discord_user_id, "requested_at": to_db(s.requested_at),
         "confirmed_at": to_db(s.confirmed_at) if s.confirmed_at else None}
        for s in subscribers
    ]  # fmt: skip
    if ns.json:
        _print_json(rows)
    else:
        for s in subscribers:
            print(f"#{s.id} [{s.status}] {s.email}: {', '.join(s.topics)} daily at {s.hour:02d}:00 {s.timezone}")
        if not rows:
            print("no subscribers yet: planwatch subscribers add EMAIL")
    return 0


async def cmd_digest(ns: argparse.Namespace, settings: Settings) -> int:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from digests.build import window_for
    from digests.jobs import deliver
    from digests.schedule import check_send_date, composer_for, day_has_come, queue_for_date

    def not_yet_line(count: int, day: dt.date) -> str:
        who = "subscriber" if count == 1 else "subscribers"
        return f"{count} {who} left out: {day.isoformat()} has not come yet in their time zone; it is sent on the day"

    async with await Store.open(settings.db_path) as store:
        composer = await composer_for(store, settings)
        now = utcnow()
        if ns.command == "preview":
            from planwatch.services.subscriptions import check_email

            found = await store.subscribers.by_email(check_email(ns.email))
            if not found:
                raise UsageError(f"no subscriber {ns.email}: add one with planwatch subscribers add")
            subscriber = found[0]
            local = now.astimezone(ZoneInfo(subscriber.timezone))
            composed = await composer.digest(subscriber, window_for(subscriber, local.date(), now))
            if ns.html:
                await asyncio.to_thread(Path(ns.html).write_text, composed.html, "utf-8")
                print(f"wrote {ns.html}")
            if ns.text or not ns.html:
                print(composed.text)
            return 0
        try:
            day = dt.date.fromisoformat(ns.date) if ns.date else now.date()
        except ValueError:
            raise UsageError(f"invalid --date {ns.date!r}: use YYYY-MM-DD") from None
        await check_send_date(store, day, now)
        if ns.dry_run:
            confirmed = await store.subscribers.list_all("confirmed")
            come = [s for s in confirmed if day_has_come(s, day, now)]
            pending = [s for s in come if not await store.outbox.exists(s.id, "digest", day.isoformat())]
            print(f"would queue {day.isoformat()}'s digest for {len(pending)} of {len(confirmed)} confirmed subscribers")
            if len(come) < len(confirmed):
                print(not_yet_line(len(confirmed) - len(come), day))
            return 0
        queued = await queue_for_date(store, settings, composer, day, now)
        delivered = await deliver(store, settings)
    where = "via SMTP" if settings.smtp_url else f"to {settings.outbox_dir}/"
    print(f"{day.isoformat()}: {queued.queued} queued, {queued.skipped} with nothing new; sent {delivered.sent} {where},"
          f" {delivered.retried} to retry, {delivered.failed} failed")  # fmt: skip
    if queued.not_yet:
        print(not_yet_line(queued.not_yet, day))
    for late in queued.late:
        many = late.reports != 1
        print(f"{late.reports} report{'s' if many else ''} arrived after today's window closed at {late.closed_at:%H:%M}"
              f" {late.zone}; {'they go' if many else 'it goes'} in tomorrow's digest")  # fmt: skip
    return 0


async def cmd_demo(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.demo.run import DEMO_DB, run_demo

    db = Path(ns.db) if ns.db else DEMO_DB
    return await run_demo(settings.with_overrides(db_path=db))


async def cmd_run(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.service import run_service

    if ns.no_starter_feeds:
        settings = settings.with_overrides(import_starter_feeds=False)
    return await run_service(settings)


async def cmd_health(ns: argparse.Namespace, settings: Settings) -> int:
    from planwatch.health import health

    if not settings.db_path.exists():
        print(f"unhealthy: no database at {settings.db_path}", file=sys.stderr)
        return 1
    try:
        ok, message = await health(settings)
    except sqlite3.Error as exc:
        ok, message = False, f"database error: {exc}"
    print(message if ok else f"unhealthy: {message}", file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


# --- parser ----------------------------------------------------------------------------------------------
class OneLineParser(argparse.ArgumentParser):
    """argparse prints its whole usage block before the error; the contract is one line on stderr.
    Subparsers are made with the parent's class, so every subcommand gets this too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="planwatch", description="Follow one developing news story across many outlets.")
    parser.add_argument("--version", action="version", version=f"planwatch {__version__}")
    parser.add_argument("--db", metavar="PATH", help="SQLite database file (default: $PLANWATCH_DB or planwatch.db)")
    parser.add_argument("--config", metavar="FILE", help="TOML settings file (default: ./planwatch.toml if present)")
    parser.add_argument(
        "--log-level", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="log verbosity (any case)"
    )
    sub = parser.add_subparsers(dest="area", metavar="COMMAND", required=True)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="command", required=True)
    db.add_parser("migrate", help="apply pending schema migrations").set_defaults(func=cmd_db_migrate)

    feeds = sub.add_parser("feeds", help="manage the feeds that are polled").add_subparsers(dest="command", required=True)
    p = feeds.add_parser("add", help="watch a feed")
    p.add_argument("url")
    p.add_argument("--name", help="outlet name to show (default: the feed's title)")
    p.add_argument("--interval", type=int, metavar="MIN", help="minutes between polls (default 15, minimum 5)")
    p.set_defaults(func=cmd_feeds_add)
    p = feeds.add_parser("list", help="feeds with their health")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_feeds_list)
    p = feeds.add_parser("remove", help="stop watching a feed (its reports stay)")
    p.add_argument("feed", metavar="URL|ID")
    p.set_defaults(func=cmd_feeds_remove)
    for name, text in (("pause", "stop polling a feed for now"), ("resume", "poll a paused feed again")):
        p = feeds.add_parser(name, help=text)
        p.add_argument("feed", metavar="URL|ID")
        p.set_defaults(func=cmd_feeds_pause)
    p = feeds.add_parser("import", help="add the feeds of an OPML file")
    p.add_argument("file", metavar="FILE.opml")
    p.set_defaults(func=cmd_feeds_import)
    p = feeds.add_parser("export", help="write the feeds as OPML 2.0 (to stdout without FILE)")
    p.add_argument("file", nargs="?", metavar="FILE")
    p.set_defaults(func=cmd_feeds_export)

    topics = sub.add_parser("topics", help="manage watched topics").add_subparsers(dest="command", required=True)
    p = topics.add_parser("add", help="watch a topic (stored reports are matched at once)")
    p.add_argument("name", help="slug: lower-case letters, digits, dashes")
    p.add_argument("--query", required=True, help='terms and "phrases" with AND, OR, NOT, ( )')
    p.add_argument("--description", help="one line for readers")
    p.add_argument("--alias", action="append", metavar="A|B", help="spellings that mean the same (repeatable)")
    p.set_defaults(func=cmd_topics_add)
    p = topics.add_parser("edit", help="change a topic's query, description or aliases (stored reports matched again)")
    p.add_argument("name")
    p.add_argument("--query", help='terms and "phrases" with AND, OR, NOT, ( )')
    p.add_argument("--description", help="one line for readers")
    aliases = p.add_mutually_exclusive_group()
    aliases.add_argument(
        "--alias", action="append", metavar="A|B", help="spellings that mean the same (repeatable; replaces them all)"
    )
    aliases.add_argument("--no-aliases", action="store_true", help="drop every alias group")
    p.set_defaults(func=cmd_topics_edit)
    p = topics.add_parser("list", help="topics with their report counts")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_topics_list)
    p = topics.add_parser("explain", help="whether a report is a topic's, and why (query, story, profile, pin, or not)")
    p.add_argument("name")
    p.add_argument("report_id", type=int, metavar="REPORT_ID", help="as `planwatch articles` lists it")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_topics_explain)
    for command, func, what in (
        ("pin", cmd_topics_pin, "make a report the topic's whatever its words (a moderator's correction)"),
        ("exclude", cmd_topics_exclude, "take a report out of the topic for good (a moderator's correction)"),
    ):
        p = topics.add_parser(command, help=what)
        p.add_argument("name")
        p.add_argument("report_id", type=int, metavar="REPORT_ID", help="as `planwatch articles` lists it")
        p.add_argument("--undo", action="store_true", help=f"undo a {command}")
        p.add_argument("--json", action="store_true", help="machine-readable output (as `topics explain --json`)")
        p.set_defaults(func=func)
    p = topics.add_parser("profile", help="what a topic has learned from its matches: terms, pins, exclusions")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_topics_profile)
    p = topics.add_parser("remove", help="stop watching a topic")
    p.add_argument("name")
    p.add_argument("--force", action="store_true", help="remove it even though subscribers or alert channels follow it")
    p.set_defaults(func=cmd_topics_remove)

    p = sub.add_parser("poll", help="poll feeds now")
    p.add_argument("--once", action="store_true", help="poll every feed that is not paused or backing off, then exit")
    p.add_argument("--force", action="store_true", help="with --once: ignore backoff too")
    p.set_defaults(func=cmd_poll)

    p = sub.add_parser("articles", help="stored reports, newest first")
    p.add_argument("--topic", metavar="NAME", help="only reports matching this topic")
    p.add_argument("--since", metavar="DURATION", help="only reports first seen in this window, e.g. 48h, 7d")
    p.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_articles)

    ask = sub.add_parser("ask", help="what is reported, by whom, since when").add_subparsers(dest="command", required=True)
    for name, text, default_since in (
        ("summary", "3 to 7 key points with their outlets and labels", "24h"),
        ("sources", "every report once, grouped by story, with who cites whom", "24h"),
        ("timeline", "the story as it unfolded", "7d"),
    ):
        p = ask.add_parser(name, help=text)
        p.add_argument("--topic", default="ukraine-peace-plan", help="topic name (default: ukraine-peace-plan)")
        p.add_argument("--since", default=default_since, metavar="DURATION", help=f"window (default {default_since})")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=cmd_ask)
    p = ask.add_parser("latest", help="the newest reports of a topic")
    p.add_argument("--topic", default="ukraine-peace-plan", help="topic name (default: ukraine-peace-plan)")
    p.add_argument("--count", type=int, default=10, help="how many (1-100, default 10)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_ask)
    p = ask.add_parser("search", help="full-text search over every stored report")
    p.add_argument("query", help='terms and "phrases" with AND, OR, NOT, ( )')
    p.add_argument("--since", metavar="DURATION", help="only reports published in this window")
    p.add_argument("--limit", type=int, default=20, help="at most this many (1-100, default 20)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_ask)

    outlets = sub.add_parser("outlets", help="outlets that citations are recognised for").add_subparsers(
        dest="command", required=True
    )
    p = outlets.add_parser("list", help="built-in and added outlets with their aliases")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_outlets)
    p = outlets.add_parser("add", help="recognise another outlet (or more aliases of a built-in one)")
    p.add_argument("name")
    p.add_argument("--alias", action="append", metavar="NAME", help="another name it goes by (repeatable)")
    p.set_defaults(func=cmd_outlets)
    p = outlets.add_parser("remove", help="forget an added outlet")
    p.add_argument("name")
    p.set_defaults(func=cmd_outlets)
    stories_cmd = sub.add_parser("stories", help="the story analysis").add_subparsers(dest="command", required=True)
    stories_cmd.add_parser("rebuild", help="analyse every report again (after adding outlets)").set_defaults(
        func=cmd_stories_rebuild
    )

    p = sub.add_parser("sync", help="register the slash commands with Discord (not done at every start)")
    p.add_argument("--guild", type=int, metavar="ID", help="one server (instant; for development) instead of globally")
    p.add_argument("--dry-run", action="store_true", help="print what would be sent; no token, no network")
    p.add_argument("--json", action="store_true", help="with --dry-run: the exact JSON payload")
    p.set_defaults(func=cmd_sync)

    subs = sub.add_parser("subscribers", help="digest email subscribers").add_subparsers(dest="command", required=True)
    p = subs.add_parser("add", help="subscribe an address (a confirmation mail goes out first)")
    p.add_argument("email")
    p.add_argument("--topic", action="append", metavar="T", help="topic name (repeatable; default ukraine-peace-plan)")
    p.add_argument("--hour", type=int, help="hour of delivery, 0-23 (default 7)")
    p.add_argument("--tz", metavar="ZONE", help="IANA time zone (default UTC)")
    p.add_argument("--confirmed", action="store_true", help="for lists that already opted in: no confirmation mail")
    p.set_defaults(func=cmd_subscribers)
    p = subs.add_parser("list", help="every subscriber and their status")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_subscribers)
    p = subs.add_parser("remove", help="delete a subscriber")
    p.add_argument("email")
    p.set_defaults(func=cmd_subscribers)
    digest = sub.add_parser("digest", help="the daily digest email").add_subparsers(dest="command", required=True)
    p = digest.add_parser("preview", help="today's digest for a subscriber, without sending it")
    p.add_argument("--email", required=True)
    p.add_argument("--html", metavar="FILE", help="write the HTML part to FILE")
    p.add_argument("--text", action="store_true", help="print the text part")
    p.set_defaults(func=cmd_digest)
    p = digest.add_parser("send", help="queue and send a day's digest to every confirmed subscriber who lacks it")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the day (default today, UTC): not ahead of today, at most 30 days back")
    p.add_argument("--dry-run", action="store_true", help="say how many would be sent; send nothing")
    p.set_defaults(func=cmd_digest)

    sub.add_parser("demo", help="run the pipeline on the bundled sample feeds").set_defaults(func=cmd_demo)
    p = sub.add_parser("run", help="the long-running service")
    p.add_argument("--no-starter-feeds", action="store_true", help="do not import the starter feeds into an empty database")
    p.set_defaults(func=cmd_run)
    sub.add_parser("health", help="exit 0 if the service is healthy (for container health checks)").set_defaults(func=cmd_health)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    try:
        settings = load_settings(
            config_file=Path(ns.config) if ns.config else None,
            db_path=Path(ns.db) if ns.db and ns.area != "demo" else None,
            log_level=ns.log_level,
        )
    except PlanwatchError as exc:
        print(f"planwatch: error: {exc}", file=sys.stderr)
        return 2
    # Commands stay quiet (warnings only) unless a level was asked for; the service logs at its level.
    chosen = ns.area == "run" or ns.log_level or os.environ.get("PLANWATCH_LOG_LEVEL")
    setup_logging(settings.log_level if chosen else "WARNING", settings.secret_values)
    handler: Handler = ns.func
    try:
        return asyncio.run(handler(ns, settings))
    except (UsageError, ConfigError) as exc:
        print(f"planwatch: error: {exc}", file=sys.stderr)
        return 2
    except PlanwatchError as exc:
        print(f"planwatch: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head & co: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except sqlite3.Error as exc:
        print(f"planwatch: error: {_database_problem(exc, settings.db_path)}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file, folder or connection the system refused: say which, not "unexpected"
        reason = exc.strerror or str(exc)
        print(f"planwatch: error: {f'cannot use {exc.filename}: ' if exc.filename else ''}{reason}", file=sys.stderr)
        return 1
    except Exception as exc:  # the last line of defence: one line, details in the log
        log.debug("unexpected error", exc_info=True)
        print(f"planwatch: error: unexpected {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1


def _database_problem(exc: sqlite3.Error, path: Path) -> str:
    text = str(exc)
    if "readonly" in text:
        return f"database {path} is read-only ({text}): make the file and its folder writable by this user"
    return f"database {path}: {text}"


if __name__ == "__main__":
    sys.exit(main())
