"""Who may run the moderator commands. This check, run at every call, is what keeps them to moderators:
the moderator groups are visible to every member (see bot.moderation for why), and where a server admin
has changed command permissions in Integrations, those only hide or show; they never grant.

Two levels: moderators (Manage Server, or the server's role set with /modrole) run /topic, /feed and
/alerts; only Manage Server sets or clears that role, so the role cannot re-point itself at a role that
would hand moderation to anyone."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.context import context_of, guild_of


class NotModerator(app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__("Only moderators can do that: you need Manage Server or this server's moderator role.")


class NotServerManager(app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__("Only members with Manage Server can set or clear the moderator role.")


def manages_server(interaction: discord.Interaction) -> bool:
    permissions = interaction.permissions  # resolved by Discord for this member in this channel
    return permissions.manage_guild or permissions.administrator


async def counts_as_moderator(interaction: discord.Interaction) -> bool:
    """Never raises: autocomplete (which ignores command checks) asks this before suggesting anything."""
    if interaction.guild_id is None:
        return False
    if manages_server(interaction):
        return True
    role = await context_of(interaction).store.guilds.mod_role(str(interaction.guild_id))
    member_roles = {str(r) for r in getattr(interaction.user, "_roles", ())}  # role ids from the payload
    return role is not None and role in member_roles


async def is_moderator(interaction: discord.Interaction) -> bool:
    guild_of(interaction)  # in a DM: the "works in a server" answer, not a moderator refusal
    if await counts_as_moderator(interaction):
        return True
    raise NotModerator()


async def is_server_manager(interaction: discord.Interaction) -> bool:
    guild_of(interaction)
    if manages_server(interaction):
        return True
    raise NotServerManager()


moderator_only = app_commands.check(is_moderator)
server_manager_only = app_commands.check(is_server_manager)
