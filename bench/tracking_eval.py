"""Topic tracking, story grouping and copies on a labelled week of the story (issue 9).

    .venv/bin/python bench/tracking_eval.py [--data DIR ...] [--json] [--verbose]

Each data set (default: bench/data/week_dev, labelled "dev", and bench/data/week_check, "check", when
it is there) goes through the real pipeline into a fresh SQLite file in a temporary folder: every
outlet (one feed per outlet and language) is an RSS feed on a loopback aiohttp server that serves the
reports that have arrived by the simulated time (their `seen`), newest first, a report without a
`published` date without a pubDate. The poller, on a simulated clock, polls the feeds that are due
once an hour, for every hour in which something arrived, and the story refresh runs after each poll,
as the service's scheduler tick does. Then the figures are read back through the services the
commands use: a report is the topic's when `ask sources` (planwatch.services.stories.sources) lists
it for `ukraine-peace-plan` over the whole week, so whatever decides membership (the topic query
today; story or profile membership later) is measured as readers see it.

Figures (each in [0, 1] unless a count):
- topic recall: the share of the gold on-topic reports that the topic lists at the end, English and
  all languages. A report Planwatch did not store as its own (a re-post merged into an earlier report
  as "already known") counts as missed: readers do not see that outlet. "of stored" leaves those out,
  so it measures the topic alone; "at arrival" counts a report only if the topic listed it right after
  the poll round it arrived in (what a reader asking then would have seen). By day: recall over the
  reports that arrived on day 1, 2, ... of the week (by `seen`, UTC).
- topic precision: the share of the topic's reports that are gold on-topic.
- grouping: BCubed precision/recall/F1 of Planwatch's story ids against the gold events, over the
  on-topic reports, and over all reports with each decoy its own gold cluster. Only reports stored as
  their own count (a merged re-post has no story of its own; it is counted under copies).
- copies: precision/recall/F1 of the (report, copy_of) pairs Planwatch gives against the gold
  copy_of pairs (near-verbatim copies and verbatim re-posts, decoys included); a re-post merged
  into its original is a missed pair, and "reposts lost" counts them.
- wall time: the whole run of a set (server, polls, refreshes, reads), and of everything.

--json prints the same figures as JSON ({"sets": {label: figures}, "seconds": total}), so that later
runs can be diffed; --verbose also lists the missed on-topic reports and the decoys the topic took.
These are figures on data the tracking may have been tuned on (dev); the check set is held back."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.grouping_eval import bcubed
from planwatch.config import Settings
from planwatch.ingest.poller import Poller
from planwatch.ingest.urls import canonical_url
from planwatch.services import stories
from planwatch.services.articles import list_articles
from planwatch.services.feeds import add_feed
from planwatch.services.topics import DEFAULT_TOPIC
from planwatch.store import Store
from planwatch.stories.refresh import refresh_stories
from planwatch.timeutil import utcnow

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_SETS = (DATA / "week_dev", DATA / "week_check")
ROUND = timedelta(hours=1)
TITLE_CHARS = 70


class BenchError(Exception):
    """A data set that cannot be read, or a run that cannot be scored: one line for the user."""


# --- the data ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GoldReport:
    id: str
    outlet: str
    url: str
    published: datetime | None
    seen: datetime
    lang: str
    title: str
    summary: str
    paragraphs: tuple[str, ...]
    on_topic: bool
    event: str | None
    copy_of: str | None
    repost_of: str | None

    @property
    def key(self) -> str:
        """The URL as Planwatch stores it, which is how a stored report is traced back to its line."""
        return canonical_url(self.url) or self.url


@dataclass(frozen=True, slots=True)
class Week:
    label: str
    folder: Path
    reports: tuple[GoldReport, ...]
    events: int

    @property
    def first_day(self) -> datetime:
        return min(r.seen for r in self.reports).replace(hour=0, minute=0, second=0, microsecond=0)

    def day(self, report: GoldReport) -> int:
        return (report.seen - self.first_day).days + 1


def _time(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise BenchError(f"{where}: expected a UTC time such as 2025-11-19T10:05:00Z, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BenchError(f"{where}: not a time: {value!r}") from None
    if moment.tzinfo is None:
        raise BenchError(f"{where}: a time without a zone: {value!r}")
    return moment.astimezone(UTC)


def _report(row: dict[str, Any], where: str) -> GoldReport:
    try:
        gold = row["gold"]
        published = row["published"]
        return GoldReport(
            id=str(row["id"]),
            outlet=str(row["outlet"]),
            url=str(row["url"]),
            published=None if published is None else _time(published, f"{where} published"),
            seen=_time(row["seen"], f"{where} seen"),
            lang=str(row["lang"]),
            title=str(row["title"]),
            summary=str(row["summary"]),
            paragraphs=tuple(str(p) for p in row["paragraphs"]),
            on_topic=bool(gold["on_topic"]),
            event=gold["event"],
            copy_of=gold["copy_of"],
            repost_of=gold["repost_of"],
        )
    except (KeyError, TypeError) as exc:
        raise BenchError(f"{where}: not a report line of the week schema (missing or bad {exc})") from None


def label_of(folder: Path) -> str:
    return folder.name.removeprefix("week_")


def load_week(folder: Path, label: str | None = None) -> Week:
    path = folder / "reports.jsonl"
    if not path.is_file():
        raise BenchError(f"no reports.jsonl in {folder}")
    reports: list[GoldReport] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BenchError(f"{path}:{number}: not JSON ({exc})") from None
        if not isinstance(row, dict):
            raise BenchError(f"{path}:{number}: not a JSON object")
        reports.append(_report(row, f"{path}:{number}"))
    if not reports:
        raise BenchError(f"{path} holds no reports")
    ids = {r.id for r in reports}
    if len(ids) != len(reports) or len({r.key for r in reports}) != len(reports):
        raise BenchError(f"{path}: report ids and URLs must be unique")
    for r in reports:
        for other in (r.copy_of, r.repost_of):
            if other is not None and other not in ids:
                raise BenchError(f"{path}: {r.id} copies {other}, which is not in the set")
    events_path = folder / "events.jsonl"
    events = len([x for x in events_path.read_text(encoding="utf-8").splitlines() if x.strip()]) if events_path.is_file() else 0
    return Week(label or label_of(folder), folder, tuple(reports), events)


# --- the feeds -----------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Feed:
    outlet: str
    lang: str
    reports: list[GoldReport] = field(default_factory=list)


def _item(r: GoldReport) -> str:
    # The standfirst leads the body, as on the outlet's page; the description is the standfirst alone.
    body = "".join(f"<p>{escape(p)}</p>" for p in (r.summary, *r.paragraphs))
    date = f"<pubDate>{format_datetime(r.published, usegmt=True)}</pubDate>" if r.published else ""
    return (
        f"<item><title>{escape(r.title)}</title><link>{escape(r.url)}</link>"
        f'<guid isPermaLink="true">{escape(r.url)}</guid>{date}'
        f"<description>{escape(r.summary)}</description>"
        f"<content:encoded>{escape(body)}</content:encoded></item>"
    )


class WeekFeeds:
    """The week's outlets as RSS feeds on 127.0.0.1: each serves what has arrived by `now`, with an
    ETag, so a feed with nothing new answers 304 as a well-behaved outlet does."""

    def __init__(self, reports: Sequence[GoldReport]) -> None:
        self.now = datetime.min.replace(tzinfo=UTC)
        self.feeds: dict[str, _Feed] = {}
        for r in reports:
            slug = re.sub(r"[^a-z0-9]+", "-", f"{r.outlet}-{r.lang}".lower()).strip("-")
            self.feeds.setdefault(slug, _Feed(r.outlet, r.lang)).reports.append(r)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def body(self, slug: str) -> bytes:
        feed = self.feeds[slug]
        arrived = [r for r in feed.reports if r.seen <= self.now]
        site = re.sub(r"^(https?://[^/]+).*$", r"\1/", feed.reports[0].url)
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>{escape(feed.outlet)}</title><link>{escape(site)}</link><language>{escape(feed.lang)}</language>"
            + "".join(_item(r) for r in reversed(arrived))
            + "</channel></rss>"
        ).encode()

    async def _serve(self, request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        if slug not in self.feeds:
            raise web.HTTPNotFound()
        body = self.body(slug)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": etag})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/feeds/{slug}.xml", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    def urls(self) -> list[str]:
        return [f"{self.base_url}/feeds/{slug}.xml" for slug in self.feeds]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


# --- the run -------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Stored:
    """One gold report as Planwatch ended up holding it."""

    report_id: int
    story_id: int | None
    copy_of: str | None  # the gold id of the report Planwatch says this one copies
    member: bool  # listed by `ask sources` for the topic


@dataclass(frozen=True, slots=True)
class Observed:
    stored: dict[str, Stored]  # gold id -> its own stored report; a gold id absent here was merged away
    at_arrival: frozenset[str]  # topic members right after the poll round they arrived in
    rounds: int
    disagree: tuple[str, ...]  # gold ids that `articles --topic` and `ask sources` count differently


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _round_of(moment: datetime) -> datetime:
    """The hourly poll that first sees a report that arrived at `moment`."""
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + ROUND


async def _listed(store: Store, since: timedelta) -> set[str]:
    """The URLs of the reports `ask sources` lists for the topic: what readers see as the topic's."""
    listing = await stories.sources(store, DEFAULT_TOPIC, since)
    return {e.report.url for group in listing.stories for e in group.sources if e.report.url}


RoundHook = Callable[[Store, datetime], Awaitable[None]]


async def run_week(week: Week, folder: Path, after_round: RoundHook | None = None) -> Observed:
    """Feed the week through the pipeline into a fresh database in `folder` and read back what it shows.
    `after_round(store, moment)`: called after each poll round's refresh (other benches read answers
    as a reader would have had them at that time)."""
    by_round: dict[datetime, list[GoldReport]] = defaultdict(list)
    for r in week.reports:
        by_round[_round_of(r.seen)].append(r)
    rounds = sorted(by_round)
    clock = _Clock(rounds[0] - ROUND)  # the feeds are watched from before the week's first report
    settings = Settings(db_path=folder / "tracking.db", allow_private_feeds=True, parse_workers=0)
    server = WeekFeeds(week.reports)
    await server.start()
    store = await Store.open(settings.db_path)
    poller = Poller(store, settings, clock=clock)
    at_arrival: set[str] = set()
    try:
        for url in server.urls():
            await add_feed(store, settings, url)
        earliest = min([r.seen for r in week.reports] + [r.published for r in week.reports if r.published])
        since = utcnow() - earliest + timedelta(days=2)  # the whole week, whenever the bench runs
        for moment in [clock.now, *rounds]:
            clock.now = server.now = moment
            failed = [p for p in await poller.poll_due() if p.outcome == "error"]
            if failed:
                raise BenchError(f"{week.label}: poll at {moment:%Y-%m-%d %H:%M}Z failed: {failed[0].line()}")
            await refresh_stories(store, now=moment)
            if moment in by_round:
                listed = await _listed(store, since)
                at_arrival.update(r.id for r in by_round[moment] if r.key in listed)
            if after_round is not None:
                await after_round(store, moment)
        return await _observe(store, week, since, frozenset(at_arrival), len(rounds))
    finally:
        await poller.close()
        await store.close()
        await server.stop()


async def _observe(store: Store, week: Week, since: timedelta, at_arrival: frozenset[str], rounds: int) -> Observed:
    gold_by_key = {r.key: r.id for r in week.reports}
    articles = await list_articles(store, limit=len(week.reports) + 1)
    if len(articles) > len(week.reports):
        raise BenchError(f"{week.label}: Planwatch stored more reports than the set has")
    gold_of: dict[int, str] = {}
    for article in articles:
        gid = gold_by_key.get(article.url or "")
        if gid is None:
            raise BenchError(f"{week.label}: stored report #{article.id} ({article.url}) is not a report of the set")
        gold_of[article.id] = gid
    analysed = await store.stories.reports_by_id(list(gold_of))
    listed = await _listed(store, since)
    stored: dict[str, Stored] = {}
    disagree: list[str] = []
    for article in articles:
        gid = gold_of[article.id]
        analysis = analysed[article.id]
        member = article.url in listed
        if member != (DEFAULT_TOPIC in article.topics):
            disagree.append(gid)
        copy_of = gold_of.get(analysis.copy_of) if analysis.copy_of is not None else None
        stored[gid] = Stored(article.id, analysis.story_id, copy_of, member)
    return Observed(stored, at_arrival, rounds, tuple(sorted(disagree)))


# --- the figures ---------------------------------------------------------------------------------------------
def ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def harmonic(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _short(r: GoldReport) -> str:
    return r.title if len(r.title) <= TITLE_CHARS else r.title[: TITLE_CHARS - 1].rstrip() + "…"


def _tracking(week: Week, seen: Observed, keep: Callable[[GoldReport], bool]) -> dict[str, Any]:
    chosen = [r for r in week.reports if keep(r)]
    on_topic = [r for r in chosen if r.on_topic]
    found = [r for r in on_topic if r.id in seen.stored and seen.stored[r.id].member]
    kept = [r for r in on_topic if r.id in seen.stored]
    members = [r for r in chosen if r.id in seen.stored and seen.stored[r.id].member]
    return {
        "on_topic": len(on_topic),
        "found": len(found),
        "recall": ratio(len(found), len(on_topic)),
        "recall_of_stored": ratio(len(found), len(kept)),
        "recall_at_arrival": ratio(sum(r.id in seen.at_arrival for r in on_topic), len(on_topic)),
        "members": len(members),
        "precision": ratio(sum(r.on_topic for r in members), len(members)),
    }


def _grouping(week: Week, seen: Observed, on_topic_only: bool) -> dict[str, Any]:
    items = [r for r in week.reports if r.id in seen.stored and (r.on_topic or not on_topic_only)]
    predicted = [seen.stored[r.id].story_id or -seen.stored[r.id].report_id for r in items]
    gold = [r.event if r.on_topic and r.event else f"decoy:{r.id}" for r in items]
    p, r, f = bcubed(predicted, gold) if items else (0.0, 0.0, 0.0)
    return {"precision": p, "recall": r, "f1": f, "reports": len(items)}


def _copies(week: Week, seen: Observed) -> dict[str, Any]:
    gold = {(r.id, r.copy_of) for r in week.reports if r.copy_of}
    found = {(gid, s.copy_of) for gid, s in seen.stored.items() if s.copy_of}
    correct = len(gold & found)
    p, r = ratio(correct, len(found)), ratio(correct, len(gold))
    reposts = [x for x in week.reports if x.repost_of]
    return {
        "precision": p,
        "recall": r,
        "f1": harmonic(p, r),
        "gold_pairs": len(gold),
        "found_pairs": len(found),
        "correct": correct,
        "reposts": len(reposts),
        "reposts_lost": sum(x.id not in seen.stored for x in reposts),
        "not_stored": [x.id for x in week.reports if x.id not in seen.stored],
    }


def _listing(week: Week, seen: Observed, r: GoldReport) -> dict[str, Any]:
    why = "stored, not in the topic" if r.id in seen.stored else "not stored: merged into an earlier report as already known"
    return {"id": r.id, "day": week.day(r), "outlet": r.outlet, "lang": r.lang, "title": _short(r), "why": why}


def score(week: Week, seen: Observed) -> dict[str, Any]:
    """The figures of one set from what the run observed (no I/O)."""
    days = sorted({week.day(r) for r in week.reports})
    by_day = []
    for day in days:
        every = _tracking(week, seen, lambda r, d=day: week.day(r) == d)  # type: ignore[misc]
        english = _tracking(week, seen, lambda r, d=day: week.day(r) == d and r.lang == "en")  # type: ignore[misc]
        date = (week.first_day + timedelta(days=day - 1)).date().isoformat()
        by_day.append({"day": day, "date": date, "on_topic": every["on_topic"], "found": every["found"],
                       "recall": every["recall"], "recall_english": english["recall"]})  # fmt: skip

    def member(r: GoldReport) -> bool:
        return r.id in seen.stored and seen.stored[r.id].member

    missed = [_listing(week, seen, r) for r in week.reports if r.on_topic and not member(r)]
    taken = [_listing(week, seen, r) for r in week.reports if not r.on_topic and member(r)]
    return {
        "label": week.label,
        "data": str(week.folder),
        "reports": len(week.reports),
        "on_topic": sum(r.on_topic for r in week.reports),
        "decoys": sum(not r.on_topic for r in week.reports),
        "outlets": len({r.outlet for r in week.reports}),
        "events": week.events,
        "rounds": seen.rounds,
        "topic": {
            "name": DEFAULT_TOPIC,
            "english": _tracking(week, seen, lambda r: r.lang == "en"),
            "all": _tracking(week, seen, lambda r: True),
            "by_day": by_day,
            "missed": missed,
            "false_members": taken,
            "views_disagree": list(seen.disagree),
        },
        "grouping": {"on_topic": _grouping(week, seen, True), "all": _grouping(week, seen, False)},
        "copies": _copies(week, seen),
    }


async def evaluate(week: Week) -> dict[str, Any]:
    """One set: a fresh database in a temporary folder, the run, the figures and its wall time."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="planwatch-tracking-") as tmp:
        figures = score(week, await run_week(week, Path(tmp)))
    figures["seconds"] = round(time.perf_counter() - started, 3)
    return figures


# --- output --------------------------------------------------------------------------------------------------
def _prf(block: dict[str, Any]) -> str:
    return f"{block['precision']:.2f} / {block['recall']:.2f} / {block['f1']:.2f}"


def table(sets: dict[str, dict[str, Any]]) -> str:
    figures = list(sets.values())
    days = sorted({d["day"] for f in figures for d in f["topic"]["by_day"]})

    def day_cell(f: dict[str, Any], day: int) -> str:
        row = next((d for d in f["topic"]["by_day"] if d["day"] == day), None)
        return "-" if row is None or not row["on_topic"] else f"{row['recall']:.2f} of {row['on_topic']}"

    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("reports: on topic / decoys", lambda f: f"{f['on_topic']} / {f['decoys']}"),
        ("outlets, events, poll rounds", lambda f: f"{f['outlets']}, {f['events']}, {f['rounds']}"),
        (f"topic {DEFAULT_TOPIC}", lambda f: ""),
        ("  recall, English", lambda f: f"{f['topic']['english']['recall']:.2f}"),
        ("  recall, all languages", lambda f: f"{f['topic']['all']['recall']:.2f}"),
        ("  precision, English", lambda f: f"{f['topic']['english']['precision']:.2f}"),
        ("  precision, all languages", lambda f: f"{f['topic']['all']['precision']:.2f}"),
        ("  recall of stored reports, all", lambda f: f"{f['topic']['all']['recall_of_stored']:.2f}"),
        ("  recall at arrival, all", lambda f: f"{f['topic']['all']['recall_at_arrival']:.2f}"),
    ]
    rows += [(f"  recall on day {day}, all", lambda f, d=day: day_cell(f, d)) for day in days]  # type: ignore[misc]
    rows += [
        ("grouping, BCubed P / R / F1", lambda f: ""),
        ("  on-topic reports", lambda f: _prf(f["grouping"]["on_topic"])),
        ("  all reports", lambda f: _prf(f["grouping"]["all"])),
        ("copies (copy_of pairs) P / R / F1", lambda f: _prf(f["copies"])),
        ("  reposts lost as already known", lambda f: f"{f['copies']['reposts_lost']} of {f['copies']['reposts']}"),
        ("wall time", lambda f: f"{f['seconds']:.1f} s"),
    ]
    width = max(len(name) for name, _ in rows) + 2
    lines = [" " * width + "".join(f"{label:>22}" for label in sets)]
    lines += [f"{name:<{width}}" + "".join(f"{cell(f):>22}" for f in figures) for name, cell in rows]
    return "\n".join(lines)


def details(figures: dict[str, Any]) -> str:
    topic = figures["topic"]
    lines = [f"{figures['label']}: on-topic reports the topic missed ({len(topic['missed'])}):"]
    lines += [f"  {m['id']} day {m['day']} {m['lang']} {m['outlet']}: {m['title']}  [{m['why']}]" for m in topic["missed"]]
    lines.append(f"{figures['label']}: decoys the topic took ({len(topic['false_members'])}):")
    lines += [f"  {m['id']} day {m['day']} {m['lang']} {m['outlet']}: {m['title']}" for m in topic["false_members"]]
    if topic["views_disagree"]:
        disagree = ", ".join(topic["views_disagree"])
        lines.append(f"{figures['label']}: `articles --topic` and `ask sources` disagree on: {disagree}")
    return "\n".join(lines)


def _weeks(folders: list[Path] | None, warn: Callable[[str], None]) -> list[Week]:
    """The sets asked for; by default dev, and check if it is there (a check set still being written
    is skipped with a warning, so the dev figures still print)."""
    if folders:
        return [load_week(folder) for folder in folders]
    weeks = [load_week(DEFAULT_SETS[0])]
    if (DEFAULT_SETS[1] / "reports.jsonl").is_file():
        try:
            weeks.append(load_week(DEFAULT_SETS[1]))
        except BenchError as exc:
            warn(f"tracking_eval: check set skipped: {exc}")
    return weeks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, action="append", metavar="DIR", help="a week's folder (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--verbose", action="store_true", help="list missed reports and decoys taken")
    args = parser.parse_args(argv)

    def warn(line: str) -> None:
        print(line, file=sys.stderr)

    try:
        weeks = _weeks(args.data, warn)
    except BenchError as exc:
        warn(f"tracking_eval: {exc}")
        return 2
    labels = Counter(w.label for w in weeks)
    started = time.perf_counter()
    sets: dict[str, dict[str, Any]] = {}
    try:
        for week in weeks:
            label = week.label if labels[week.label] == 1 else f"{week.label}:{week.folder}"
            sets[label] = asyncio.run(evaluate(week))
    except BenchError as exc:
        warn(f"tracking_eval: {exc}")
        return 1
    total = round(time.perf_counter() - started, 3)
    if args.json:
        print(json.dumps({"sets": sets, "seconds": total}, indent=2, ensure_ascii=False))
        return 0
    print(table(sets))
    print(f"total wall time {total:.1f} s")
    if args.verbose:
        for figures in sets.values():
            print()
            print(details(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
