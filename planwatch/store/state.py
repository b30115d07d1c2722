"""SQL for service_state: small named facts such as the scheduler's last tick."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from planwatch.timeutil import to_db

if TYPE_CHECKING:
    from planwatch.store.db import Store


class StateRepo:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def set(self, key: str, value: str, now: datetime) -> None:
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT INTO service_state (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (key, value, to_db(now)),
            )

    async def set_if_absent(self, key: str, value: str, now: datetime) -> str:
        """Keep the first value ever set (two processes racing agree on one); returns the kept value."""
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO service_state (key, value, updated_at) VALUES (?, ?, ?)",
                (key, value, to_db(now)),
            )
        kept = await self.get(key)
        assert kept is not None
        return kept

    async def delete(self, *keys: str) -> None:
        async with self.store.transaction() as db:
            await db.executemany("DELETE FROM service_state WHERE key = ?", [(k,) for k in keys])

    async def get(self, key: str) -> str | None:
        value = await self.store.scalar("SELECT value FROM service_state WHERE key = ?", (key,))
        return None if value is None else str(value)
