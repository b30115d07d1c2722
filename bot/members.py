"""Commands for every member: what is reported, by whom, since when. Thin: parse, call, render."""

from __future__ import annotations

import discord
from discord import app_commands

from bot import render
from bot.context import context_of, guild_of
from bot.replies import reply, send_pages
from planwatch.durations import parse_duration
from planwatch.errors import UsageError
from planwatch.services import stories
from planwatch.services.guilds import resolve_topic, scope_of, visible_topics

SINCE_CHOICES = ("1h", "6h", "24h", "3d", "7d")
# Expensive commands: three calls per member per 30 s in a server.
expensive = app_commands.checks.cooldown(3, 30.0, key=lambda i: (i.guild_id, i.user.id))


async def topic_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Suggestions only: the value is checked again when the command runs."""
    if interaction.guild_id is None:
        return []
    topics = await visible_topics(context_of(interaction).store, interaction.guild_id)
    needle = current.strip().lower()
    return [app_commands.Choice(name=t.name, value=t.name) for t in topics if needle in t.name][:25]


async def since_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    choices = [c for c in SINCE_CHOICES if c.startswith(current.strip())] or list(SINCE_CHOICES)
    typed = current.strip()
    if typed and typed not in choices:
        try:
            parse_duration(typed)
            choices.insert(0, typed)
        except Exception:  # noqa: S110 - not a duration: offer the standard choices only
            pass
    return [app_commands.Choice(name=c, value=c) for c in choices[:25]]


TOPIC = "The topic (default: this server's first topic, else ukraine-peace-plan)"
SINCE = "How far back: 1h, 6h, 24h, 3d, 7d or any duration like 12h"


@app_commands.command(name="summary", description="What is being reported: 3 to 7 key points with their outlets")
@app_commands.describe(topic=TOPIC, since=SINCE)
@app_commands.autocomplete(topic=topic_autocomplete, since=since_autocomplete)
@app_commands.guild_only()
@expensive
async def summary(interaction: discord.Interaction, topic: str | None = None, since: str | None = None) -> None:
    ctx = context_of(interaction)
    window = parse_duration(since or "24h", what="since")
    chosen = await resolve_topic(ctx.store, guild_of(interaction), topic)
    await interaction.response.defer(thinking=True)
    result = await stories.summary(ctx.store, chosen.name, window, scope=chosen.scope)
    await reply(interaction, render.summary_embed(result))


@app_commands.command(name="sources", description="Who reported it and when, grouped by story, with who cites whom")
@app_commands.describe(topic=TOPIC, since=SINCE)
@app_commands.autocomplete(topic=topic_autocomplete, since=since_autocomplete)
@app_commands.guild_only()
@expensive
async def sources(interaction: discord.Interaction, topic: str | None = None, since: str | None = None) -> None:
    ctx = context_of(interaction)
    window = parse_duration(since or "24h", what="since")
    chosen = await resolve_topic(ctx.store, guild_of(interaction), topic)
    await interaction.response.defer(thinking=True)
    result = await stories.sources(ctx.store, chosen.name, window, scope=chosen.scope)
    await send_pages(interaction, render.sources_pages(result))


@app_commands.command(name="timeline", description="The story as it unfolded: first report, outlets joining, changes")
@app_commands.describe(topic=TOPIC, since="How far back (default 7d): 1h, 6h, 24h, 3d, 7d or any duration")
@app_commands.autocomplete(topic=topic_autocomplete, since=since_autocomplete)
@app_commands.guild_only()
@expensive
async def timeline(interaction: discord.Interaction, topic: str | None = None, since: str | None = None) -> None:
    ctx = context_of(interaction)
    window = parse_duration(since or "7d", what="since")
    chosen = await resolve_topic(ctx.store, guild_of(interaction), topic)
    await interaction.response.defer(thinking=True)
    result = await stories.timeline(ctx.store, chosen.name, window, scope=chosen.scope)
    await send_pages(interaction, render.timeline_pages(result))


@app_commands.command(name="latest", description="The newest reports on a topic")
@app_commands.describe(topic=TOPIC, count="How many reports, 1 to 25 (default 10)")
@app_commands.autocomplete(topic=topic_autocomplete)
@app_commands.guild_only()
async def latest(interaction: discord.Interaction, topic: str | None = None, count: app_commands.Range[int, 1, 25] = 10) -> None:
    ctx = context_of(interaction)
    chosen = await resolve_topic(ctx.store, guild_of(interaction), topic)
    if not 1 <= count <= 25:  # Range is only a hint to Discord's client
        raise UsageError(f"count must be between 1 and 25 (got {count})")
    found_topic, reports = await stories.latest(ctx.store, chosen.name, count, scope=chosen.scope)
    await send_pages(interaction, render.latest_pages(found_topic, reports))


@app_commands.command(name="search", description='Search every stored report (words, "phrases", AND, OR, NOT)')
@app_commands.describe(query='What to look for, e.g. Witkoff AND "28-point"', since="Only reports published this recently")
@app_commands.autocomplete(since=since_autocomplete)
@app_commands.guild_only()
@expensive
async def search(interaction: discord.Interaction, query: app_commands.Range[str, 1, 200], since: str | None = None) -> None:
    ctx = context_of(interaction)
    window = parse_duration(since, what="since") if since else None
    guild_of(interaction)
    await interaction.response.defer(thinking=True)
    hits = await stories.search(ctx.store, query, window, limit=25)
    await send_pages(interaction, render.search_pages(query, hits))


@app_commands.command(name="topics", description="The topics this server watches")
@app_commands.guild_only()
async def topics(interaction: discord.Interaction) -> None:
    ctx = context_of(interaction)
    guild_id = guild_of(interaction)
    found = await visible_topics(ctx.store, guild_id)
    counts = await ctx.store.topics.match_counts()
    await reply(interaction, render.topics_embed(found, counts, scope_of(guild_id)))


COMMANDS: list[app_commands.Command[..., None]] = [summary, sources, timeline, latest, search, topics]  # type: ignore[type-arg]
