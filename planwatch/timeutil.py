"""UTC times as the store keeps them: fixed-width text that sorts and compares as strings."""

from __future__ import annotations

from datetime import UTC, datetime

DB_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def to_db(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: Planwatch keeps every time in UTC")
    return moment.astimezone(UTC).strftime(DB_FORMAT)


def from_db(text: str) -> datetime:
    return datetime.strptime(text, DB_FORMAT).replace(tzinfo=UTC)


def from_db_opt(text: str | None) -> datetime | None:
    return None if text is None else from_db(text)
