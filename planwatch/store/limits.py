"""SQL for the hourly flood limits of subscription requests (table subscribe_limits, migration 0007).

A limit is a sliding one-hour window of counted events. Taking a slot counts and inserts in one
write transaction, so two requests at once cannot both take the last slot, and across processes too
(BEGIN IMMEDIATE). A refusal is decided by a plain read first: a flood that is being refused does not
queue up for the write lock that polling and delivery need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from planwatch.timeutil import from_db, to_db

if TYPE_CHECKING:
    from planwatch.store.db import Store

WINDOW = timedelta(hours=1)  # every limit kept here is "per hour"; rows older than this are pruned
# Both run on every admitted request; each reads through its index (tests/test_subscribe_abuse.py checks
# the plans), so the cost stays that of one window, whatever the table held before.
COUNT_WINDOW = "SELECT count(*), min(at) FROM subscribe_limits WHERE kind = ? AND subject = ? AND at >= ?"
PRUNE = "DELETE FROM subscribe_limits WHERE at < ?"


class LimitKind(StrEnum):
    WEB_CLIENT = "web-client"
    CONFIRMATION = "confirmation"
    CAP_WARNING = "cap-warning"


@dataclass(frozen=True, slots=True)
class Admission:
    admitted: bool
    counted: int  # events in the window, this one included when admitted
    slot_id: int | None = None  # the row taken, to give it back (release)
    frees_at: datetime | None = None  # a refusal: when the oldest event leaves the window

    def retry_after(self, now: datetime) -> timedelta:
        return max((self.frees_at or now + WINDOW) - now, timedelta(seconds=1))


class LimitRepo:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def take(self, kind: LimitKind, subject: str, limit: int, now: datetime) -> Admission:
        """Count one event for (kind, subject) if fewer than `limit` are in the last hour."""
        since = to_db(now - WINDOW)
        refused = await self._refusal(kind, subject, limit, since)
        if refused is not None:
            return refused
        async with self.store.transaction() as db:
            await db.execute(PRUNE, (since,))
            async with db.execute(COUNT_WINDOW, (kind.value, subject, since)) as cur:
                row = await cur.fetchone()
            assert row is not None
            count, oldest = int(row[0]), row[1]
            if count >= limit:
                return Admission(False, count, frees_at=from_db(oldest) + WINDOW)
            cur = await db.execute(
                "INSERT INTO subscribe_limits (kind, subject, at) VALUES (?, ?, ?)", (kind.value, subject, to_db(now))
            )
            return Admission(True, count + 1, slot_id=cur.lastrowid)

    async def _refusal(self, kind: LimitKind, subject: str, limit: int, since: str) -> Admission | None:
        row = await self.store.fetchone(COUNT_WINDOW, (kind.value, subject, since))
        assert row is not None
        if int(row[0]) < limit:
            return None
        return Admission(False, int(row[0]), frees_at=from_db(row[1]) + WINDOW)

    async def release(self, slot_id: int) -> None:
        """Give a slot back: the event it was taken for did not happen (no mail was queued after all)."""
        async with self.store.transaction() as db:
            await db.execute("DELETE FROM subscribe_limits WHERE id = ?", (slot_id,))
