"""What a digest says: for each of a subscriber's topics, the summary's key points and the stories with
their sources, over the subscriber's last 24 hours by first sight. Built once per topic and window and
shared by every subscriber with the same topics and hour: only their links differ."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from planwatch.errors import NotFoundError
from planwatch.models import Topic
from planwatch.services.stories import group_stories, plural, summary_docs
from planwatch.store import Store
from planwatch.store.stories import AnalysedReport
from planwatch.store.subscribers import Subscriber
from planwatch.stories.outlets import registry
from planwatch.stories.refresh import refresh_stories
from planwatch.stories.summarize import Point, PointSource, summarize_reports

MAX_STORIES = 10  # per topic in a mail; the rest are counted ("and N more")
LABEL_TEXT = {"corroborated": "Corroborated", "single-source": "Single source", "denied": "Denied",
              "unconfirmed": "Unconfirmed", "disputed": "Disputed"}  # fmt: skip


def web_url(url: str | None) -> str | None:
    """Only http(s) links reach an href."""
    return url if url and url.startswith(("http://", "https://")) and len(url) <= 2048 else None


def local_label(moment: datetime | None, zone: ZoneInfo, fmt: str = "%a %d %b %H:%M") -> str:
    return moment.astimezone(zone).strftime(fmt) if moment else ""


def topic_title(name: str) -> str:
    """What a reader calls the topic: its name is a command-line slug ("ukraine-peace-plan")."""
    text = " ".join(name.replace("-", " ").replace("_", " ").split())
    return text[:1].upper() + text[1:] if text else name


def same_title(a: str, b: str) -> bool:
    """A source whose headline is its story's title (always so for the report that named the story)."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    digest_date: date
    zone: ZoneInfo


def window_for(subscriber: Subscriber, digest_date: date, now: datetime, previous_end: datetime | None = None) -> Window:
    """Up to the subscriber's delivery time that day (or now, if that is earlier), from where their last
    digest ended (so a digest sent early leaves no gap), or the last 24 hours when there was none."""
    zone = ZoneInfo(subscriber.timezone)
    slot = datetime(digest_date.year, digest_date.month, digest_date.day, subscriber.hour, tzinfo=zone)
    end = min(slot, now.astimezone(zone))
    start = end - timedelta(hours=24)
    if previous_end is not None and end - timedelta(hours=48) <= previous_end < end:
        start = previous_end.astimezone(zone)
    return Window(start, end, digest_date, zone)


def _sources(reports: list[AnalysedReport], story_title: str, zone: ZoneInfo) -> list[dict[str, Any]]:
    copies: dict[int, list[dict[str, Any]]] = {}
    for r in reports:
        if r.copy_of is not None:
            copies.setdefault(r.copy_of, []).append({"outlet": r.outlet, "url": web_url(r.url)})
    originals = [r for r in reports if r.copy_of is None or r.copy_of not in {x.id for x in reports}]
    first_id = originals[0].id if originals else None
    return [
        {"outlet": r.outlet, "title": r.title, "url": web_url(r.url), "published_label": local_label(r.published_at, zone),
         "repeats_story_title": same_title(r.title, story_title), "first": r.id == first_id, "cites": r.cites,
         "copies": copies.get(r.id, [])}
        for r in originals
    ]  # fmt: skip


def _point_sources(sources: list[PointSource], published: dict[tuple[str, str | None, datetime], datetime],
                   zone: ZoneInfo) -> list[dict[str, Any]]:  # fmt: skip
    """A key point's reports, shown by the time each was published (as the story list shows them) and in
    that order: the summarizer knows them by first sight, which may be hours after publication."""
    timed = [(published.get((s.outlet, s.url, s.first_seen_at), s.first_seen_at) if s.first_seen_at else None, s)
             for s in sources]  # fmt: skip
    timed.sort(key=lambda pair: (pair[0] is None, pair[0].timestamp() if pair[0] else 0.0, pair[1].outlet))
    return [
        {"outlet": s.outlet, "url": web_url(s.url), "published_label": local_label(at, zone),
         # Kept for operators' templates (PLANWATCH_TEMPLATES) written before published_label.
         "first_seen_label": local_label(s.first_seen_at, zone)}
        for at, s in timed
    ]  # fmt: skip


def _label_text(point: Point) -> str:
    """ "Corroborated · 2 sources, 3 relays": the label's count (origins, and outlets relays credit);
    relays are shown, never counted."""
    text = f"{LABEL_TEXT[point.label]} · {plural(point.source_count, 'source')}"
    return text + (f", {plural(len(point.relays), 'relay')}" if point.relays else "")


async def topic_section(store: Store, topic: Topic, window: Window) -> dict[str, Any]:
    reports = await store.stories.topic_reports_seen(topic.id, window.start, window.end)
    groups = group_stories(reports)
    outlets = registry(await store.outlets.extra())
    points = summarize_reports(summary_docs(reports), outlets=outlets) if reports else []
    stories = [
        {"title": g.title, "url": web_url(g.sources[0].report.url if g.sources else None), "outlet_count": g.outlet_count,
         "sources": _sources([e.report for e in g.sources], g.title, window.zone)}
        for g in groups[:MAX_STORIES]
    ]  # fmt: skip
    # A key point knows its reports by outlet, link and first sight; readers are shown when each was
    # published, as in the story list, so one article never carries two times.
    published: dict[tuple[str, str | None, datetime], datetime] = {}
    for r in reports:  # oldest published first: two reports alike in all three keep the earlier time
        published.setdefault((r.outlet, r.url, r.first_seen_at), r.published_at)
    return {
        "name": topic.name,
        "title": topic_title(topic.name),
        "lead": groups[0].title if groups else None,
        "description": topic.description,
        "report_count": len(reports),
        "outlet_count": len({r.outlet for r in reports}),
        "points": [
            {
                "text": p.text,
                "label": p.label,
                "label_text": _label_text(p),
                "sources": _point_sources(p.sources, published, window.zone),
                "since_label": (
                    ("~" if p.estimated else "") + local_label(p.first_published_at, window.zone)
                    if p.first_published_at
                    else None
                ),
                "first_outlet": p.first_outlet,
                "denies": p.denies,
                "unconfirms": p.unconfirms,
                "versions": [
                    {
                        "text": v.text,
                        "values": ", ".join(v.values),
                        "newest": v.newest,
                        "origins": ", ".join(o.outlet for o in v.origins) or "relayed only",
                        "since_label": local_label(v.first_published_at, window.zone) if v.first_published_at else None,
                    }
                    for v in p.versions
                ],
            }
            for p in points
        ],
        "stories": stories,
        "more_stories": max(len(groups) - MAX_STORIES, 0),
    }


@dataclass
class DigestBuilder:
    """Topic sections cached per (scope, topic, window): 10,000 subscribers at one hour share them."""

    store: Store
    cache: dict[tuple[str, str, datetime, datetime], dict[str, Any]] = field(default_factory=dict)
    refreshed: bool = False

    async def sections(self, subscriber: Subscriber, window: Window) -> list[dict[str, Any]]:
        if not self.refreshed:
            await refresh_stories(self.store)
            self.refreshed = True
        out = []
        for name in subscriber.topics:
            key = (subscriber.scope, name, window.start, window.end)
            if key not in self.cache:
                try:
                    topic = await self.store.topics.get(name, subscriber.scope)
                except NotFoundError:
                    continue  # the topic was removed since: the others still come
                self.cache[key] = await topic_section(self.store, topic, window)
            out.append(self.cache[key])
        return out
