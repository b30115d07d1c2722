"""One SQLite database behind one aiosqlite connection.

Writes go through `transaction()`, which serialises them with an asyncio lock: many feeds are polled
at once, but their batches reach the database one at a time, each in its own transaction.

Other processes (`planwatch run` beside CLI commands) share the file. WAL lets readers read while one
writer writes; writers take turns: `transaction()` begins with BEGIN IMMEDIATE (a deferred transaction
that reads, then writes, gets SQLITE_BUSY at once, without the busy handler) and, while another process
holds the write lock, tries again with jittered pauses for up to `BusyPolicy.wait_seconds`, then says
so in one line (DatabaseBusy)."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from planwatch.errors import StoreError
from planwatch.store.migrate import migrate
from planwatch.timeutil import utcnow


@dataclass(frozen=True, slots=True)
class BusyPolicy:
    """How a write waits for the write lock that another process holds."""

    # In all, before DatabaseBusy. A poll batch, or the write of a story refresh (its analysis runs
    # before it takes the lock), holds the lock for well under a second; a big OPML import, longer.
    wait_seconds: float = 60.0
    # SQLite's own busy handler, per attempt (PRAGMA busy_timeout). Short, because it blocks the
    # connection's one thread, which the service's other tasks (bot, web, health) need meanwhile; the
    # pauses between attempts are asyncio sleeps.
    attempt_ms: int = 250
    # Pauses between attempts: random between 0 and min(cap, first * 2**attempt) ("full jitter"), so
    # that processes waiting together do not retry in step.
    first_pause_seconds: float = 0.02
    max_pause_seconds: float = 0.5


class DatabaseBusy(StoreError):
    """Another process kept the write lock for longer than this one would wait."""

    def __init__(self, path: Path, waited: float | None) -> None:
        how_long = f" for {round(waited, 1):g} s" if waited else ""
        super().__init__(f"the database {path} is busy (another process has been writing to it{how_long}); try again")


def is_busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY and its extended codes (BUSY_SNAPSHOT, BUSY_RECOVERY, BUSY_TIMEOUT): "database is locked"."""
    return isinstance(exc, sqlite3.OperationalError) and getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY


class Snapshot:
    """A read transaction that a caller may turn into a write when that costs no wait."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self.writing = False

    async def try_write(self) -> bool:
        """Take the write lock for this transaction if nobody holds it and nobody has committed since
        it began; False at once otherwise. SQLite never waits here: a read that upgrades gets
        SQLITE_BUSY without its busy handler (after the other writer's commit this snapshot would be
        out of date: SQLITE_BUSY_SNAPSHOT). A read-only file also answers False."""
        try:
            await self.db.execute("DELETE FROM schema_migrations WHERE 0")  # writes nothing, takes the lock
        except sqlite3.OperationalError as exc:
            if is_busy(exc) or getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_READONLY:
                return False
            raise
        self.writing = True
        return True


class Store:
    def __init__(self, db: aiosqlite.Connection, path: Path, busy: BusyPolicy | None = None) -> None:
        self.db = db
        self.path = path
        self.busy = busy or BusyPolicy()
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
    async def open(cls, path: Path | str, *, run_migrations: bool = True, busy: BusyPolicy | None = None) -> Store:
        path = Path(path)
        busy = busy or BusyPolicy()
        if path.parent and not path.parent.exists():
            raise StoreError(f"cannot open database {path}: folder {path.parent} does not exist")
        if path.is_dir():
            raise StoreError(f"cannot open database {path}: it is a folder; name a file, such as {path / 'planwatch.db'}")
        connection = aiosqlite.connect(path, isolation_level=None)
        try:
            db = await connection
        except sqlite3.Error as exc:
            # aiosqlite stops its worker thread after a failed connect without waiting for it; a command
            # that exits at once would close the event loop under that thread ("Event loop is closed").
            await asyncio.to_thread(connection._thread.join, 5)
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        db.row_factory = aiosqlite.Row
        try:
            # Until it is returned nothing else uses the connection: the migrations (BEGIN IMMEDIATE
            # of their own) may let SQLite's handler wait the whole time; then each attempt is short.
            await db.execute(f"PRAGMA busy_timeout = {round(busy.wait_seconds * 1000)}")
            await _wal(db)
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("PRAGMA synchronous = NORMAL")
            store = cls(db, path, busy)
            if run_migrations:
                await migrate(db)
            await db.execute(f"PRAGMA busy_timeout = {busy.attempt_ms}")
            if run_migrations:
                await store.topics.rematch_flagged(utcnow())
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

        While another process writes, BEGIN is tried again until `busy.wait_seconds` have passed,
        then DatabaseBusy.

        BEGIN sits inside the try: a task cancelled while BEGIN waits for the lock still has BEGIN run
        on aiosqlite's thread, and the rollback, queued after it on that same thread, undoes it."""
        async with self._write_lock:
            try:
                await self._begin_immediate()
                yield self.db
            except BaseException:
                await asyncio.shield(self.db.rollback())
                raise
            await self.db.commit()

    async def _begin_immediate(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        attempt = 0
        while True:
            try:
                await self.db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
            attempt += 1
            waited = loop.time() - started
            left = self.busy.wait_seconds - waited
            if left <= 0:
                raise DatabaseBusy(self.path, waited)
            ceiling = min(self.busy.max_pause_seconds, self.busy.first_pause_seconds * 2**attempt)
            await asyncio.sleep(min(left, random.uniform(0, ceiling)))

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Snapshot]:
        """One read transaction: every query inside sees the database as of its first read, and none of
        them waits for a writer (in WAL mode a reader reads the last commit while another process
        writes). It may become a write (Snapshot.try_write), committed at the end unless an exception
        ends it. It holds this process's asyncio lock because the connection is shared: no task of this
        process may BEGIN a write inside it."""
        async with self._write_lock:
            snapshot = Snapshot(self.db)
            try:
                await self.db.execute("BEGIN")
                yield snapshot
            except BaseException:
                await asyncio.shield(self.db.rollback())
                raise
            if snapshot.writing:
                await self.db.commit()
            else:
                await self.db.rollback()

    # --- small read helpers used by the repositories ------------------------------------------------
    # In WAL mode a read is busy only in rare moments (another process recovering the WAL after a
    # crash, or closing the file as its last user); SQLite's handler waits `attempt_ms` for those.
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            async with self.db.execute(sql, params) as cur:
                return list(await cur.fetchall())
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise DatabaseBusy(self.path, None) from exc
            raise

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        try:
            async with self.db.execute(sql, params) as cur:
                row: sqlite3.Row | None = await cur.fetchone()
                return row
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise DatabaseBusy(self.path, None) from exc
            raise

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
