"""SQL for stories and the derived analysis of reports (story, copy, citations)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

import aiosqlite

from planwatch.store.db import chunks, placeholders
from planwatch.timeutil import from_db, from_db_opt, to_db, utcnow

if TYPE_CHECKING:
    from planwatch.store.db import Store


@dataclass(frozen=True, slots=True)
class AnalysedReport:
    """A report with what the story analysis found; what every story service works from."""

    id: int
    url: str | None
    title: str
    text: str
    outlet: str
    published_at: datetime
    published_estimated: bool
    first_seen_at: datetime
    updated_at: datetime | None
    story_id: int | None
    copy_of: int | None
    cites: list[str]
    terms: str
    vectors: str = ""  # read by the story window only (StoryRepo.window)


@dataclass(frozen=True, slots=True)
class AnalysisRow:
    """What the story analysis found for one report, as stored in report_analysis."""

    report_id: int
    content_hash: str  # of the text analysed: a report changed since is analysed again
    story_id: int | None
    copy_of: int | None
    terms: str
    cites: list[str]
    vectors: str = ""  # grouping.encode_vectors: the weights the report was grouped with


@dataclass(frozen=True, slots=True)
class AnalysisOverlay:
    """The analysis of reports that is not stored yet (another process held the write lock), read
    together with what is: the reads below give these reports their analysis as if it were stored.
    Only valid inside the read snapshot it was computed in (Store.snapshot), where every report not
    analysed in the database is in `rows`."""

    rows: dict[int, AnalysisRow] = field(default_factory=dict)  # report id -> its (new or newer) analysis
    copy_of: dict[int, int | None] = field(default_factory=dict)  # stored reports that a new one made copies
    # topic id -> reports its story or profile would make its members once stored (some may be already)
    members: dict[int, frozenset[int]] = field(default_factory=dict)

    def apply(self, report: AnalysedReport) -> AnalysedReport:
        row = self.rows.get(report.id)
        if row is not None:
            return replace(report, story_id=row.story_id, copy_of=row.copy_of, cites=row.cites, terms=row.terms)
        if report.id in self.copy_of:
            return replace(report, copy_of=self.copy_of[report.id])
        return report


@dataclass(frozen=True, slots=True)
class ProfileMatchRow:
    """A report found like a topic's seeds; `evidence` is JSON (likeness, shared terms) for explain."""

    report_id: int
    topic_id: int
    evidence: str


@dataclass(frozen=True, slots=True)
class PendingReport:
    id: int
    title: str
    text: str
    outlet: str
    published_at: datetime
    content_hash: str
    analysed: bool  # True: a changed report analysed before (keeps its story)


# A service_state row counting the transactions that changed the analysis: a refresh that analysed
# without the write lock stores its work only if the count has not moved since it began reading.
GENERATION = "stories.analysis_generation"

_COLUMNS = (
    "r.id, r.url, r.title, r.text, r.outlet, r.published_at, r.published_estimated, r.first_seen_at,"
    " r.updated_at, a.story_id, a.copy_of, a.cites, a.terms"
)


def _join(overlay: AnalysisOverlay | None) -> str:
    """Reports with their analysis; with an overlay, also the reports it analysed in memory."""
    return "LEFT JOIN" if overlay is not None else "JOIN"


def _read(rows: list[sqlite3.Row], overlay: AnalysisOverlay | None) -> list[AnalysedReport]:
    reports = [_analysed(r) for r in rows]
    return reports if overlay is None else [overlay.apply(r) for r in reports]


def _analysed(row: sqlite3.Row) -> AnalysedReport:
    return AnalysedReport(
        id=row[0],
        url=row[1],
        title=row[2],
        text=row[3],
        outlet=row[4],
        published_at=from_db(row[5]),
        published_estimated=bool(row[6]),
        first_seen_at=from_db(row[7]),
        updated_at=from_db_opt(row[8]),
        story_id=row[9],
        copy_of=row[10],
        cites=json.loads(row[11]) if row[11] else [],
        terms=row[12] or "",
        vectors=row[13] if len(row) > 13 else "",
    )


class StoryRepo:
    def __init__(self, store: Store) -> None:
        self.store = store

    # --- analysis bookkeeping ------------------------------------------------------------------------
    async def pending(self, limit: int | None) -> list[PendingReport]:
        """Reports never analysed (by id) and reports changed since their analysis (None: all of them)."""
        limit = -1 if limit is None else limit  # SQLite: a negative LIMIT is no limit
        rows = await self.store.fetchall(
            "SELECT id, title, text, outlet, published_at, content_hash, 0 FROM reports"
            " WHERE id > (SELECT coalesce(max(report_id), 0) FROM report_analysis) ORDER BY id LIMIT ?",
            (limit,),
        )
        rows += await self.store.fetchall(
            "SELECT r.id, r.title, r.text, r.outlet, r.published_at, r.content_hash, 1 FROM reports r"
            " JOIN report_analysis a ON a.report_id = r.id"
            " WHERE r.updated_at IS NOT NULL AND a.content_hash != r.content_hash ORDER BY r.id LIMIT ?",
            (limit,),
        )
        # A report rolled back or deleted out of order may leave ids below the mark unanalysed.
        rows += await self.store.fetchall(
            "SELECT r.id, r.title, r.text, r.outlet, r.published_at, r.content_hash, 0 FROM reports r"
            " LEFT JOIN report_analysis a ON a.report_id = r.id WHERE a.report_id IS NULL"
            " AND r.id <= (SELECT coalesce(max(report_id), 0) FROM report_analysis) ORDER BY r.id LIMIT ?",
            (limit,),
        )
        seen: set[int] = set()
        out: list[PendingReport] = []
        for row in sorted(rows, key=lambda r: r[0]):
            if row[0] in seen:
                continue
            seen.add(row[0])
            out.append(PendingReport(row[0], row[1], row[2], row[3], from_db(row[4]), row[5], bool(row[6])))
        return out if limit < 0 else out[:limit]

    async def window(self, since: datetime, exclude: Sequence[int]) -> list[AnalysedReport]:
        """Analysed reports published since `since`: the stories a new report may join."""
        rows = await self.store.fetchall(
            f"SELECT {_COLUMNS}, a.vectors FROM reports r JOIN report_analysis a ON a.report_id = r.id"
            " WHERE r.published_at >= ? ORDER BY r.id",
            (to_db(since),),
        )
        excluded = set(exclude)
        return [_analysed(r) for r in rows if r[0] not in excluded]

    async def generation(self) -> int:
        value = await self.store.scalar("SELECT value FROM service_state WHERE key = ?", (GENERATION,))
        return int(value or 0)

    @staticmethod
    async def next_generation(db: aiosqlite.Connection, now: datetime) -> None:
        """In every transaction that writes report_analysis or stories."""
        await db.execute(
            "INSERT INTO service_state (key, value, updated_at) VALUES (?, '1', ?) ON CONFLICT (key)"
            " DO UPDATE SET value = CAST(value AS INTEGER) + 1, updated_at = excluded.updated_at",
            (GENERATION, to_db(now)),
        )

    @staticmethod
    async def new_story(db: aiosqlite.Connection, now: datetime) -> int:
        cur = await db.execute("INSERT INTO stories (created_at) VALUES (?)", (to_db(now),))
        assert cur.lastrowid is not None
        return cur.lastrowid

    @staticmethod
    async def save_analysis(db: aiosqlite.Connection, rows: list[AnalysisRow], now: datetime) -> None:
        await db.executemany(
            "INSERT INTO report_analysis"
            " (report_id, content_hash, story_id, copy_of, terms, cites, vectors, analysed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (report_id) DO UPDATE SET content_hash = excluded.content_hash,"
            " story_id = excluded.story_id, copy_of = excluded.copy_of, terms = excluded.terms,"
            " cites = excluded.cites, vectors = excluded.vectors, analysed_at = excluded.analysed_at",
            [
                (r.report_id, r.content_hash, r.story_id, r.copy_of, r.terms, json.dumps(r.cites), r.vectors, to_db(now))
                for r in rows
            ],
        )

    @staticmethod
    async def spread_topics(
        db: aiosqlite.Connection, story_ids: Iterable[int], now: datetime, *, topic_id: int | None = None
    ) -> int:
        """Story-level membership: every report of a story that one of a topic's query-matched (or
        pinned) reports is in becomes the topic's too ('story'), unless excluded from it; `topic_id`:
        that topic only. Only seeds spread, so membership never chains from story to story; the cost
        follows the stories touched, not the database."""
        only = "" if topic_id is None else " AND rt.topic_id = ?"
        added = 0
        for chunk in chunks(sorted(set(story_ids))):
            cur = await db.execute(
                "INSERT OR IGNORE INTO report_topics (report_id, topic_id, matched_at, matched_by)"
                " SELECT a.report_id, q.topic_id, ?, 'story' FROM report_analysis a JOIN"
                " (SELECT DISTINCT a2.story_id, rt.topic_id FROM report_topics rt"
                "  JOIN report_analysis a2 ON a2.report_id = rt.report_id"
                f"  WHERE rt.matched_by IN ('query', 'pinned') AND a2.story_id IN ({placeholders(len(chunk))}){only})"
                " q ON q.story_id = a.story_id"
                " WHERE NOT EXISTS"
                " (SELECT 1 FROM topic_exclusions x WHERE x.topic_id = q.topic_id AND x.report_id = a.report_id)",
                (to_db(now), *chunk, *([] if topic_id is None else [topic_id])),
            )
            added += max(cur.rowcount, 0)
        return added

    @staticmethod
    async def topic_story_ids(db: aiosqlite.Connection, topic_id: int) -> list[int]:
        """The stories that hold one of the topic's seeds (query matches and pins)."""
        async with db.execute(
            "SELECT DISTINCT a.story_id FROM report_topics rt JOIN report_analysis a ON a.report_id = rt.report_id"
            " WHERE rt.topic_id = ? AND rt.matched_by IN ('query', 'pinned') AND a.story_id IS NOT NULL",
            (topic_id,),
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    @staticmethod
    async def story_of(db: aiosqlite.Connection, report_id: int) -> int | None:
        async with db.execute("SELECT story_id FROM report_analysis WHERE report_id = ?", (report_id,)) as cur:
            row = await cur.fetchone()
        return None if row is None or row[0] is None else int(row[0])

    @staticmethod
    async def unspread_story(db: aiosqlite.Connection, topic_id: int, story_id: int) -> None:
        """Drop the topic's story memberships in one story, to derive them again from its seeds."""
        await db.execute(
            "DELETE FROM report_topics WHERE topic_id = ? AND matched_by = 'story'"
            " AND report_id IN (SELECT report_id FROM report_analysis WHERE story_id = ?)",
            (topic_id, story_id),
        )

    async def topic_seeds(self, since: datetime) -> dict[int, set[int]]:
        """report id -> the topics it seeds (matched by query, or pinned), for reports published since:
        what topic profiles learn from. The window's reports and the pending ones, in one read."""
        rows = await self.store.fetchall(
            "SELECT rt.report_id, rt.topic_id FROM report_topics rt JOIN reports r ON r.id = rt.report_id"
            " WHERE r.published_at >= ? AND rt.matched_by IN ('query', 'pinned')",
            (to_db(since),),
        )
        seeds: dict[int, set[int]] = {}
        for report_id, topic_id in rows:
            seeds.setdefault(int(report_id), set()).add(int(topic_id))
        return seeds

    async def topic_exclusions(self) -> set[tuple[int, int]]:
        """(topic id, report id) pairs a moderator excluded (a short list: one row per decision)."""
        return {(int(t), int(r)) for t, r in await self.store.fetchall("SELECT topic_id, report_id FROM topic_exclusions")}

    @staticmethod
    async def add_profile_matches(db: aiosqlite.Connection, matches: Iterable[ProfileMatchRow], now: datetime) -> int:
        """Reports like a topic's seeds: the topic's, unless they already are (by any route) or were excluded."""
        added = 0
        for m in matches:
            cur = await db.execute(
                "INSERT OR IGNORE INTO report_topics (report_id, topic_id, matched_at, matched_by, evidence)"
                " SELECT ?, ?, ?, 'profile', ? WHERE NOT EXISTS"
                " (SELECT 1 FROM topic_exclusions WHERE topic_id = ? AND report_id = ?)",
                (m.report_id, m.topic_id, to_db(now), m.evidence, m.topic_id, m.report_id),
            )
            added += max(cur.rowcount, 0)
        return added

    @staticmethod
    async def set_copy_of(db: aiosqlite.Connection, changes: dict[int, int | None]) -> None:
        """report id -> the report it copies (None: an original), for reports analysed earlier."""
        await db.executemany(
            "UPDATE report_analysis SET copy_of = ? WHERE report_id = ?", [(c, rid) for rid, c in changes.items()]
        )

    async def clear(self) -> None:
        async with self.store.transaction() as db:
            await db.execute("DELETE FROM report_analysis")
            await db.execute("DELETE FROM stories")
            await self.next_generation(db, utcnow())

    # --- reading -------------------------------------------------------------------------------------
    async def topic_reports(
        self,
        topic_id: int,
        since: datetime | None,
        until: datetime | None = None,
        limit: int | None = None,
        *,
        overlay: AnalysisOverlay | None = None,
    ) -> list[AnalysedReport]:
        """A topic's analysed reports published in the window, oldest first."""
        sql = (
            f"SELECT {_COLUMNS} FROM report_topics rt JOIN reports r ON r.id = rt.report_id"
            f" {_join(overlay)} report_analysis a ON a.report_id = r.id WHERE rt.topic_id = ?"
        )
        params: list[object] = [topic_id]
        if since is not None:
            sql += " AND r.published_at >= ?"
            params.append(to_db(since))
        if until is not None:
            sql += " AND r.published_at <= ?"
            params.append(to_db(until))
        sql += " ORDER BY r.published_at, r.id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        found = _read(await self.store.fetchall(sql, params), overlay)
        extra = await self._overlay_members(topic_id, found, overlay)
        extra = [r for r in extra if (since is None or r.published_at >= since) and (until is None or r.published_at <= until)]
        if not extra:
            return found
        merged = sorted([*found, *extra], key=lambda r: (r.published_at, r.id))
        return merged if limit is None else merged[:limit]

    async def _overlay_members(
        self, topic_id: int, found: list[AnalysedReport], overlay: AnalysisOverlay | None
    ) -> list[AnalysedReport]:
        """The topic's members that only the overlay knows (story and profile members of reports
        analysed in memory), not already in `found`."""
        if overlay is None or not overlay.members.get(topic_id):
            return []
        have = {r.id for r in found}
        wanted = [i for i in sorted(overlay.members[topic_id]) if i not in have]
        return list((await self.reports_by_id(wanted, overlay=overlay)).values())

    async def topic_reports_seen(self, topic_id: int, start: datetime, end: datetime) -> list[AnalysedReport]:
        """A topic's analysed reports first seen in (start, end], oldest first (the digest's window: what
        was new since the last digest, up to and including this one's second)."""
        rows = await self.store.fetchall(
            f"SELECT {_COLUMNS} FROM report_topics rt JOIN reports r ON r.id = rt.report_id"
            " JOIN report_analysis a ON a.report_id = r.id WHERE rt.topic_id = ?"
            " AND r.first_seen_at > ? AND r.first_seen_at <= ? ORDER BY r.published_at, r.id",
            (topic_id, to_db(start), to_db(end)),
        )
        return [_analysed(r) for r in rows]

    async def latest_for_topic(
        self, topic_id: int, count: int, *, overlay: AnalysisOverlay | None = None
    ) -> list[AnalysedReport]:
        rows = await self.store.fetchall(
            f"SELECT {_COLUMNS} FROM report_topics rt JOIN reports r ON r.id = rt.report_id"
            f" {_join(overlay)} report_analysis a ON a.report_id = r.id WHERE rt.topic_id = ?"
            " ORDER BY r.published_at DESC, r.id DESC LIMIT ?",
            (topic_id, count),
        )
        found = _read(rows, overlay)
        extra = await self._overlay_members(topic_id, found, overlay)
        if not extra:
            return found
        return sorted([*found, *extra], key=lambda r: (r.published_at, r.id), reverse=True)[:count]

    async def reports_by_id(self, ids: Sequence[int], *, overlay: AnalysisOverlay | None = None) -> dict[int, AnalysedReport]:
        out: dict[int, AnalysedReport] = {}
        for part in chunks(list(ids), 500):
            rows = await self.store.fetchall(
                f"SELECT {_COLUMNS} FROM reports r {_join(overlay)} report_analysis a ON a.report_id = r.id"
                f" WHERE r.id IN ({placeholders(len(part))})",
                part,
            )
            out.update((r.id, r) for r in _read(rows, overlay))
        return out

    async def versions_for(self, ids: Sequence[int]) -> dict[int, list[tuple[str, str, datetime]]]:
        """Earlier (title, text, replaced_at) of each report, oldest first."""
        out: dict[int, list[tuple[str, str, datetime]]] = {}
        for part in chunks(list(ids), 500):
            rows = await self.store.fetchall(
                "SELECT report_id, title, text, replaced_at FROM report_versions"
                f" WHERE report_id IN ({placeholders(len(part))}) ORDER BY replaced_at, id",
                part,
            )
            for rid, title, text, replaced in rows:
                out.setdefault(rid, []).append((title, text, from_db(replaced)))
        return out
