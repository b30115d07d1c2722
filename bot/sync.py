"""`planwatch sync`: register the slash commands with Discord, on purpose and not at every start
(Discord rate-limits it): one server while developing, globally in production."""

from __future__ import annotations

import discord

from bot.client import build_tree, command_payload, intents
from planwatch.errors import ConfigError


def dry_run_payload() -> list[dict[str, object]]:
    """The exact bulk-overwrite payload, with no network and no token."""
    client = discord.Client(intents=intents())
    return command_payload(build_tree(client))


async def sync_commands(token: str | None, guild_id: int | None) -> int:
    if not token:
        raise ConfigError("DISCORD_TOKEN is not set: sync needs the bot's token (or use --dry-run)")
    client = discord.Client(intents=intents())
    tree = build_tree(client)
    try:
        try:
            await client.login(token)
        except discord.LoginFailure:
            raise ConfigError("Discord rejected the token in DISCORD_TOKEN") from None
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            tree.copy_global_to(guild=guild)
            synced = await tree.sync(guild=guild)
        else:
            synced = await tree.sync()
    finally:
        await client.close()
    return len(synced)
