"""One place where every command error ends: a short, ephemeral answer for the member, and for
anything unexpected a log line with context and an error id the member can quote."""

from __future__ import annotations

import logging
import secrets

import discord
from discord import app_commands

from planwatch.errors import PlanwatchError

log = logging.getLogger("planwatch.bot")


def explain(error: app_commands.AppCommandError) -> tuple[str, bool]:
    """(text for the member, expected?) — expected errors are the member's to fix and are not logged."""
    original = getattr(error, "original", None)
    if isinstance(original, PlanwatchError):
        return str(original), True
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} s.", True
    if isinstance(error, app_commands.NoPrivateMessage):
        return "Planwatch's commands work in a server, not in direct messages.", True
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You cannot use this command here.", True
    if isinstance(error, app_commands.TransformerError):
        return f"That value does not work for {error.type.name.lower()}: {error.value!r}.", True
    error_id = secrets.token_hex(4)
    command = getattr(error, "command", None)
    name = command.qualified_name if command else "?"
    log.error("command /%s failed (error id %s): %r", name, error_id, original or error, exc_info=original or error)
    return f"Something went wrong on our side (error id `{error_id}`). It has been logged.", False


async def on_app_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    text, _ = explain(error)
    embed = discord.Embed(description=text[:4096], colour=discord.Colour.red())
    try:
        if interaction.response.is_done():
            await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
        else:
            await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException:
        log.warning("could not tell the member about an error: the interaction expired")
