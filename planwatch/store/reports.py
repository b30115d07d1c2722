"""SQL for reports: applying one feed's batch, and reading reports back."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import aiosqlite

from planwatch.ingest.dedup import BatchPlan, Candidate, Key, Known, candidates, plan_batch
from planwatch.models import Entry, Report
from planwatch.store.db import chunks, placeholders
from planwatch.timeutil import from_db, from_db_opt, to_db

if TYPE_CHECKING:
    from planwatch.store.db import Store


@dataclass(frozen=True, slots=True)
class BatchResult:
    new: int
    updated: int
    unchanged: int
    merged: int
    new_ids: list[int]
    updated_ids: list[int]


def _report(row: sqlite3.Row, topics: list[str] | None = None) -> Report:
    return Report(
        id=row["id"],
        url=row["url"],
        guid=row["guid"],
        title=row["title"],
        text=row["text"],
        author=row["author"],
        outlet=row["outlet"],
        language=row["language"],
        published_at=from_db(row["published_at"]),
        published_estimated=bool(row["published_estimated"]),
        first_seen_at=from_db(row["first_seen_at"]),
        updated_at=from_db_opt(row["updated_at"]),
        content_hash=row["content_hash"],
        topics=topics or [],
    )


class ReportRepo:
    def __init__(self, store: Store) -> None:
        self.store = store

    # --- writing -------------------------------------------------------------------------------------
    @staticmethod
    async def _lookup(db: aiosqlite.Connection, feed_id: int, cands: list[Candidate]) -> tuple[dict[Key, int], dict[int, Known]]:
        keys = list({k for c in cands for k in c.keys})
        owner: dict[Key, int] = {}
        for part in chunks(keys, 400):
            flat = [v for key in part for v in key]
            sql = f"SELECT kind, key, report_id FROM report_keys WHERE (kind, key) IN (VALUES {','.join(['(?, ?)'] * len(part))})"
            async with db.execute(sql, flat) as cur:
                for kind, key, report_id in await cur.fetchall():
                    owner[(kind, key)] = report_id
        known: dict[int, Known] = {}
        ids = sorted(set(owner.values()))
        for part in chunks(ids, 500):
            sql = (
                "SELECT r.id, r.content_hash, r.title, r.text, coalesce(r.updated_at, r.first_seen_at),"
                " s.content_hash FROM reports r LEFT JOIN report_sources s"
                f" ON s.report_id = r.id AND s.feed_id = ? WHERE r.id IN ({placeholders(len(part))})"
            )
            async with db.execute(sql, [feed_id, *part]) as cur:
                for rid, chash, title, text, valid_from, source_hash in await cur.fetchall():
                    known[rid] = Known(rid, chash, title, text, from_db(valid_from), source_hash)
        return owner, known

    async def save_batch(
        self,
        db: aiosqlite.Connection,
        *,
        feed_id: int,
        outlet: str,
        entries: list[Entry],
        now: datetime,
        backlog: bool = False,
    ) -> BatchResult:
        """Store one feed's entries inside the caller's transaction; see planwatch.ingest.dedup."""
        # Oldest first, so that report ids follow publication order within a feed.
        ordered = sorted(entries, key=lambda e: e.published_at or now)
        cands = candidates(feed_id, ordered, outlet)
        owner, known = await self._lookup(db, feed_id, cands)
        async with db.execute("SELECT coalesce(max(id), 0) + 1 FROM reports") as cur:
            row = await cur.fetchone()
        assert row is not None
        plan = plan_batch(cands, owner, known, int(row[0]))
        await self._apply(db, plan, feed_id=feed_id, outlet=outlet, now=now, backlog=backlog)
        return BatchResult(
            new=len(plan.inserts),
            updated=len(plan.updates),
            unchanged=plan.unchanged,
            merged=plan.merged,
            new_ids=[rid for rid, _ in plan.inserts],
            updated_ids=[known.report_id for known, _ in plan.updates],
        )

    @staticmethod
    async def _apply(
        db: aiosqlite.Connection, plan: BatchPlan, *, feed_id: int, outlet: str, now: datetime, backlog: bool
    ) -> None:
        stamp = to_db(now)
        if plan.inserts:
            await db.executemany(
                "INSERT INTO reports (id, url, guid, title, text, author, outlet, language, published_at,"
                " published_estimated, first_seen_at, content_hash, feed_id, from_backlog)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        rid, c.entry.url, c.entry.guid, c.entry.title, c.entry.text, c.entry.author,
                        c.entry.outlet or outlet, c.entry.language,
                        to_db(c.entry.published_at) if c.entry.published_at else stamp,
                        int(c.entry.published_at is None), stamp, c.content_hash, feed_id, int(backlog),
                    )
                    for rid, c in plan.inserts
                ],
            )  # fmt: skip
        if plan.updates:
            await db.executemany(
                "INSERT INTO report_versions (report_id, title, text, content_hash, valid_from, replaced_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(k.report_id, k.title, k.text, k.content_hash, to_db(k.valid_from), stamp) for k, _ in plan.updates],
            )
            await db.executemany(
                "UPDATE reports SET title = ?, text = ?, content_hash = ?, updated_at = ? WHERE id = ?",
                [(c.entry.title, c.entry.text, c.content_hash, stamp, k.report_id) for k, c in plan.updates],
            )
        if plan.new_keys:
            await db.executemany("INSERT OR IGNORE INTO report_keys (kind, key, report_id) VALUES (?, ?, ?)", plan.new_keys)
        if plan.sources:
            await db.executemany(
                "INSERT INTO report_sources (report_id, feed_id, url, guid, content_hash, first_seen_at,"
                " last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (report_id, feed_id) DO UPDATE SET url = excluded.url, guid = excluded.guid,"
                " content_hash = excluded.content_hash, last_seen_at = excluded.last_seen_at",
                [(rid, feed_id, c.entry.url, c.entry.guid, c.content_hash, stamp, stamp) for rid, c in plan.sources],
            )

    # --- reading -------------------------------------------------------------------------------------
    async def get(self, report_id: int) -> Report | None:
        row = await self.store.fetchone("SELECT * FROM reports WHERE id = ?", (report_id,))
        if row is None:
            return None
        return _report(row, (await self._topics_of([report_id])).get(report_id, []))

    async def _topics_of(self, ids: list[int]) -> dict[int, list[str]]:
        names: dict[int, list[str]] = {}
        for part in chunks(ids, 500):
            rows = await self.store.fetchall(
                "SELECT rt.report_id, t.name FROM report_topics rt JOIN topics t ON t.id = rt.topic_id"
                f" WHERE rt.report_id IN ({placeholders(len(part))}) ORDER BY t.name",
                part,
            )
            for rid, name in rows:
                names.setdefault(rid, []).append(name)
        return names

    async def recent(self, *, topic_id: int | None = None, since: datetime | None = None, limit: int = 100) -> list[Report]:
        """Newest first by first_seen_at; optionally one topic's matches, optionally a window."""
        params: list[object] = []
        sql = "SELECT r.* FROM reports r"
        if topic_id is not None:
            sql += " JOIN report_topics rt ON rt.report_id = r.id AND rt.topic_id = ?"
            params.append(topic_id)
        if since is not None:
            sql += " WHERE r.first_seen_at >= ?"
            params.append(to_db(since))
        sql += " ORDER BY r.first_seen_at DESC, r.id DESC LIMIT ?"
        params.append(limit)
        rows = await self.store.fetchall(sql, params)
        topics = await self._topics_of([row["id"] for row in rows])
        return [_report(row, topics.get(row["id"], [])) for row in rows]

    async def count(self) -> int:
        return int(await self.store.scalar("SELECT count(*) FROM reports"))

    async def versions(self, report_id: int) -> list[tuple[str, str, datetime, datetime]]:
        rows = await self.store.fetchall(
            "SELECT title, text, valid_from, replaced_at FROM report_versions WHERE report_id = ? ORDER BY replaced_at, id",
            (report_id,),
        )
        return [(r[0], r[1], from_db(r[2]), from_db(r[3])) for r in rows]
