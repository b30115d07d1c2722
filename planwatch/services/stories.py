"""What is reported, by whom, and since when: summary, sources, timeline, latest, search.

Plain async functions over the store returning plain data; the CLI, the Discord bot and the digests
render it. Each brings the story analysis up to date first, so answers include the newest reports,
and none of them waits for (or fails on) another process that is writing: see current_analysis."""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from planwatch.errors import UsageError
from planwatch.models import Topic
from planwatch.services.topics import GLOBAL_SCOPE
from planwatch.store import Store
from planwatch.store.stories import AnalysedReport
from planwatch.stories.outlets import OutletRegistry, registry
from planwatch.stories.refresh import current_analysis
from planwatch.stories.summarize import Point, PointSource, SourceDoc, summarize_reports
from planwatch.timeutil import to_db, utcnow
from planwatch.topics.query import compile_query

MAX_SUMMARY_STORIES = 12  # the summary reads the most widely reported stories of the window
MAX_REPORTS_PER_STORY = 24  # a story's reports read, at most...
MAX_SUMMARY_REPORTS = 120  # ...and all stories' together


def plural(count: int, noun: str, many: str | None = None) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {many or noun + 's'}"


def describe_window(since: timedelta) -> str:
    """'24 h', '3 d', '90 min': days only from two days up, as people say them."""
    seconds = int(since.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0 and (unit != "d" or seconds >= 2 * 86400):
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


@dataclass(frozen=True, slots=True)
class Window:
    topic: Topic
    since: timedelta
    start: datetime
    reports: list[AnalysedReport]

    @property
    def label(self) -> str:
        return describe_window(self.since)

    @property
    def empty_message(self) -> str:
        return f"nothing reported in the last {self.label} for {self.topic.name}"

    @property
    def outlets(self) -> set[str]:
        return {r.outlet for r in self.reports}


async def load_window(store: Store, topic_name: str, since: timedelta, *, scope: str = GLOBAL_SCOPE) -> Window:
    """A topic's analysed reports published within `since` of now. Unknown topic: UsageError listing them."""
    async with _window(store, topic_name, since, scope) as window:
        return window


@asynccontextmanager
async def _window(store: Store, topic_name: str, since: timedelta, scope: str) -> AsyncIterator[Window]:
    """The window; the caller's further reads of the analysis belong inside, in the same snapshot."""
    topic = await store.topics.get(topic_name, scope)
    async with current_analysis(store) as overlay:
        start = utcnow() - since
        yield Window(topic, since, start, await store.stories.topic_reports(topic.id, start, overlay=overlay))


def independent_outlets(reports: list[AnalysedReport]) -> set[str]:
    return {r.outlet for r in reports if r.copy_of is None}


# --- sources ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SourceEntry:
    report: AnalysedReport
    first: bool

    def as_json(self) -> dict[str, Any]:
        r = self.report
        return {
            "id": r.id,
            "story_id": r.story_id,
            "outlet": r.outlet,
            "title": r.title,
            "url": r.url,
            "published_at": to_db(r.published_at),
            "published_estimated": r.published_estimated,
            "first_seen_at": to_db(r.first_seen_at),
            "first": self.first,
            "copy_of": r.copy_of,
            "cites": r.cites,
        }


@dataclass(frozen=True, slots=True)
class StoryGroup:
    id: int
    title: str
    outlet_count: int
    started_at: datetime
    latest_at: datetime
    sources: list[SourceEntry]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "outlet_count": self.outlet_count,
            "started_at": to_db(self.started_at),
            "latest_at": to_db(self.latest_at),
            "sources": [s.as_json() for s in self.sources],
        }


@dataclass(frozen=True, slots=True)
class SourceList:
    window: Window
    stories: list[StoryGroup]

    def as_json(self) -> dict[str, Any]:
        return {
            "topic": self.window.topic.name,
            "since": to_db(self.window.start),
            "window": self.window.label,
            "report_count": len(self.window.reports),
            "outlet_count": len(self.window.outlets),
            "stories": [s.as_json() for s in self.stories],
            "sources": [e.as_json() for s in self.stories for e in s.sources],
        }


def group_stories(reports: list[AnalysedReport]) -> list[StoryGroup]:
    """Reports by story; stories ranked by independent outlets, then newest first."""
    by_story: dict[int, list[AnalysedReport]] = defaultdict(list)
    for report in reports:
        by_story[report.story_id if report.story_id is not None else -report.id].append(report)
    groups: list[StoryGroup] = []
    for story_id, members in by_story.items():
        members.sort(key=lambda r: (r.published_at, r.id))
        originals = [r for r in members if r.copy_of is None] or members
        first = originals[0]
        entries = [SourceEntry(r, r.id == first.id) for r in members]
        groups.append(
            StoryGroup(
                id=story_id,
                title=first.title,
                outlet_count=len(independent_outlets(members)),
                started_at=first.published_at,
                latest_at=members[-1].published_at,
                sources=entries,
            )
        )
    # Ties: stored stories by id, then those not stored yet (minus their first report, see
    # current_analysis) in the order they began, which is the order of the ids they will get.
    groups.sort(key=lambda g: (-g.outlet_count, -g.latest_at.timestamp(), g.id < 0, abs(g.id)))
    return groups


async def sources(store: Store, topic: str, since: timedelta, *, scope: str = GLOBAL_SCOPE) -> SourceList:
    async with _window(store, topic, since, scope) as window:
        groups = group_stories(window.reports)
        # "first" is about the whole story, which may have begun before the window.
        story_ids = [g.id for g in groups if g.id > 0]
        earliest = await _story_starts(store, story_ids)
    fixed: list[StoryGroup] = []
    for group in groups:
        start = earliest.get(group.id)
        if start is not None and start < group.started_at:
            group = StoryGroup(group.id, group.title, group.outlet_count, group.started_at, group.latest_at,
                               [SourceEntry(e.report, False) for e in group.sources])  # fmt: skip
        fixed.append(group)
    return SourceList(window, fixed)


async def _story_starts(store: Store, story_ids: list[int]) -> dict[int, datetime]:
    from planwatch.store.db import placeholders
    from planwatch.timeutil import from_db

    out: dict[int, datetime] = {}
    for start in range(0, len(story_ids), 500):
        part = story_ids[start : start + 500]
        rows = await store.fetchall(
            "SELECT a.story_id, min(r.published_at) FROM report_analysis a JOIN reports r ON r.id = a.report_id"
            f" WHERE a.story_id IN ({placeholders(len(part))}) AND a.copy_of IS NULL GROUP BY a.story_id",
            part,
        )
        out.update((row[0], from_db(row[1])) for row in rows)
    return out


# --- summary ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Summary:
    window: Window
    points: list[Point]

    @property
    def header(self) -> str:
        w = self.window
        if not w.reports:
            return w.empty_message
        return (
            f"{plural(len(w.reports), 'report')} from {plural(len(w.outlets), 'outlet')} in the last {w.label} "
            f"(since {w.start:%Y-%m-%d %H:%M} UTC) for {w.topic.name}"
        )

    def as_json(self) -> dict[str, Any]:
        w = self.window
        return {
            "topic": w.topic.name,
            "since": to_db(w.start),
            "window": w.label,
            "report_count": len(w.reports),
            "outlet_count": len(w.outlets),
            "header": self.header,
            "points": [
                {
                    "text": p.text,
                    "label": p.label,
                    "sources": [_source_json(s) for s in p.sources],
                    "origins": [_source_json(s) for s in p.origins],
                    "relays": [_source_json(s) for s in p.relays],
                    "first_published_at": _db_time(p.first_published_at),
                    "first_outlet": p.first_outlet,
                    "estimated": p.estimated,
                    "denies": p.denies,
                    "unconfirms": p.unconfirms,
                    "source_count": p.source_count,
                    "versions": [
                        {
                            "text": v.text,
                            "values": v.values,
                            "origins": [_source_json(s) for s in v.origins],
                            "relays": [_source_json(s) for s in v.relays],
                            "first_published_at": _db_time(v.first_published_at),
                            "estimated": v.estimated,
                            "newest": v.newest,
                        }
                        for v in p.versions
                    ],
                }
                for p in self.points
            ],
        }


def _db_time(moment: datetime | None) -> str | None:
    return to_db(moment) if moment else None


def _source_json(s: PointSource) -> dict[str, Any]:
    return {"outlet": s.outlet, "url": s.url, "first_seen_at": _db_time(s.first_seen_at),
            "published_at": _db_time(s.published_at), "role": s.role, "via": s.via, "estimated": s.estimated}  # fmt: skip


def summary_docs(reports: list[AnalysedReport]) -> list[SourceDoc]:
    """The reports a summary reads: the most widely reported stories, one report an outlet first
    (earliest first), taken a report per story in turn up to MAX_SUMMARY_REPORTS, so that a big
    story is read across more of its outlets (where its disputed figures are) and small ones whole."""
    groups = group_stories(reports)[:MAX_SUMMARY_STORIES]
    outlet_of = {r.id: r.outlet for r in reports}
    queues: list[list[AnalysedReport]] = []
    for group in groups:
        seen_outlets: set[str] = set()
        picked: list[AnalysedReport] = []
        for entry in group.sources:  # one report per outlet first, earliest first
            if entry.report.outlet not in seen_outlets:
                seen_outlets.add(entry.report.outlet)
                picked.append(entry.report)
        picked += [e.report for e in group.sources if e.report not in picked]
        queues.append(picked[:MAX_REPORTS_PER_STORY])
    chosen: list[list[AnalysedReport]] = [[] for _ in queues]
    total = 0
    for depth in range(MAX_REPORTS_PER_STORY):
        for index, queue in enumerate(queues):
            if depth < len(queue) and total < MAX_SUMMARY_REPORTS:
                chosen[index].append(queue[depth])
                total += 1
    docs: list[SourceDoc] = []
    for story in chosen:
        for r in story:
            docs.append(
                SourceDoc(
                    r.title, r.text, r.outlet, r.url, r.first_seen_at, r.copy_of is None,
                    published_at=r.published_at, published_estimated=r.published_estimated,
                    copy_of_outlet=outlet_of.get(r.copy_of) if r.copy_of is not None else None, story_id=r.story_id,
                )
            )  # fmt: skip
    return docs


async def summary(store: Store, topic: str, since: timedelta, *, scope: str = GLOBAL_SCOPE) -> Summary:
    window = await load_window(store, topic, since, scope=scope)
    outlets = registry(await store.outlets.extra())  # the operator's outlets are relays' sources too
    return Summary(window, summarize_reports(summary_docs(window.reports), outlets=outlets) if window.reports else [])


# --- timeline -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TimelineEvent:
    at: datetime
    kind: str  # first_report | outlet_joined | copy | changed | denial
    outlet: str
    title: str
    url: str | None
    story_id: int | None
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "at": to_db(self.at),
            "kind": self.kind,
            "outlet": self.outlet,
            "title": self.title,
            "url": self.url,
            "story_id": self.story_id,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Timeline:
    window: Window
    events: list[TimelineEvent] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "topic": self.window.topic.name,
            "since": to_db(self.window.start),
            "window": self.window.label,
            "events": [e.as_json() for e in self.events],
        }


async def timeline(store: Store, topic: str, since: timedelta, *, scope: str = GLOBAL_SCOPE) -> Timeline:
    """The story as it unfolded: the first report, each new story (event) and outlet, copies, each
    denial, each revised figure (a disputed figure's later versions) and each headline change."""
    from planwatch.stories.summarize import _classify
    from planwatch.stories.text import split_sentences

    window = await load_window(store, topic, since, scope=scope)
    events: list[TimelineEvent] = []
    seen_outlets: set[str] = set()
    seen_stories: set[int | None] = set()
    by_id = {r.id: r for r in window.reports}
    for report in window.reports:  # oldest first
        marks: list[tuple[str, str]] = []
        if report.copy_of is not None:
            original = by_id.get(report.copy_of)
            source = f" of {original.outlet}'s report" if original else ""
            marks.append(("copy", f"republished a copy{source}"))
        elif not seen_outlets:
            marks.append(("first_report", "first report"))
        else:
            if report.story_id not in seen_stories:
                marks.append(("new_story", "a new story begins"))
            if report.outlet not in seen_outlets:
                marks.append(("outlet_joined", f"outlet #{len(seen_outlets) + 1} to report"))
        for kind, detail in marks:
            events.append(TimelineEvent(report.published_at, kind, report.outlet, report.title, report.url,
                                        report.story_id, detail))  # fmt: skip
        if report.copy_of is None:
            seen_outlets.add(report.outlet)
            seen_stories.add(report.story_id)
        denial = next((s for s in split_sentences(f"{report.title}.\n{report.text}") if _classify(s) == "denied"), None)
        if denial and report.copy_of is None:
            events.append(TimelineEvent(report.published_at, "denial", report.outlet, report.title, report.url,
                                        report.story_id, denial))  # fmt: skip
    versions = await store.stories.versions_for(list(by_id))
    for report_id, changes in versions.items():
        report = by_id[report_id]
        titles = [title for title, _, _ in changes] + [report.title]
        for index, (title, _text, replaced_at) in enumerate(changes):
            new_title = titles[index + 1]
            detail = f"headline changed: {title!r} -> {new_title!r}" if title != new_title else "text changed"
            events.append(TimelineEvent(replaced_at, "changed", report.outlet, new_title, report.url,
                                        report.story_id, detail))  # fmt: skip
    events += _revisions(window.reports, registry(await store.outlets.extra()))
    events.sort(key=lambda e: (e.at, e.kind != "first_report"))
    return Timeline(window, events)


def _revisions(reports: list[AnalysedReport], outlets: OutletRegistry) -> list[TimelineEvent]:
    """Each later version of a disputed figure (the 19-point draft after the 28-point one), when
    it was first published, from the claim layer's disputed points over the window."""
    events: list[TimelineEvent] = []
    by_url = {r.url: r for r in reports if r.url}
    for point in summarize_reports(summary_docs(reports), outlets=outlets) if reports else []:
        timed = sorted((v for v in point.versions if v.first_published_at), key=lambda v: v.first_published_at or utcnow())
        for earlier, later in itertools.pairwise(timed):
            first = (later.origins or later.relays)[0]
            report = by_url.get(first.url) if first.url else None
            events.append(TimelineEvent(
                later.first_published_at or first.first_seen_at or utcnow(), "revised_figure", first.outlet,
                report.title if report else later.text, first.url, report.story_id if report else None,
                f"{', '.join(later.values)} (before: {', '.join(earlier.values)}): {later.text}",
            ))  # fmt: skip
    return events


# --- latest and search --------------------------------------------------------------------------------------
async def latest(store: Store, topic: str, count: int, *, scope: str = GLOBAL_SCOPE) -> tuple[Topic, list[AnalysedReport]]:
    if not 1 <= count <= 100:
        raise UsageError(f"count must be between 1 and 100 (got {count})")
    topic_obj = await store.topics.get(topic, scope)
    async with current_analysis(store) as overlay:
        return topic_obj, await store.stories.latest_for_topic(topic_obj.id, count, overlay=overlay)


@dataclass(frozen=True, slots=True)
class SearchHit:
    report: AnalysedReport
    snippet: str
    rank: float

    def as_json(self) -> dict[str, Any]:
        r = self.report
        return {
            "id": r.id,
            "outlet": r.outlet,
            "title": r.title,
            "url": r.url,
            "published_at": to_db(r.published_at),
            "first_seen_at": to_db(r.first_seen_at),
            "snippet": self.snippet,
            "rank": round(self.rank, 4),
        }


_SNIPPET_MARK = re.compile(r"\x02|\x03")


async def search(store: Store, query: str, since: timedelta | None = None, *, limit: int = 20) -> list[SearchHit]:
    """Full-text search, best match first (bm25, headline words weighing double), with a snippet."""
    fts = compile_query(query)
    if not 1 <= limit <= 100:
        raise UsageError(f"limit must be between 1 and 100 (got {limit})")
    sql = (
        "SELECT f.rowid, bm25(reports_fts, 2.0, 1.0), snippet(reports_fts, 1, char(2), char(3), ' … ', 24)"
        " FROM reports_fts f JOIN reports r ON r.id = f.rowid WHERE reports_fts MATCH ?"
    )
    params: list[object] = [fts]
    if since is not None:
        # Never `rowid IN (subquery)` on an FTS5 table: FTS5 then re-runs the MATCH for every id (6 s
        # on 100,000 reports). A report published in the window was first seen in it, and ids follow
        # first sight: a rowid lower bound narrows the scan, and the join checks the date exactly.
        start = to_db(utcnow() - since)
        sql += " AND f.rowid >= (SELECT coalesce(min(id), 0) FROM reports WHERE first_seen_at >= ?) AND r.published_at >= ?"
        params += [start, start]
    sql += " ORDER BY bm25(reports_fts, 2.0, 1.0) LIMIT ?"
    params.append(limit)
    async with current_analysis(store) as overlay:
        try:
            rows = await store.fetchall(sql, params)
        except sqlite3.OperationalError as exc:
            raise UsageError(f"bad search query: {exc}") from None
        reports = await store.stories.reports_by_id([r[0] for r in rows], overlay=overlay)
    hits = []
    for rowid, rank, snippet in rows:
        if rowid in reports:
            text = " ".join(_SNIPPET_MARK.sub("", snippet).split()) or reports[rowid].title
            hits.append(SearchHit(reports[rowid], text, -float(rank)))
    return hits
