"""SQL for digest subscribers, their requests (rate limits) and the outbox of mail to send."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from planwatch.errors import NotFoundError
from planwatch.timeutil import from_db, from_db_opt, to_db

if TYPE_CHECKING:
    from planwatch.store.db import Store


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    email: str
    scope: str
    topics: list[str]
    hour: int
    timezone: str
    status: str
    discord_user_id: str | None
    confirm_code: str | None
    requested_at: datetime
    confirmed_at: datetime | None
    consecutive_failures: int


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    subscriber_id: int
    kind: str
    digest_date: str
    message_id: str
    status: str
    attempts: int
    email: str


def _subscriber(row: sqlite3.Row) -> Subscriber:
    return Subscriber(
        id=row["id"], email=row["email"], scope=row["scope"], topics=json.loads(row["topics"]), hour=row["hour"],
        timezone=row["timezone"], status=row["status"], discord_user_id=row["discord_user_id"],
        confirm_code=row["confirm_code"], requested_at=from_db(row["requested_at"]),
        confirmed_at=from_db_opt(row["confirmed_at"]), consecutive_failures=row["consecutive_failures"],
    )  # fmt: skip


class SubscriberRepo:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, subscriber_id: int) -> Subscriber:
        row = await self.store.fetchone("SELECT * FROM subscribers WHERE id = ?", (subscriber_id,))
        if row is None:
            raise NotFoundError(f"no subscriber #{subscriber_id}")
        return _subscriber(row)

    async def find(self, email: str, scope: str) -> Subscriber | None:
        row = await self.store.fetchone("SELECT * FROM subscribers WHERE email = ? AND scope = ?", (email, scope))
        return None if row is None else _subscriber(row)

    async def by_email(self, email: str) -> list[Subscriber]:
        rows = await self.store.fetchall("SELECT * FROM subscribers WHERE email = ? ORDER BY id", (email,))
        return [_subscriber(r) for r in rows]

    async def by_discord_user(self, user_id: str, scope: str) -> list[Subscriber]:
        rows = await self.store.fetchall(
            "SELECT * FROM subscribers WHERE discord_user_id = ? AND scope = ? ORDER BY id", (user_id, scope)
        )
        return [_subscriber(r) for r in rows]

    async def list_all(self, status: str | None = None) -> list[Subscriber]:
        if status is None:
            rows = await self.store.fetchall("SELECT * FROM subscribers ORDER BY id")
        else:
            rows = await self.store.fetchall("SELECT * FROM subscribers WHERE status = ? ORDER BY id", (status,))
        return [_subscriber(r) for r in rows]

    async def upsert_pending(
        self, *, email: str, scope: str, topics: list[str], hour: int, timezone: str, discord_user_id: str | None,
        code: str, now: datetime, confirmed: bool,
    ) -> Subscriber:  # fmt: skip
        """A new request for an address and scope: its settings replace those of an earlier request."""
        status = "confirmed" if confirmed else "pending"
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT INTO subscribers (email, scope, topics, hour, timezone, status, discord_user_id, confirm_code,"
                " requested_at, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (email, scope) DO UPDATE SET topics = excluded.topics, hour = excluded.hour,"
                " timezone = excluded.timezone, discord_user_id = coalesce(discord_user_id, excluded.discord_user_id),"
                " confirm_code = excluded.confirm_code, requested_at = excluded.requested_at,"
                " status = CASE WHEN status = 'confirmed' OR excluded.status = 'confirmed' THEN 'confirmed'"
                " ELSE 'pending' END,"
                " confirmed_at = CASE WHEN excluded.status = 'confirmed' THEN excluded.confirmed_at ELSE confirmed_at END",
                (email, scope, json.dumps(topics), hour, timezone, status, discord_user_id, code, to_db(now),
                 to_db(now) if confirmed else None),
            )  # fmt: skip
        found = await self.find(email, scope)
        assert found is not None
        return found

    async def set_status(self, subscriber_id: int, status: str, now: datetime) -> None:
        statements = {
            "confirmed": "UPDATE subscribers SET status = 'confirmed', confirmed_at = ?, confirm_code = NULL,"
            " consecutive_failures = 0 WHERE id = ?",
            "unsubscribed": "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?, confirm_code = NULL"
            " WHERE id = ?",
        }
        async with self.store.transaction() as db:
            if status in statements:
                await db.execute(statements[status], (to_db(now), subscriber_id))
            else:
                await db.execute("UPDATE subscribers SET status = ? WHERE id = ?", (status, subscriber_id))

    async def remove(self, subscriber_id: int) -> None:
        async with self.store.transaction() as db:
            await db.execute("DELETE FROM subscribers WHERE id = ?", (subscriber_id,))

    async def expire_pending(self, older_than: datetime) -> int:
        async with self.store.transaction() as db:
            cur = await db.execute("DELETE FROM subscribers WHERE status = 'pending' AND requested_at < ?", (to_db(older_than),))
            return max(cur.rowcount, 0)

    # --- rate limits --------------------------------------------------------------------------------------
    async def log_request(self, email: str, discord_user_id: str | None, now: datetime) -> None:
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT INTO subscription_requests (email, discord_user_id, requested_at) VALUES (?, ?, ?)",
                (email, discord_user_id, to_db(now)),
            )

    async def requests_since(self, *, email: str | None = None, discord_user_id: str | None = None, since: datetime) -> int:
        column, key = ("email", email) if email is not None else ("discord_user_id", discord_user_id)
        sql = f"SELECT count(*) FROM subscription_requests WHERE {column} = ? AND requested_at >= ?"
        return int(await self.store.scalar(sql, (key, to_db(since))))

    # --- delivery outcomes ----------------------------------------------------------------------------------
    async def record_failure(self, subscriber_id: int, pause_after: int) -> bool:
        """A permanent refusal of the address: True when the subscriber is now paused."""
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE subscribers SET consecutive_failures = consecutive_failures + 1,"
                " status = CASE WHEN consecutive_failures + 1 >= ? AND status = 'confirmed' THEN 'paused' ELSE status END"
                " WHERE id = ?",
                (pause_after, subscriber_id),
            )
        return (await self.get(subscriber_id)).status == "paused"

    async def record_success(self, subscriber_id: int) -> None:
        async with self.store.transaction() as db:
            await db.execute("UPDATE subscribers SET consecutive_failures = 0 WHERE id = ?", (subscriber_id,))


class OutboxRepo:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def last_window_end(self, subscriber_id: int) -> datetime | None:
        value = await self.store.scalar(
            "SELECT max(window_end) FROM outbox WHERE subscriber_id = ? AND kind = 'digest'", (subscriber_id,)
        )
        return None if value is None else from_db(value)

    async def queue(
        self,
        subscriber_id: int,
        kind: str,
        digest_date: str,
        message_id: str,
        message: bytes,
        now: datetime,
        window_end: datetime | None = None,
    ) -> bool:
        """False when that mail was queued before (the UNIQUE key): nothing is queued twice."""
        try:
            async with self.store.transaction() as db:
                cur = await db.execute(
                    "INSERT INTO outbox (subscriber_id, kind, digest_date, message_id, status,"
                    " next_attempt_at, queued_at, window_end) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
                    (subscriber_id, kind, digest_date, message_id, to_db(now), to_db(now),
                     to_db(window_end) if window_end else None),
                )  # fmt: skip
                if message:
                    await db.execute("INSERT INTO outbox_messages (outbox_id, message) VALUES (?, ?)", (cur.lastrowid, message))
        except sqlite3.IntegrityError:
            return False
        return True

    async def exists(self, subscriber_id: int, kind: str, digest_date: str) -> bool:
        row = await self.store.fetchone(
            "SELECT 1 FROM outbox WHERE subscriber_id = ? AND kind = ? AND digest_date = ?",
            (subscriber_id, kind, digest_date),
        )
        return row is not None

    async def queued_since(self, subscriber_id: int, kind: str, since: datetime) -> bool:
        """Whether mail of this kind was queued for the subscriber at or after `since`."""
        row = await self.store.fetchone(
            "SELECT 1 FROM outbox WHERE subscriber_id = ? AND kind = ? AND queued_at >= ? LIMIT 1",
            (subscriber_id, kind, to_db(since)),
        )
        return row is not None

    async def due(self, now: datetime, limit: int = 1000) -> list[OutboxItem]:
        """Queued mail whose time has come, and mail left 'sending' by a crash once its lease is over."""
        rows = await self.store.fetchall(
            "SELECT o.id, o.subscriber_id, o.kind, o.digest_date, o.message_id, o.status, o.attempts, s.email"
            " FROM outbox o JOIN subscribers s ON s.id = o.subscriber_id"
            " WHERE o.status IN ('queued', 'sending') AND o.next_attempt_at <= ?"
            " AND (o.status = 'queued' OR o.lease_until < ?)"
            " AND ((o.kind = 'digest' AND s.status = 'confirmed') OR (o.kind = 'confirm' AND s.status = 'pending'))"
            " ORDER BY o.id LIMIT ?",
            (to_db(now), to_db(now), limit),
        )
        return [OutboxItem(*r) for r in rows]

    async def renew(self, item_ids: list[int], run: str, now: datetime, lease: timedelta) -> set[int]:
        """Extend this run's lease on mails it still holds; returns those (a lapsed one may be another's)."""
        if not item_ids:
            return set()
        marks = ",".join("?" * len(item_ids))
        async with self.store.transaction() as db:
            await db.execute(
                f"UPDATE outbox SET lease_until = ? WHERE id IN ({marks}) AND claimed_by = ? AND status = 'sending'",
                [to_db(now + lease), *item_ids, run],
            )
            async with db.execute(
                f"SELECT id FROM outbox WHERE claimed_by = ? AND status = 'sending' AND id IN ({marks})", [run, *item_ids]
            ) as cur:
                return {row[0] for row in await cur.fetchall()}

    async def release(self, run: str, now: datetime, next_attempt: datetime) -> None:
        """Give back what this run claimed and did not send (a sender-level refusal stopped it)."""
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE outbox SET status = 'queued', next_attempt_at = ?, lease_until = NULL"
                " WHERE claimed_by = ? AND status = 'sending'",
                (to_db(next_attempt), run),
            )

    async def messages(self, item_ids: list[int]) -> dict[int, bytes]:
        """The rendered messages of these mails (those still to be sent)."""
        if not item_ids:
            return {}
        marks = ",".join("?" * len(item_ids))
        rows = await self.store.fetchall(f"SELECT outbox_id, message FROM outbox_messages WHERE outbox_id IN ({marks})", item_ids)
        return {r[0]: bytes(r[1]) for r in rows}

    async def claim(self, item_ids: list[int], run: str, now: datetime, lease: timedelta) -> set[int]:
        """Take mails for this delivery run, in one transaction; returns those it got (another run may
        hold some): two runs never both send one mail."""
        if not item_ids:
            return set()
        marks = ",".join("?" * len(item_ids))
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1, lease_until = ?, claimed_by = ?"
                f" WHERE id IN ({marks}) AND (status = 'queued' OR (status = 'sending' AND lease_until < ?))",
                [to_db(now + lease), run, *item_ids, to_db(now)],
            )
            async with db.execute(
                f"SELECT id FROM outbox WHERE claimed_by = ? AND status = 'sending' AND id IN ({marks})", [run, *item_ids]
            ) as cur:
                return {row[0] for row in await cur.fetchall()}

    async def mark(self, item_id: int, status: str, now: datetime, *, error: str | None = None,
                   next_attempt: datetime | None = None) -> None:  # fmt: skip
        async with self.store.transaction() as db:
            if status == "sent":
                await db.execute(
                    "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
                    (to_db(now), item_id),
                )
            elif status == "queued":  # a temporary failure: tried again later
                await db.execute(
                    "UPDATE outbox SET status = 'queued', last_error = ?, next_attempt_at = ? WHERE id = ?",
                    (error, to_db(next_attempt or now), item_id),
                )
            else:
                await db.execute("UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?", (error, item_id))

    async def mark_sent(self, item_id: int, subscriber_id: int, now: datetime) -> None:
        """Sent, and the subscriber's run of refusals ends: one transaction for both."""
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
                (to_db(now), item_id),
            )
            await db.execute(
                "UPDATE subscribers SET consecutive_failures = 0 WHERE id = ? AND consecutive_failures != 0",
                (subscriber_id,),
            )

    async def skip_unwanted(self) -> int:
        """Queued mail whose reader left, was paused or already confirmed: never sent, marked skipped."""
        async with self.store.transaction() as db:
            cur = await db.execute(
                "UPDATE outbox SET status = 'skipped' WHERE status IN ('queued', 'sending') AND id IN ("
                " SELECT o.id FROM outbox o JOIN subscribers s ON s.id = o.subscriber_id"
                " WHERE (o.kind = 'digest' AND s.status != 'confirmed') OR (o.kind = 'confirm' AND s.status != 'pending'))"
            )
            return max(cur.rowcount, 0)

    async def purge_finished(self) -> int:
        """Drop the bodies of mails that are sent or failed, all at once (per mail, freeing a 140 KB body
        inside each 'sent' transaction cost more than sending it)."""
        async with self.store.transaction() as db:
            cur = await db.execute(
                "DELETE FROM outbox_messages WHERE outbox_id IN"
                " (SELECT id FROM outbox WHERE status IN ('sent', 'failed', 'skipped'))"
            )
            return max(cur.rowcount, 0)

    async def mark_skipped(self, subscriber_id: int, digest_date: str) -> None:
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE outbox SET status = 'skipped' WHERE subscriber_id = ? AND kind = 'digest' AND digest_date = ?",
                (subscriber_id, digest_date),
            )

    async def counts(self) -> dict[str, int]:
        rows = await self.store.fetchall("SELECT status, count(*) FROM outbox GROUP BY status")
        return {r[0]: r[1] for r in rows}

    async def for_subscriber(self, subscriber_id: int) -> list[tuple[str, str, str, int]]:
        rows = await self.store.fetchall(
            "SELECT kind, digest_date, status, attempts FROM outbox WHERE subscriber_id = ? ORDER BY id",
            (subscriber_id,),
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]
