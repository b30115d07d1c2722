"""Watched topics: create (with a backfill over stored reports), edit, remove, list."""

from __future__ import annotations

import re

from planwatch.errors import UsageError
from planwatch.models import Topic
from planwatch.store import Store
from planwatch.store.topics import Followers
from planwatch.timeutil import utcnow

GLOBAL_SCOPE = "global"
DEFAULT_TOPIC = "ukraine-peace-plan"
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
MAX_DESCRIPTION = 300  # what Discord's /topic takes, and what fits an embed line


def check_name(name: str) -> str:
    name = name.strip().lower()
    if not _SLUG.match(name):
        raise UsageError(f"invalid topic name {name!r}: use 1-32 lower-case letters, digits and dashes, e.g. ukraine-peace-plan")
    return name


def check_description(description: str) -> str:
    """Refused, not cut: a description cut mid-word would reach readers as the operator never wrote it."""
    text = description.strip()
    if len(text) > MAX_DESCRIPTION:
        raise UsageError(f"the description is {len(text)} characters; at most {MAX_DESCRIPTION}, please")
    return text


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
        description=check_description(description),
        aliases=aliases or [],
        now=utcnow(),
    )


async def remove_topic(store: Store, name: str, scope: str = GLOBAL_SCOPE, *, force: bool = False) -> Followers:
    """Refused while subscribers or alert channels follow the topic, unless forced: their digests and
    alerts would lose it without a word. Returns who followed it."""
    topic = await store.topics.get(name.strip().lower(), scope)
    followers = await store.topics.followers(topic)
    if followers.count and not force:
        raise UsageError(f"topic {topic.name} is followed by {followers.describe()}; --force removes it anyway")
    await store.topics.remove(topic.name, scope)
    return followers
