"""SQL for feeds and their fetch state."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiosqlite

from planwatch.errors import NotFoundError, UsageError
from planwatch.models import Feed
from planwatch.timeutil import from_db, from_db_opt, to_db

if TYPE_CHECKING:
    from planwatch.store.db import Store

# Columns a poll may write; anything else is a programming error.
STATE_COLUMNS = frozenset(
    {
        "url", "title", "site_url", "etag", "last_modified", "body_hash", "last_status", "last_polled_at",
        "last_success_at", "consecutive_failures", "next_poll_at", "last_error", "paused", "paused_reason",
        "first_success_at",
    }
)  # fmt: skip


def _feed(row: sqlite3.Row) -> Feed:
    return Feed(
        id=row["id"],
        url=row["url"],
        name=row["name"],
        title=row["title"],
        site_url=row["site_url"],
        interval_minutes=row["interval_minutes"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        body_hash=row["body_hash"],
        last_status=row["last_status"],
        last_polled_at=from_db_opt(row["last_polled_at"]),
        last_success_at=from_db_opt(row["last_success_at"]),
        consecutive_failures=row["consecutive_failures"],
        next_poll_at=from_db_opt(row["next_poll_at"]),
        last_error=row["last_error"],
        paused=bool(row["paused"]),
        paused_reason=row["paused_reason"],
        created_at=from_db(row["created_at"]),
        first_success_at=from_db_opt(row["first_success_at"]),
        added_by=row["added_by"],
    )


def _db_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_db(value)
    if isinstance(value, bool):
        return int(value)
    return value


class FeedRepo:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, url: str, *, name: str | None, interval_minutes: int, now: datetime, added_by: str | None = None) -> Feed:
        async with self.store.transaction() as db:
            try:
                cur = await db.execute(
                    "INSERT INTO feeds (url, name, interval_minutes, created_at, added_by) VALUES (?, ?, ?, ?, ?)",
                    (url, name, interval_minutes, to_db(now), added_by),
                )
            except sqlite3.IntegrityError:
                existing = await self.get_by_url(url)
                which = f" as feed #{existing.id}" if existing else ""
                raise UsageError(f"feed {url} is already watched{which}") from None
            feed_id = cur.lastrowid
        assert feed_id is not None
        return await self.get(feed_id)

    async def add_many(self, items: list[tuple[str, str | None]], *, interval_minutes: int, now: datetime) -> list[str]:
        """Insert feeds in one transaction; returns the URLs that were already there."""
        existing = {row[0] for row in await self.store.fetchall("SELECT url FROM feeds")}
        fresh = [(url, name) for url, name in dict(items).items() if url not in existing]
        async with self.store.transaction() as db:
            await db.executemany(  # another process may add one meanwhile: that one is kept
                "INSERT INTO feeds (url, name, interval_minutes, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (url) DO NOTHING",
                [(url, name, interval_minutes, to_db(now)) for url, name in fresh],
            )
        return [url for url, _ in items if url in existing]

    async def get(self, feed_id: int) -> Feed:
        row = await self.store.fetchone("SELECT * FROM feeds WHERE id = ?", (feed_id,))
        if row is None:
            raise NotFoundError(f"no feed #{feed_id}")
        return _feed(row)

    async def get_by_url(self, url: str) -> Feed | None:
        row = await self.store.fetchone("SELECT * FROM feeds WHERE url = ?", (url,))
        return None if row is None else _feed(row)

    async def ids_by_url(self) -> dict[str, int]:
        """Every stored URL with its feed's id (spellings are compared where canonical forms are made)."""
        return {row[0]: row[1] for row in await self.store.fetchall("SELECT url, id FROM feeds")}

    async def list_all(self) -> list[Feed]:
        return [_feed(r) for r in await self.store.fetchall("SELECT * FROM feeds ORDER BY id")]

    async def count(self) -> int:
        return int(await self.store.scalar("SELECT count(*) FROM feeds"))

    async def due(self, now: datetime) -> list[Feed]:
        """Feeds whose next poll time has come (or that were never polled), not paused."""
        rows = await self.store.fetchall(
            "SELECT * FROM feeds WHERE paused = 0 AND (next_poll_at IS NULL OR next_poll_at <= ?)"
            " ORDER BY next_poll_at IS NOT NULL, next_poll_at, id",
            (to_db(now),),
        )
        return [_feed(r) for r in rows]

    async def pollable(self, now: datetime, *, ignore_backoff: bool) -> list[Feed]:
        """For `poll --once`: every feed not paused, and not backing off unless told to ignore it."""
        if ignore_backoff:
            rows = await self.store.fetchall("SELECT * FROM feeds WHERE paused = 0 ORDER BY id")
        else:
            rows = await self.store.fetchall(
                "SELECT * FROM feeds WHERE paused = 0 AND (consecutive_failures = 0"
                " OR next_poll_at IS NULL OR next_poll_at <= ?) ORDER BY id",
                (to_db(now),),
            )
        return [_feed(r) for r in rows]

    async def remove(self, feed_id: int) -> None:
        """The feed goes; its reports stay. Its guid keys go too: SQLite may give its id to a new feed,
        whose guids must not be mistaken for this one's."""
        async with self.store.transaction() as db:
            cur = await db.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))
            if cur.rowcount == 0:
                raise NotFoundError(f"no feed #{feed_id}")
            await db.execute(
                "DELETE FROM report_keys WHERE kind = 'guid' AND key >= ? AND key < ?",
                (f"{feed_id}:", f"{feed_id};"),
            )

    async def set_paused(self, feed_id: int, paused: bool, reason: str | None, now: datetime) -> Feed:
        async with self.store.transaction() as db:
            cur = await db.execute(
                "UPDATE feeds SET paused = ?, paused_reason = ?,"
                " consecutive_failures = CASE WHEN ? THEN consecutive_failures ELSE 0 END,"
                " next_poll_at = CASE WHEN ? THEN next_poll_at ELSE ? END WHERE id = ?",
                (int(paused), reason, int(paused), int(paused), to_db(now), feed_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no feed #{feed_id}")
        return await self.get(feed_id)

    @staticmethod
    async def write_state(db: aiosqlite.Connection, feed_id: int, **state: Any) -> None:
        """Update fetch-state columns inside the caller's transaction."""
        unknown = set(state) - STATE_COLUMNS
        if unknown:
            raise ValueError(f"not feed state columns: {sorted(unknown)}")
        assignments = ", ".join(f"{column} = ?" for column in state)
        await db.execute(
            f"UPDATE feeds SET {assignments} WHERE id = ?",
            [*(_db_value(v) for v in state.values()), feed_id],
        )

    @staticmethod
    async def move(db: aiosqlite.Connection, feed_id: int, url: str) -> bool:
        """Give the feed a new URL inside the caller's transaction, unless another feed has it."""
        cur = await db.execute(
            "UPDATE feeds SET url = ? WHERE id = ? AND NOT EXISTS (SELECT 1 FROM feeds WHERE url = ? AND id != ?)",
            (url, feed_id, url, feed_id),
        )
        return cur.rowcount == 1
