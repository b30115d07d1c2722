"""What every command handler needs, injected through the client (no module-level state)."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from planwatch.config import Settings
from planwatch.store import Store


@dataclass(frozen=True, slots=True)
class BotContext:
    store: Store
    settings: Settings


def context_of(interaction: discord.Interaction) -> BotContext:
    ctx = getattr(interaction.client, "planwatch", None)
    if not isinstance(ctx, BotContext):
        raise RuntimeError("the Discord client carries no Planwatch context")
    return ctx


def guild_of(interaction: discord.Interaction) -> str:
    """Every command is per server: its id keys all the data it reads and writes."""
    if interaction.guild_id is None:
        raise discord.app_commands.NoPrivateMessage()
    return str(interaction.guild_id)
