"""/digest: subscribe to the daily digest email. The commands and their validation live here; sending
mail (double opt-in, delivery) arrives with the digest issue (#5), and until then the replies say so."""

from __future__ import annotations

import discord
from discord import app_commands

from bot import render
from bot.context import context_of, guild_of
from bot.members import topic_autocomplete
from bot.replies import reply
from planwatch.services.guilds import resolve_topic
from planwatch.services.subscriptions import check_code, check_request, timezone_suggestions

digest_group = app_commands.Group(
    name="digest", description="A daily email about the topics you follow", guild_only=True
)
NOT_YET = "Digest emails are not switched on for this Planwatch yet, so nothing was stored."


async def timezone_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=z, value=z) for z in timezone_suggestions(current or "Europe/")]


@digest_group.command(name="subscribe", description="Get a daily email digest (you confirm by mail first)")
@app_commands.describe(
    email="Where to send it",
    topics="Topics, comma-separated (default: this server's first topic)",
    hour="Hour of the day to receive it, 0-23 (default 7)",
    timezone="Your time zone, e.g. Europe/Kyiv (default UTC)",
)
@app_commands.autocomplete(topics=topic_autocomplete, timezone=timezone_autocomplete)
async def subscribe(
    interaction: discord.Interaction,
    email: app_commands.Range[str, 3, 254],
    topics: app_commands.Range[str, 1, 300] | None = None,
    hour: app_commands.Range[int, 0, 23] | None = None,
    timezone: app_commands.Range[str, 1, 64] | None = None,
) -> None:
    store = context_of(interaction).store
    guild_id = guild_of(interaction)
    names: list[str | None] = [n.strip() for n in (topics or "").split(",") if n.strip()] or [None]
    resolved = [(await resolve_topic(store, guild_id, name)).name for name in names]
    request = check_request(email, resolved, hour, timezone)
    text = (f"Checked: {request.email}, topics {', '.join(request.topics)}, daily at {request.hour:02d}:00 "
            f"{request.timezone}. {NOT_YET}")  # fmt: skip
    await reply(interaction, render.message(render.clean(text, 1500), title="Digest"), ephemeral=True)


@digest_group.command(name="confirm", description="Confirm your subscription with the code from the mail")
@app_commands.describe(code="The code in the confirmation mail")
async def confirm(interaction: discord.Interaction, code: app_commands.Range[str, 1, 20]) -> None:
    guild_of(interaction)
    check_code(code)
    await reply(
        interaction, render.message(f"No pending subscription has that code. {NOT_YET}", title="Digest"), ephemeral=True
    )


@digest_group.command(name="status", description="Your digest subscription on this server")
async def status(interaction: discord.Interaction) -> None:
    guild_of(interaction)
    await reply(
        interaction, render.message(f"You have no digest subscription. {NOT_YET}", title="Digest"), ephemeral=True
    )


@digest_group.command(name="unsubscribe", description="Stop the digest email at once")
async def unsubscribe(interaction: discord.Interaction) -> None:
    guild_of(interaction)
    await reply(
        interaction,
        render.message(f"You have no digest subscription to end. {NOT_YET}", title="Digest"),
        ephemeral=True,
    )
