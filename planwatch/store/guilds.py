"""SQL for Discord servers' configuration and the alerts posted to them. Every query names its guild:
one server never reads another's configuration."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from planwatch.errors import NotFoundError
from planwatch.timeutil import from_db, to_db

if TYPE_CHECKING:
    from planwatch.store.db import Store


@dataclass(frozen=True, slots=True)
class AlertChannel:
    id: int
    guild_id: str
    topic_id: int | None  # None: all the server's topics, and feed health notices
    topic_name: str | None
    channel_id: str
    since: datetime


@dataclass(frozen=True, slots=True)
class StoryCandidate:
    """A story with reports on a channel's topics that arrived after the channel was set up."""

    story_id: int
    topic_id: int
    outlet_count: int
    first_report_id: int
    first_seen_at: datetime


@dataclass(frozen=True, slots=True)
class PostedAlert:
    channel_id: str
    story_id: int
    message_id: str | None
    outlet_count: int


class GuildRepo:
    def __init__(self, store: Store) -> None:
        self.store = store

    # --- moderator role -------------------------------------------------------------------------------
    async def mod_role(self, guild_id: str) -> str | None:
        value = await self.store.scalar("SELECT mod_role_id FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return None if value is None else str(value)

    async def set_mod_role(self, guild_id: str, role_id: str | None, now: datetime) -> None:
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT INTO guild_settings (guild_id, mod_role_id, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET mod_role_id = excluded.mod_role_id,"
                " updated_at = excluded.updated_at",
                (guild_id, role_id, to_db(now)),
            )

    # --- alert channels -------------------------------------------------------------------------------
    async def alert_channels(self, guild_id: str | None = None) -> list[AlertChannel]:
        sql = (
            "SELECT a.id, a.guild_id, a.topic_id, t.name, a.channel_id, a.since FROM alert_channels a"
            " LEFT JOIN topics t ON t.id = a.topic_id"
        )
        params: tuple[object, ...] = ()
        if guild_id is not None:
            sql += " WHERE a.guild_id = ?"
            params = (guild_id,)
        rows = await self.store.fetchall(sql + " ORDER BY a.guild_id, a.topic_id IS NOT NULL, t.name", params)
        return [AlertChannel(r[0], r[1], r[2], r[3], r[4], from_db(r[5])) for r in rows]

    async def set_alert_channel(self, guild_id: str, topic_id: int | None, channel_id: str, now: datetime) -> None:
        """From now on: stories already known are not posted (no backlog)."""
        async with self.store.transaction() as db:
            await db.execute(
                "DELETE FROM alert_channels WHERE guild_id = ? AND ifnull(topic_id, 0) = ifnull(?, 0)",
                (guild_id, topic_id),
            )
            await db.execute(
                "INSERT INTO alert_channels (guild_id, topic_id, channel_id, since) VALUES (?, ?, ?, ?)",
                (guild_id, topic_id, channel_id, to_db(now)),
            )

    async def remove_alert_channel(self, guild_id: str, topic_id: int | None) -> None:
        async with self.store.transaction() as db:
            cur = await db.execute(
                "DELETE FROM alert_channels WHERE guild_id = ? AND ifnull(topic_id, 0) = ifnull(?, 0)",
                (guild_id, topic_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError("no alerts were set for that")

    # --- feeds a server added -------------------------------------------------------------------------
    async def link_feed(self, feed_id: int, guild_id: str, now: datetime) -> None:
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO feed_guilds (feed_id, guild_id, added_at) VALUES (?, ?, ?)",
                (feed_id, guild_id, to_db(now)),
            )

    async def guild_feed_ids(self, guild_id: str) -> list[int]:
        rows = await self.store.fetchall("SELECT feed_id FROM feed_guilds WHERE guild_id = ? ORDER BY feed_id", (guild_id,))
        return [r[0] for r in rows]

    async def unlink_feed(self, feed_id: int, guild_id: str) -> bool:
        """Drop the server's link; True if no server uses the feed any more and a server had added it."""
        async with self.store.transaction() as db:
            cur = await db.execute("DELETE FROM feed_guilds WHERE feed_id = ? AND guild_id = ?", (feed_id, guild_id))
            if cur.rowcount == 0:
                raise NotFoundError("this server did not add that feed")
            async with db.execute(
                "SELECT (SELECT count(*) FROM feed_guilds WHERE feed_id = ?), (SELECT added_by FROM feeds WHERE id = ?)",
                (feed_id, feed_id),
            ) as c:
                row = await c.fetchone()
            assert row is not None
            orphan = row[0] == 0 and row[1] is not None
            if orphan:
                await db.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))
            return orphan

    # --- alerts -----------------------------------------------------------------------------------------
    async def story_candidates(self, channel: AlertChannel, topic_ids: list[int], since: datetime) -> list[StoryCandidate]:
        """Stories on these topics whose reports arrived after the channel was set up, beyond each feed's
        first poll (backlog) and beyond a topic's own backfill, with their independent outlets."""
        if not topic_ids:
            return []
        marks = ",".join("?" * len(topic_ids))
        rows = await self.store.fetchall(
            "SELECT a.story_id, min(rt.topic_id), count(DISTINCT CASE WHEN a.copy_of IS NULL THEN r.outlet END),"
            " min(r.id), min(r.first_seen_at)"
            " FROM report_topics rt JOIN reports r ON r.id = rt.report_id JOIN report_analysis a ON a.report_id = r.id"
            f" WHERE rt.topic_id IN ({marks}) AND a.story_id IS NOT NULL"
            " AND r.first_seen_at >= ? AND r.first_seen_at >= ? AND rt.backfilled = 0 AND r.from_backlog = 0"
            " GROUP BY a.story_id ORDER BY min(r.first_seen_at), a.story_id",
            [*topic_ids, to_db(channel.since), to_db(since)],
        )
        return [StoryCandidate(r[0], r[1], r[2], r[3], from_db(r[4])) for r in rows]

    async def posted(self, channel_id: str, story_ids: list[int]) -> dict[int, PostedAlert]:
        if not story_ids:
            return {}
        marks = ",".join("?" * len(story_ids))
        rows = await self.store.fetchall(
            "SELECT channel_id, story_id, message_id, outlet_count FROM alert_posts"
            f" WHERE channel_id = ? AND story_id IN ({marks})",
            [channel_id, *story_ids],
        )
        return {r[1]: PostedAlert(r[0], r[1], r[2], r[3]) for r in rows}

    async def posts_since(self, channel_id: str, since: datetime) -> int:
        return int(
            await self.store.scalar(
                "SELECT count(*) FROM alert_posts WHERE channel_id = ? AND posted_at >= ?", (channel_id, to_db(since))
            )
        )

    async def claim_post(self, channel_id: str, story_id: int, topic_id: int, outlet_count: int, now: datetime) -> bool:
        """Record the intent to post before posting: a crash after sending can lose an edit, never repost."""
        try:
            async with self.store.transaction() as db:
                await db.execute(
                    "INSERT INTO alert_posts (channel_id, story_id, topic_id, message_id, outlet_count, posted_at)"
                    " VALUES (?, ?, ?, NULL, ?, ?)",
                    (channel_id, story_id, topic_id, outlet_count, to_db(now)),
                )
        except sqlite3.IntegrityError:
            return False
        return True

    async def release_post(self, channel_id: str, story_id: int) -> None:
        """A post that could not be sent: forget the claim so that the next tick tries again."""
        async with self.store.transaction() as db:
            await db.execute(
                "DELETE FROM alert_posts WHERE channel_id = ? AND story_id = ? AND message_id IS NULL", (channel_id, story_id)
            )

    async def record_post(self, channel_id: str, story_id: int, message_id: str | None) -> None:
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE alert_posts SET message_id = ? WHERE channel_id = ? AND story_id = ?",
                (message_id, channel_id, story_id),
            )

    async def record_edit(self, channel_id: str, story_id: int, outlet_count: int, now: datetime) -> None:
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE alert_posts SET outlet_count = ?, edited_at = ? WHERE channel_id = ? AND story_id = ?",
                (outlet_count, to_db(now), channel_id, story_id),
            )

    # --- feed health notices ----------------------------------------------------------------------------
    async def noticed(self, channel_id: str) -> dict[int, str]:
        rows = await self.store.fetchall("SELECT feed_id, status FROM feed_notices WHERE channel_id = ?", (channel_id,))
        return {r[0]: r[1] for r in rows}

    async def record_notice(self, feed_id: int, channel_id: str, status: str, now: datetime) -> None:
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT INTO feed_notices (feed_id, channel_id, status, noticed_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (feed_id, channel_id) DO UPDATE SET status = excluded.status,"
                " noticed_at = excluded.noticed_at",
                (feed_id, channel_id, status, to_db(now)),
            )
