"""One SQLite database behind one aiosqlite connection.

Writes go through `transaction()`, which serialises them with an asyncio lock: many feeds are polled
at once, but their batches reach the database one at a time, each in its own transaction."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from planwatch.errors import StoreError
from planwatch.store.migrate import migrate


class Store:
    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self.db = db
        self.path = path
        self._write_lock = asyncio.Lock()
        # Import here to keep the repositories' modules free of a cycle back to Store.
        from planwatch.store.feeds import FeedRepo
        from planwatch.store.guilds import GuildRepo
        from planwatch.store.outlets import OutletRepo
        from planwatch.store.reports import ReportRepo
        from planwatch.store.state import StateRepo
        from planwatch.store.stories import StoryRepo
        from planwatch.store.subscribers import OutboxRepo, SubscriberRepo
        from planwatch.store.topics import TopicRepo

        self.feeds = FeedRepo(self)
        self.reports = ReportRepo(self)
        self.topics = TopicRepo(self)
        self.state = StateRepo(self)
        self.stories = StoryRepo(self)
        self.outlets = OutletRepo(self)
        self.guilds = GuildRepo(self)
        self.subscribers = SubscriberRepo(self)
        self.outbox = OutboxRepo(self)

    @classmethod
    async def open(cls, path: Path | str, *, run_migrations: bool = True) -> Store:
        path = Path(path)
        if path.parent and not path.parent.exists():
            raise StoreError(f"cannot open database {path}: folder {path.parent} does not exist")
        try:
            db = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        db.row_factory = aiosqlite.Row
        try:
            await db.execute("PRAGMA busy_timeout = 5000")
            await _wal(db)
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("PRAGMA synchronous = NORMAL")
            store = cls(db, path)
            if run_migrations:
                await migrate(db)
        except sqlite3.DatabaseError as exc:
            await db.close()
            raise StoreError(f"cannot use database {path}: {exc}") from exc
        except BaseException:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        async with self._write_lock:
            await self.db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (cancellation included).

        BEGIN sits inside the try: a task cancelled while BEGIN waits for the lock still has BEGIN run
        on aiosqlite's thread, and the rollback, queued after it on that same thread, undoes it."""
        async with self._write_lock:
            try:
                await self.db.execute("BEGIN IMMEDIATE")
                yield self.db
            except BaseException:
                await asyncio.shield(self.db.rollback())
                raise
            await self.db.commit()

    # --- small read helpers used by the repositories ------------------------------------------------
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self.db.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        async with self.db.execute(sql, params) as cur:
            row: sqlite3.Row | None = await cur.fetchone()
            return row

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


async def _wal(db: aiosqlite.Connection) -> None:
    """Switching a new file to WAL needs a moment alone with it, and SQLite answers "locked" at once
    (no busy handler) while another process opens it too: retry for up to five seconds."""
    for attempt in range(50):
        try:
            await db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 49:
                raise
            await asyncio.sleep(0.1)


def chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def placeholders(count: int) -> str:
    return ",".join("?" * count)
