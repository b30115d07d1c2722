"""Numbered SQL migrations, applied once each, in order, each in its own transaction."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from planwatch.errors import StoreError
from planwatch.resources import resource_dir
from planwatch.timeutil import to_db, utcnow

log = logging.getLogger(__name__)
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(folder: Path | None = None) -> list[Migration]:
    folder = folder or resource_dir("migrations")
    found: list[Migration] = []
    for path in sorted(folder.iterdir()):
        match = _NAME.match(path.name)
        if not match:
            continue
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise StoreError(f"migrations in {folder} are not numbered 0001, 0002, ... without gaps: {versions}")
    return found


async def applied_versions(db: aiosqlite.Connection) -> set[int]:
    await db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    async with db.execute("SELECT version FROM schema_migrations") as cur:
        return {row[0] for row in await cur.fetchall()}


async def migrate(db: aiosqlite.Connection, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply what is missing; refuse a database that a newer Planwatch has written."""
    migrations = load_migrations() if migrations is None else migrations
    done = await applied_versions(db)
    known = {m.version for m in migrations}
    if done - known:
        raise StoreError(
            f"the database is at schema version {max(done)}, newer than this Planwatch knows "
            f"({max(known, default=0)}): upgrade Planwatch, or point --db at another file"
        )
    applied: list[Migration] = []
    for migration in migrations:
        if migration.version in done:
            continue
        # executescript() would commit on its own; run statement by statement inside one transaction.
        await db.execute("BEGIN IMMEDIATE")
        try:
            async with db.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)) as cur:
                if await cur.fetchone() is not None:  # another process applied it while we waited
                    await db.rollback()
                    continue
            for statement in _split_sql(migration.sql):
                await db.execute(statement)
            await db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, to_db(utcnow())),
            )
            await db.commit()
        except Exception as exc:
            await db.rollback()
            raise StoreError(f"migration {migration.version:04d}_{migration.name} failed: {exc}") from exc
        log.info("applied migration %04d_%s", migration.version, migration.name)
        applied.append(migration)
    return applied


def _split_sql(script: str) -> list[str]:
    """Split on statement ends, keeping trigger bodies (BEGIN ... END;) whole."""
    import sqlite3

    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        if not current and line.lstrip().startswith("--"):
            continue
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        raise StoreError(f"incomplete SQL statement at the end of a migration: {current.strip()[:80]!r}")
    return statements
