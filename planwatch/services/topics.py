"""Watched topics: create (with a backfill over stored reports), edit, remove, list."""

from __future__ import annotations

import re

from planwatch.errors import UsageError
from planwatch.models import Topic
from planwatch.store import Store
from planwatch.timeutil import utcnow

GLOBAL_SCOPE = "global"
DEFAULT_TOPIC = "ukraine-peace-plan"
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")


def check_name(name: str) -> str:
    name = name.strip().lower()
    if not _SLUG.match(name):
        raise UsageError(f"invalid topic name {name!r}: use 1-32 lower-case letters, digits and dashes, e.g. ukraine-peace-plan")
    return name


def parse_aliases(specs: list[str] | None) -> list[list[str]]:
    """'kyiv|kiev' -> ['kyiv', 'kiev']; each spec is one group of spellings."""
    groups: list[list[str]] = []
    for spec in specs or []:
        group = [part.strip() for part in spec.split("|") if part.strip()]
        if len(group) < 2:
            raise UsageError(f"invalid alias {spec!r}: give two or more spellings separated by |, e.g. kyiv|kiev")
        groups.append(group)
    return groups


async def add_topic(
    store: Store,
    name: str,
    query: str,
    *,
    description: str = "",
    aliases: list[list[str]] | None = None,
    scope: str = GLOBAL_SCOPE,
) -> tuple[Topic, int]:
    return await store.topics.add(
        scope=scope,
        name=check_name(name),
        query=query.strip(),
        description=description.strip()[:300],
        aliases=aliases or [],
        now=utcnow(),
    )


async def remove_topic(store: Store, name: str, scope: str = GLOBAL_SCOPE) -> None:
    await store.topics.remove(name.strip().lower(), scope)
