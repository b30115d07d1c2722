"""The Discord client: only the intents it needs (no message content), every command registered on
one tree whose errors all end in bot.errors, and the Planwatch context for the handlers."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.context import BotContext
from bot.digest import digest_group
from bot.errors import on_app_command_error
from bot.members import COMMANDS
from bot.moderation import GROUPS


def intents() -> discord.Intents:
    """Slash commands arrive as interactions; guilds lets alerts find their channels. Nothing else."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


# Sent as `contexts` and `integration_types` on every command (set on the tree, so a new command cannot
# miss them; `dm_permission`, which guild_only still sets, is deprecated). Servers only: everything
# Planwatch keeps is per server. Installed to a server only: a user install would offer the commands in
# servers where the bot is not a member, with no topics, feeds or moderators there.
GUILD_ONLY = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)
GUILD_INSTALL = app_commands.AppInstallationType(guild=True, user=False)


def build_tree(client: discord.Client) -> app_commands.CommandTree[discord.Client]:
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(
        client, allowed_contexts=GUILD_ONLY, allowed_installs=GUILD_INSTALL
    )
    for command in COMMANDS:
        tree.add_command(command)
    for group in [*GROUPS, digest_group]:
        tree.add_command(group)
    tree.on_error = on_app_command_error  # type: ignore[method-assign]
    return tree


class PlanwatchBot(discord.Client):
    def __init__(self, context: BotContext) -> None:
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none())
        self.planwatch = context
        self.tree = build_tree(self)


def command_payload(tree: app_commands.CommandTree[discord.Client]) -> list[dict[str, object]]:
    """Exactly what `CommandTree.sync` sends (`planwatch sync --dry-run --json`)."""
    return [command.to_dict(tree) for command in tree.get_commands()]
