"""Running the bot beside the rest of Planwatch: a wrong token or an unreachable Discord is one clear
log line and a retry later, never the end of polling, digests or the web endpoints."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from bot.client import PlanwatchBot

log = logging.getLogger("planwatch.bot")
RETRY_SECONDS = (30, 60, 300, 900, 1800)


async def _reset(bot: PlanwatchBot) -> None:
    """Make the client startable again after a failed start or a dropped connection."""
    close = getattr(bot, "close", None)
    if close is not None and not bot.is_closed():
        await close()
    clear = getattr(bot, "clear", None)
    if clear is not None:
        clear()


async def run_bot(bot: PlanwatchBot, token: str, stop: asyncio.Event) -> None:
    """discord.py reconnects by itself once connected; this loop covers starting (and re-starting)."""
    failures = 0
    while not stop.is_set():
        try:
            await bot.start(token, reconnect=True)
            return  # closed on purpose
        except discord.LoginFailure:
            log.error("Discord rejected the token (DISCORD_TOKEN): the bot is off; polling and digests go on")
        except (discord.HTTPException, discord.GatewayNotFound, OSError) as exc:
            log.error("cannot reach Discord (%s): retrying; polling and digests go on", exc.__class__.__name__)
        except asyncio.CancelledError:
            raise
        except (discord.DiscordException, aiohttp.ClientError) as exc:  # closed by Discord (4004, intents...)
            log.error("the Discord connection ended (%s: %s): retrying; polling and digests go on",
                      exc.__class__.__name__, exc)  # fmt: skip
        await _reset(bot)
        delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
        failures += 1
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
        except TimeoutError:
            continue
