"""Moderator commands: `default_permissions` only hides them (server admins can change that), so this
check runs at every call: Manage Server, or the server's moderator role set with /modrole."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.context import context_of, guild_of


class NotModerator(app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__("Only moderators can do that: you need Manage Server or this server's moderator role.")


async def is_moderator(interaction: discord.Interaction) -> bool:
    guild_id = guild_of(interaction)
    if interaction.permissions.manage_guild or interaction.permissions.administrator:
        return True
    role = await context_of(interaction).store.guilds.mod_role(guild_id)
    member_roles = {str(r) for r in getattr(interaction.user, "_roles", ())}  # role ids from the payload
    if role is not None and role in member_roles:
        return True
    raise NotModerator()


moderator_only = app_commands.check(is_moderator)
