"""/digest: the daily email, asked for in Discord. The address gets one confirmation mail (with a link
and the code that /digest confirm takes); nothing else until it is confirmed. Requests are
rate-limited per address and per member, so the bot cannot be used to flood someone's inbox."""

from __future__ import annotations

import discord
from discord import app_commands

from bot import render
from bot.context import context_of, guild_of
from bot.members import topic_autocomplete
from bot.replies import reply
from digests.schedule import composer_for, queue_confirmation
from planwatch.errors import NotFoundError, UsageError
from planwatch.services import subscriptions
from planwatch.services.guilds import resolve_topic, scope_of
from planwatch.services.topics import GLOBAL_SCOPE
from planwatch.store.subscribers import Subscriber
from planwatch.timeutil import utcnow

digest_group = app_commands.Group(name="digest", description="A daily email about the topics you follow", guild_only=True)


async def timezone_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=z, value=z) for z in subscriptions.timezone_suggestions(current or "Europe/")]


def _describe(subscriber: Subscriber) -> str:
    state = {
        "pending": "waiting for you to confirm (see your inbox)",
        "confirmed": "active",
        "paused": "paused after delivery failures",
        "unsubscribed": "ended",
    }[subscriber.status]
    return (f"{render.clean(subscriber.email, 254)}: {', '.join(subscriber.topics)} daily at {subscriber.hour:02d}:00 "
            f"{subscriber.timezone}, {state}")  # fmt: skip


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
    ctx = context_of(interaction)
    guild_id = guild_of(interaction)
    names: list[str | None] = [n.strip() for n in (topics or "").split(",") if n.strip()] or [None]
    resolved = [await resolve_topic(ctx.store, guild_id, name) for name in names]
    if any(t.scope != resolved[0].scope for t in resolved):
        raise UsageError("choose topics of this server, or global topics, not both in one digest")
    request = subscriptions.check_request(email, [t.name for t in resolved], hour, timezone)
    await interaction.response.defer(ephemeral=True, thinking=True)
    composer = await composer_for(ctx.store, ctx.settings)
    now = utcnow()
    server = interaction.guild.name if interaction.guild else "a Discord server"

    async def send(subscriber: Subscriber) -> bool:
        return await queue_confirmation(ctx.store, composer, subscriber, f"Discord ({server})", now)

    # Members count toward the hourly cap on confirmation mails, as the web form does (the CLI does not).
    result = await subscriptions.subscribe(ctx.store, request, scope=resolved[0].scope, now=now,
                                           discord_user_id=str(interaction.user.id), send_confirmation=send,
                                           confirmations_per_hour=ctx.settings.confirmations_per_hour)  # fmt: skip
    text = {
        "confirmation-sent": f"A confirmation mail is on its way to {render.clean(request.email, 254)}. Click its link, or run "
        "`/digest confirm` with the code it contains. Nothing else is sent until then.",
        "confirmation-already-sent": "A confirmation mail was already sent to that address today: check the inbox (and spam).",
        "already-subscribed": "That address already gets the digest. `/digest unsubscribe` ends it.",
    }.get(result.status, "Done.")
    await reply(interaction, render.message(text, title="Digest"), ephemeral=True)


@digest_group.command(name="confirm", description="Confirm your subscription with the code from the mail")
@app_commands.describe(code="The code in the confirmation mail")
async def confirm(interaction: discord.Interaction, code: app_commands.Range[str, 1, 20]) -> None:
    ctx = context_of(interaction)
    guild_id = guild_of(interaction)
    scopes = [scope_of(guild_id), GLOBAL_SCOPE]
    last: Exception | None = None
    for scope in scopes:
        try:
            subscriber = await subscriptions.confirm_code(ctx.store, code, scope=scope, discord_user_id=str(interaction.user.id),
                                                          now=utcnow())  # fmt: skip
        except NotFoundError as exc:
            last = exc
            continue
        await reply(interaction, render.message(f"Confirmed: {_describe(subscriber)}.", title="Digest"), ephemeral=True)
        return
    assert last is not None
    raise last


@digest_group.command(name="status", description="Your digest subscriptions asked for on this server")
async def status(interaction: discord.Interaction) -> None:
    ctx = context_of(interaction)
    guild_id = guild_of(interaction)
    mine = [s for scope in (scope_of(guild_id), GLOBAL_SCOPE)
            for s in await ctx.store.subscribers.by_discord_user(str(interaction.user.id), scope)]  # fmt: skip
    text = (
        "\n".join(f"• {_describe(s)}" for s in mine) or "You have no digest subscription. `/digest subscribe email` starts one."
    )
    await reply(interaction, render.message(text, title="Digest"), ephemeral=True)


@digest_group.command(name="unsubscribe", description="Stop the digest email at once")
async def unsubscribe(interaction: discord.Interaction) -> None:
    ctx = context_of(interaction)
    guild_id = guild_of(interaction)
    mine = [
        s
        for scope in (scope_of(guild_id), GLOBAL_SCOPE)
        for s in await ctx.store.subscribers.by_discord_user(str(interaction.user.id), scope)
        if s.status != "unsubscribed"
    ]
    for subscriber in mine:
        await subscriptions.unsubscribe(ctx.store, subscriber.id, utcnow())
    text = (f"Done: no more digests to {', '.join(render.clean(s.email, 254) for s in mine)}." if mine
            else "You have no digest subscription to end.")  # fmt: skip
    await reply(interaction, render.message(text, title="Digest"), ephemeral=True)
