"""Posting alerts: the Discord side of planwatch.services.alerts. Sending goes through a small sink
interface so that the decisions can be tested against the real store; discord.py's HTTP client honours
Discord's 429s (it waits and retries), and a send that fails is logged and tried again next tick."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import aiohttp
import discord

from bot.render import feed_notice_embed, story_alert_embed
from planwatch.services.alerts import plan_feed_notices, plan_story_alerts
from planwatch.store import Store

log = logging.getLogger("planwatch.bot.alerts")


class AlertSink(Protocol):
    async def send(self, channel_id: str, embed: dict[str, object]) -> str: ...

    async def edit(self, channel_id: str, message_id: str, embed: dict[str, object]) -> None: ...


class DiscordSink:
    """Real posting through the logged-in client (no message cache needed)."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def send(self, channel_id: str, embed: dict[str, object]) -> str:
        channel = self.client.get_partial_messageable(int(channel_id))
        message = await channel.send(embed=discord.Embed.from_dict(embed), allowed_mentions=discord.AllowedMentions.none())
        return str(message.id)

    async def edit(self, channel_id: str, message_id: str, embed: dict[str, object]) -> None:
        channel = self.client.get_partial_messageable(int(channel_id))
        await channel.get_partial_message(int(message_id)).edit(
            embed=discord.Embed.from_dict(embed), allowed_mentions=discord.AllowedMentions.none()
        )


@dataclass(frozen=True, slots=True)
class AlertRun:
    posted: int
    edited: int
    notices: int
    deferred: int
    failed: int


async def run_alerts(store: Store, sink: AlertSink, now: datetime, *, max_per_hour: int) -> AlertRun:
    alerts, deferred = await plan_story_alerts(store, now, max_per_hour=max_per_hour)
    posted = edited = notices = failed = 0
    for alert in alerts:
        embed = story_alert_embed(alert).to_dict()
        channel_id = alert.channel.channel_id
        try:
            if alert.kind == "new":
                if not await store.guilds.claim_post(channel_id, alert.story_id, alert.topic.id, alert.outlet_count, now):
                    continue
                message_id = await sink.send(channel_id, dict(embed))
                await store.guilds.record_post(channel_id, alert.story_id, message_id)
                posted += 1
            else:
                assert alert.message_id is not None
                await sink.edit(channel_id, alert.message_id, dict(embed))
                await store.guilds.record_edit(channel_id, alert.story_id, alert.outlet_count, now)
                edited += 1
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            failed += 1
            gone = isinstance(exc, discord.HTTPException) and exc.status in (403, 404)
            if alert.kind == "new" and not gone:
                await store.guilds.release_post(channel_id, alert.story_id)  # tried again next tick
            log.warning("alert for story %s in channel %s failed%s: %s", alert.story_id, channel_id,
                        " (no access: not retried)" if gone else "; retried next tick", exc)  # fmt: skip
    for notice in await plan_feed_notices(store):
        try:
            await sink.send(notice.channel.channel_id, dict(feed_notice_embed(notice).to_dict()))
            await store.guilds.record_notice(notice.feed.id, notice.channel.channel_id, notice.status, now)
            notices += 1
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            failed += 1
            log.warning("feed notice in channel %s failed (retried next tick): %s", notice.channel.channel_id, exc)
    return AlertRun(posted, edited, notices, deferred, failed)
