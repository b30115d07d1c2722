"""Plain-text renderings of the story services' results, for the terminal (and plain-text mail)."""

from __future__ import annotations

from datetime import datetime

from planwatch.services.stories import SearchHit, SourceList, Summary, Timeline, plural
from planwatch.store.stories import AnalysedReport
from planwatch.stories.summarize import PointSource
from planwatch.timeutil import to_db

LABELS = {
    "corroborated": "corroborated",
    "single-source": "single source",
    "denied": "DENIED",
    "unconfirmed": "unconfirmed",
    "disputed": "DISPUTED",
}


def _when(report: AnalysedReport) -> str:
    estimated = "~" if report.published_estimated else ""
    return f"{estimated}{report.published_at:%Y-%m-%d %H:%M}Z"


def _stamp(moment: datetime | None, estimated: bool) -> str:
    return f"{'~' if estimated else ''}{moment:%Y-%m-%d %H:%M}Z" if moment else "unknown time"


def _carriers(origins: list[PointSource], relays: list[PointSource]) -> str:
    said = ", ".join(s.outlet for s in origins) or "no outlet on its own reporting"
    credited = sorted({s.via for s in relays if s.role == "relay" and s.via} - {s.outlet for s in relays})
    if not origins and credited:
        said = f"{', '.join(credited)} (through relays)"
    if relays:
        relayed = ", ".join(f"{s.outlet} (from {s.via})" if s.via else s.outlet for s in relays)
        said += f"; relayed by {plural(len(relays), 'outlet')}: {relayed}"
    return said


def summary_text(result: Summary) -> str:
    lines = [result.header]
    if not result.points:
        return "\n".join(lines)
    for point in result.points:
        since = ""
        if point.first_published_at:
            first = point.first_outlet or "unknown outlet"
            since = f", since {_stamp(point.first_published_at, point.estimated)} ({first} first)"
        lines.append(f"\n* [{LABELS[point.label]}] {point.text}\n  reported by {_carriers(point.origins, point.relays)}{since}")
        if point.denies:
            lines.append(f"  denies: {point.denies}")
        if point.unconfirms:
            lines.append(f"  could not confirm: {point.unconfirms}")
        for version in point.versions:
            newest = " (newest)" if version.newest else ""
            lines.append(
                f"  version {', '.join(version.values)}{newest}: {_carriers(version.origins, version.relays)},"
                f" since {_stamp(version.first_published_at, version.estimated)}: {version.text}"
            )
        lines.extend(f"    {s.outlet}: {s.url}" for s in point.sources if s.url)
    return "\n".join(lines)


def sources_text(result: SourceList) -> str:
    window = result.window
    if not window.reports:
        return window.empty_message
    lines = [
        f"{plural(len(window.reports), 'report')} from {plural(len(window.outlets), 'outlet')} in"
        f" {plural(len(result.stories), 'story', 'stories')},"
        f" last {window.label}, {window.topic.name}"
    ]
    by_id = {r.id: r for r in window.reports}
    for story in result.stories:
        lines.append(f"\nStory #{story.id}: {story.title}  ({plural(story.outlet_count, 'independent outlet')})")
        for entry in story.sources:
            r = entry.report
            marks = []
            if entry.first:
                marks.append("first")
            if r.copy_of is not None:
                original = by_id.get(r.copy_of)
                marks.append(f"copy of {original.outlet if original else f'report #{r.copy_of}'}")
            if r.cites:
                marks.append("cites " + ", ".join(r.cites))
            tail = f"  [{'; '.join(marks)}]" if marks else ""
            lines.append(f"  {_when(r)}  {r.outlet}: {r.title}{tail}\n      {r.url or '(no link)'}")
    return "\n".join(lines)


def timeline_text(result: Timeline) -> str:
    if not result.events:
        return result.window.empty_message
    lines = [f"Timeline of {result.window.topic.name}, last {result.window.label}:"]
    for e in result.events:
        detail = f" — {e.detail}" if e.detail and e.kind != "first_report" else ""
        lines.append(f"{e.at:%Y-%m-%d %H:%M}Z  {e.kind.replace('_', ' '):14}  {e.outlet}: {e.title}{detail}")
    return "\n".join(lines)


def latest_text(topic: str, reports: list[AnalysedReport]) -> str:
    if not reports:
        return f"nothing reported yet for {topic}"
    return "\n".join(f"{_when(r)}  {r.outlet}: {r.title}\n      {r.url or '(no link)'}" for r in reports)


def search_text(query: str, hits: list[SearchHit]) -> str:
    if not hits:
        return f"no reports match {query!r}"
    return "\n".join(
        f"{_when(h.report)}  {h.report.outlet}: {h.report.title}\n      {h.snippet}\n      {h.report.url or ''}" for h in hits
    )


def report_json(report: AnalysedReport) -> dict[str, object]:
    return {
        "id": report.id,
        "story_id": report.story_id,
        "outlet": report.outlet,
        "title": report.title,
        "url": report.url,
        "published_at": to_db(report.published_at),
        "first_seen_at": to_db(report.first_seen_at),
        "copy_of": report.copy_of,
        "cites": report.cites,
    }
