"""Plain-text renderings of the story services' results, for the terminal (and plain-text mail)."""

from __future__ import annotations

from planwatch.services.stories import SearchHit, SourceList, Summary, Timeline, plural
from planwatch.store.stories import AnalysedReport
from planwatch.timeutil import to_db

LABELS = {
    "corroborated": "corroborated",
    "single-source": "single source",
    "denied": "DENIED",
    "unconfirmed": "unconfirmed",
}


def _when(report: AnalysedReport) -> str:
    estimated = "~" if report.published_estimated else ""
    return f"{estimated}{report.published_at:%Y-%m-%d %H:%M}Z"


def summary_text(result: Summary) -> str:
    lines = [result.header]
    if not result.points:
        return "\n".join(lines)
    for point in result.points:
        outlets = ", ".join(s.outlet for s in point.sources) or "unknown outlet"
        earliest = min((s.first_seen_at for s in point.sources if s.first_seen_at), default=None)
        since = f", since {earliest:%Y-%m-%d %H:%M}Z" if earliest else ""
        lines.append(f"\n* [{LABELS[point.label]}] {point.text}\n  reported by {outlets}{since}")
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
        lines.append(f"{e.at:%Y-%m-%d %H:%M}Z  {e.kind.replace('_', ' '):13}  {e.outlet}: {e.title}{detail}")
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
