"""SQL for the outlets operators add to the built-in registry."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from planwatch.errors import NotFoundError
from planwatch.stories.outlets import Outlet
from planwatch.timeutil import to_db

if TYPE_CHECKING:
    from planwatch.store.db import Store


class OutletRepo:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def extra(self) -> tuple[Outlet, ...]:
        rows = await self.store.fetchall("SELECT name, aliases FROM outlets ORDER BY name")
        return tuple(Outlet(name, tuple(json.loads(aliases))) for name, aliases in rows)

    async def add(self, name: str, aliases: list[str], now: datetime) -> None:
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT INTO outlets (name, aliases, added_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET aliases = excluded.aliases",
                (name, json.dumps(aliases), to_db(now)),
            )

    async def remove(self, name: str) -> None:
        async with self.store.transaction() as db:
            cur = await db.execute("DELETE FROM outlets WHERE name = ?", (name,))
            if cur.rowcount == 0:
                raise NotFoundError(f"no outlet {name!r} was added (built-in outlets cannot be removed)")
