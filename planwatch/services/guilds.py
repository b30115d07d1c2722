"""What a Discord server configures: its topics, its feeds, its alert channels, its moderator role.

Plain functions over the store keyed by the server's id; the bot's cogs only parse and render. A server
sees its own topics and the global ones (the default `ukraine-peace-plan`), never another server's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from planwatch.config import Settings
from planwatch.errors import NotFoundError, UsageError
from planwatch.models import Feed, Report, Topic
from planwatch.services.feeds import add_feed, find_feed, watched_feed
from planwatch.services.topics import DEFAULT_TOPIC, GLOBAL_SCOPE, Explanation, check_name, explain, parse_aliases
from planwatch.store import Store
from planwatch.store.guilds import AlertChannel
from planwatch.timeutil import utcnow


def scope_of(guild_id: int | str) -> str:
    return f"guild:{guild_id}"


async def visible_topics(store: Store, guild_id: int | str) -> list[Topic]:
    """The server's own topics first, then the global ones."""
    return [*await store.topics.list_all(scope_of(guild_id)), *await store.topics.list_all(GLOBAL_SCOPE)]


async def resolve_topic(store: Store, guild_id: int | str, name: str | None) -> Topic:
    """A topic by name (the server's own before a global one); no name: the server's first topic,
    else the default topic."""
    topics = await visible_topics(store, guild_id)
    if name is None or not name.strip():
        own = [t for t in topics if t.scope != GLOBAL_SCOPE]
        if own:
            return own[0]
        default = next((t for t in topics if t.name == DEFAULT_TOPIC), None)
        if default is None:
            raise NotFoundError("this server watches no topics yet: a moderator can add one with /topic add")
        return default
    wanted = name.strip().lower()
    for topic in topics:
        if topic.name == wanted:
            return topic
    known = ", ".join(t.name for t in topics) or "none yet"
    raise NotFoundError(f"no topic {wanted!r} on this server (known topics: {known})")


async def add_guild_topic(
    store: Store, guild_id: int | str, name: str, query: str, description: str = "", aliases: str | None = None
) -> tuple[Topic, int]:
    return await store.topics.add(
        scope=scope_of(guild_id),
        name=check_name(name),
        query=query.strip(),
        description=description.strip()[:300],
        aliases=parse_aliases(aliases.split(",")) if aliases else [],
        now=utcnow(),
    )


async def own_topic(store: Store, guild_id: int | str, name: str) -> Topic:
    """A topic this server may change: its own, never a global one."""
    topic = await resolve_topic(store, guild_id, name)
    if topic.scope != scope_of(guild_id):
        raise UsageError(f"{topic.name} is a global topic: it cannot be changed from a server")
    return topic


async def edit_guild_topic(
    store: Store, guild_id: int | str, name: str, *, query: str | None, description: str | None
) -> tuple[Topic, int]:
    if query is None and description is None:
        raise UsageError("give a new query or a new description")
    topic = await own_topic(store, guild_id, name)
    return await store.topics.update(
        topic, query=query.strip() if query else None, description=description.strip()[:300] if description else None,
        now=utcnow(),
    )  # fmt: skip


async def remove_guild_topic(store: Store, guild_id: int | str, name: str) -> Topic:
    topic = await own_topic(store, guild_id, name)
    await store.topics.remove(topic.name, topic.scope)
    return topic


@dataclass(frozen=True, slots=True)
class TopicTest:
    query: str
    total: int
    sample: list[Report]
    since: timedelta


async def explain_report(store: Store, guild_id: int | str, topic: str | None, report_id: int) -> Explanation:
    """/topic test with a report: whether it is the topic's (this server's or a global one), and why."""
    found = await resolve_topic(store, guild_id, topic)
    return await explain(store, found.name, report_id, found.scope)


async def test_query(store: Store, query: str, since: timedelta, limit: int = 10) -> TopicTest:
    """What a query would match among reports first seen in the window, saving nothing."""
    fts = await store.topics.validate(query.strip(), [])
    start = utcnow() - since
    from planwatch.timeutil import to_db

    total = await store.scalar(
        "SELECT count(*) FROM reports_fts JOIN reports r ON r.id = reports_fts.rowid"
        " WHERE reports_fts MATCH ? AND r.first_seen_at >= ?",
        (fts, to_db(start)),
    )
    rows = await store.fetchall(
        "SELECT r.id FROM reports_fts JOIN reports r ON r.id = reports_fts.rowid"
        " WHERE reports_fts MATCH ? AND r.first_seen_at >= ? ORDER BY r.first_seen_at DESC LIMIT ?",
        (fts, to_db(start), limit),
    )
    sample = [r for r in [await store.reports.get(row[0]) for row in rows] if r is not None]
    return TopicTest(query, int(total), sample, since)


# --- feeds -------------------------------------------------------------------------------------------------
async def add_guild_feed(
    store: Store, settings: Settings, guild_id: int | str, url: str, *, name: str | None, interval: int | None
) -> tuple[Feed, bool]:
    """(feed, created): a feed another server or the operator already polls is shared, not fetched twice."""
    try:
        feed = await add_feed(store, settings, url, name=name, interval=interval, added_by=scope_of(guild_id))
        created = True
    except UsageError as exc:
        existing = await watched_feed(store, url)  # in any spelling of its URL
        if existing is None or "already watched" not in str(exc):
            raise
        feed, created = existing, False
    await store.guilds.link_feed(feed.id, str(guild_id), utcnow())
    return feed, created


async def guild_feeds(store: Store, guild_id: int | str) -> list[Feed]:
    return [await store.feeds.get(i) for i in await store.guilds.guild_feed_ids(str(guild_id))]


async def guild_feed(store: Store, guild_id: int | str, ref: str) -> Feed:
    feed = await find_feed(store, ref)
    if feed.id not in await store.guilds.guild_feed_ids(str(guild_id)):
        raise NotFoundError("this server did not add that feed (see /feed list)")
    return feed


async def remove_guild_feed(store: Store, guild_id: int | str, ref: str) -> tuple[Feed, bool]:
    feed = await guild_feed(store, guild_id, ref)
    deleted = await store.guilds.unlink_feed(feed.id, str(guild_id))
    return feed, deleted


async def pause_guild_feed(store: Store, guild_id: int | str, ref: str, paused: bool) -> Feed:
    """Only a feed this server alone added: pausing one shared with other servers or the operator would
    stop it for them too."""
    feed = await guild_feed(store, guild_id, ref)
    owners = await store.fetchall("SELECT guild_id FROM feed_guilds WHERE feed_id = ?", (feed.id,))
    if feed.added_by != scope_of(guild_id) or len(owners) > 1:
        raise UsageError("this feed is shared with other servers or the operator: /feed remove takes it off this server")
    reason = "paused by a moderator" if paused else None
    return await store.feeds.set_paused(feed.id, paused, reason, utcnow())


# --- alerts and moderator role ----------------------------------------------------------------------------
async def set_alerts(store: Store, guild_id: int | str, channel_id: int | str, topic: str | None) -> Topic | None:
    chosen = await resolve_topic(store, guild_id, topic) if topic else None
    await store.guilds.set_alert_channel(str(guild_id), chosen.id if chosen else None, str(channel_id), utcnow())
    return chosen


async def alerts_off(store: Store, guild_id: int | str, topic: str | None) -> Topic | None:
    chosen = await resolve_topic(store, guild_id, topic) if topic else None
    await store.guilds.remove_alert_channel(str(guild_id), chosen.id if chosen else None)
    return chosen


async def alerts_status(store: Store, guild_id: int | str) -> list[AlertChannel]:
    return await store.guilds.alert_channels(str(guild_id))
