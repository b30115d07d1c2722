"""Commands for moderators: topics, feeds, alert channels, the moderator role.

Who sees them. `default_member_permissions` is the only visibility a bot can set, and it is a
permission, not a role: Manage Server there hides /topic, /feed and /alerts from a member who has only
the role chosen with /modrole, and only a server admin can undo that, command by command, in Server
Settings > Integrations (a bot token cannot edit command permissions). A moderator given the role
expects the commands to be there, so these groups are registered with no default permission: every
member sees them (their descriptions say "Moderators:"), the check at every call (bot.checks) keeps
them to moderators, and anyone else gets a short ephemeral refusal. Admins who want them hidden can
still restrict them in Integrations. /modrole keeps Manage Server as its default: the people who may
hand out moderation are exactly those with that permission, so there the hint is right; it is checked
at run time too."""

from __future__ import annotations

import discord
from discord import app_commands

from bot import render
from bot.checks import counts_as_moderator, moderator_only, server_manager_only
from bot.context import context_of, guild_of
from bot.members import since_autocomplete, topic_autocomplete
from bot.replies import reply, send_pages
from planwatch.durations import parse_duration
from planwatch.errors import UsageError
from planwatch.services import guilds
from planwatch.services.feeds import shown_name
from planwatch.timeutil import utcnow

MANAGE = discord.Permissions(manage_guild=True)


def _group(name: str, description: str, *, default_permissions: discord.Permissions | None = None) -> app_commands.Group:
    return app_commands.Group(name=name, description=description, guild_only=True, default_permissions=default_permissions)


topic_group = _group("topic", "Moderators: the topics this server watches")
feed_group = _group("feed", "Moderators: the feeds this server polls")
alerts_group = _group("alerts", "Moderators: where new stories and feed problems are posted")
modrole_group = _group(
    "modrole", "Manage Server: a role whose members may also use moderator commands", default_permissions=MANAGE
)


# Autocomplete runs without the command's checks, and these commands are visible to every member: a
# member who is not a moderator gets no suggestions (the feeds are moderator information).
async def own_topic_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None or not await counts_as_moderator(interaction):
        return []
    own = await context_of(interaction).store.topics.list_all(guilds.scope_of(interaction.guild_id))
    return [app_commands.Choice(name=t.name, value=t.name) for t in own if current.lower() in t.name][:25]


async def feed_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None or not await counts_as_moderator(interaction):
        return []
    feeds = await guilds.guild_feeds(context_of(interaction).store, interaction.guild_id)
    # shown_name: a feed stored before credentials were refused keeps its password out of the list.
    named = [(f.id, shown_name(f)) for f in feeds]
    return [
        app_commands.Choice(name=f"#{feed_id} {name}"[:100], value=str(feed_id))
        for feed_id, name in named
        if current.lower() in name.lower() or current in str(feed_id)
    ][:25]


# --- /topic -------------------------------------------------------------------------------------------------
@topic_group.command(name="add", description="Watch a topic: stored reports are matched at once")
@app_commands.describe(
    name="Short name: lower-case letters, digits and dashes",
    query='Terms and "phrases" with AND, OR, NOT and ( ), e.g. ceasefire AND (Kyiv OR Moscow)',
    description="One line for members",
)
@moderator_only
async def topic_add(
    interaction: discord.Interaction,
    name: app_commands.Range[str, 1, 32],
    query: app_commands.Range[str, 1, 500],
    description: app_commands.Range[str, 0, 300] = "",
) -> None:
    topic, matched = await guilds.add_guild_topic(context_of(interaction).store, guild_of(interaction), name, query, description)
    await reply(interaction, render.message(f"Now watching **{topic.name}**: {matched} stored reports match."), ephemeral=True)


@topic_group.command(name="edit", description="Change a topic's query or description (reports are matched again)")
@app_commands.describe(name="The topic to change", query="The new query", description="The new description")
@app_commands.autocomplete(name=own_topic_autocomplete)
@moderator_only
async def topic_edit(
    interaction: discord.Interaction,
    name: str,
    query: app_commands.Range[str, 1, 500] | None = None,
    description: app_commands.Range[str, 0, 300] | None = None,
) -> None:
    topic, matched = await guilds.edit_guild_topic(
        context_of(interaction).store, guild_of(interaction), name, query=query, description=description
    )
    await reply(interaction, render.message(f"**{topic.name}** changed: {matched} stored reports match."), ephemeral=True)


@topic_group.command(name="remove", description="Stop watching a topic")
@app_commands.describe(name="The topic to remove")
@app_commands.autocomplete(name=own_topic_autocomplete)
@moderator_only
async def topic_remove(interaction: discord.Interaction, name: str) -> None:
    topic = await guilds.remove_guild_topic(context_of(interaction).store, guild_of(interaction), name)
    await reply(interaction, render.message(f"No longer watching **{topic.name}**."), ephemeral=True)


@topic_group.command(name="test", description="What a query would match, or why a report is (not) a topic's; saves nothing")
@app_commands.describe(
    query="The query to try",
    since="How far back to look (default 7d)",
    report="A report id (as /latest and /sources show it): say whether it is the topic's, and why",
    topic="The topic to explain the report for (default: this server's first topic)",
)
@app_commands.autocomplete(since=since_autocomplete, topic=topic_autocomplete)
@moderator_only
async def topic_test(
    interaction: discord.Interaction,
    query: app_commands.Range[str, 1, 500] | None = None,
    since: str | None = None,
    report: app_commands.Range[int, 1, 2**53 - 1] | None = None,
    topic: str | None = None,
) -> None:
    guild = guild_of(interaction)
    store = context_of(interaction).store
    if report is not None:
        found = await guilds.explain_report(store, guild, topic, report)
        await reply(interaction, render.explanation_embed(found), ephemeral=True)
        return
    if query is None:
        raise UsageError("give a query to try, or a report to explain (report: and optionally topic:)")
    result = await guilds.test_query(store, query, parse_duration(since or "7d", what="since"))
    await reply(interaction, render.topic_test_embed(result), ephemeral=True)


# --- /feed --------------------------------------------------------------------------------------------------
@feed_group.command(name="add", description="Poll a feed (RSS or Atom) for this server")
@app_commands.describe(
    url="The feed's address (http or https)", name="Outlet name to show", interval="Minutes between polls (5 to 1440)"
)
@moderator_only
async def feed_add(
    interaction: discord.Interaction,
    url: app_commands.Range[str, 1, 2000],
    name: app_commands.Range[str, 1, 100] | None = None,
    interval: app_commands.Range[int, 5, 1440] | None = None,
) -> None:
    ctx = context_of(interaction)
    feed, created = await guilds.add_guild_feed(ctx.store, ctx.settings, guild_of(interaction), url, name=name, interval=interval)
    note = "It is polled on the next tick." if created else "Planwatch already polls it; it now counts as this server's too."
    await reply(
        interaction,
        render.message(f"Added feed #{feed.id} {render.link(feed.display_name, feed.url)}. {note}"),
        ephemeral=True,
    )


@feed_group.command(name="remove", description="Stop polling a feed for this server (its reports stay)")
@app_commands.describe(feed="The feed: its number from /feed list, or its URL")
@app_commands.autocomplete(feed=feed_autocomplete)
@moderator_only
async def feed_remove(interaction: discord.Interaction, feed: str) -> None:
    removed, deleted = await guilds.remove_guild_feed(context_of(interaction).store, guild_of(interaction), feed)
    tail = "" if deleted else " Other servers (or the operator) still use it."
    await reply(interaction, render.message(f"Removed feed #{removed.id} from this server.{tail}"), ephemeral=True)


@feed_group.command(name="list", description="The feeds of this server and their health")
@moderator_only
async def feed_list(interaction: discord.Interaction) -> None:
    feeds = await guilds.guild_feeds(context_of(interaction).store, guild_of(interaction))
    await send_pages(interaction, render.feeds_embed(feeds), ephemeral=True)


@feed_group.command(name="pause", description="Stop polling a feed for now")
@app_commands.describe(feed="The feed: its number from /feed list, or its URL")
@app_commands.autocomplete(feed=feed_autocomplete)
@moderator_only
async def feed_pause(interaction: discord.Interaction, feed: str) -> None:
    paused = await guilds.pause_guild_feed(context_of(interaction).store, guild_of(interaction), feed, True)
    await reply(interaction, render.message(f"Feed #{paused.id} is paused."), ephemeral=True)


@feed_group.command(name="resume", description="Poll a paused feed again")
@app_commands.describe(feed="The feed: its number from /feed list, or its URL")
@app_commands.autocomplete(feed=feed_autocomplete)
@moderator_only
async def feed_resume(interaction: discord.Interaction, feed: str) -> None:
    resumed = await guilds.pause_guild_feed(context_of(interaction).store, guild_of(interaction), feed, False)
    await reply(interaction, render.message(f"Feed #{resumed.id} is polled again from the next tick."), ephemeral=True)


# --- /alerts ------------------------------------------------------------------------------------------------
@alerts_group.command(name="set", description="Post new stories (and feed problems) in a channel")
@app_commands.describe(channel="Where to post", topic="Only this topic (default: all topics, plus feed health)")
@app_commands.autocomplete(topic=topic_autocomplete)
@moderator_only
async def alerts_set(
    interaction: discord.Interaction,
    channel: discord.TextChannel,
    topic: str | None = None,
) -> None:
    chosen = await guilds.set_alerts(context_of(interaction).store, guild_of(interaction), channel.id, topic)
    what = f"new stories on **{chosen.name}**" if chosen else "new stories on every topic, and feed problems,"
    await reply(
        interaction,
        render.message(f"From now on {what} go to {channel.mention}. Earlier stories are not posted."),
        ephemeral=True,
    )


@alerts_group.command(name="off", description="Stop posting alerts")
@app_commands.describe(topic="The topic whose alerts stop (default: the all-topics channel)")
@app_commands.autocomplete(topic=topic_autocomplete)
@moderator_only
async def alerts_off(interaction: discord.Interaction, topic: str | None = None) -> None:
    chosen = await guilds.alerts_off(context_of(interaction).store, guild_of(interaction), topic)
    await reply(interaction, render.message(f"Alerts for {chosen.name if chosen else 'all topics'} are off."), ephemeral=True)


@alerts_group.command(name="status", description="Where alerts go on this server")
@moderator_only
async def alerts_status(interaction: discord.Interaction) -> None:
    channels = await guilds.alerts_status(context_of(interaction).store, guild_of(interaction))
    await reply(interaction, render.alerts_status_embed(channels), ephemeral=True)


# --- /modrole -----------------------------------------------------------------------------------------------
@modrole_group.command(name="set", description="Members with this role may also use moderator commands")
@app_commands.describe(role="The moderator role")
@server_manager_only
async def modrole_set(interaction: discord.Interaction, role: discord.Role) -> None:
    if role.is_default():  # members' role lists never name @everyone: it would make nobody a moderator
        raise UsageError("@everyone cannot be the moderator role: choose a role that moderators have")
    await context_of(interaction).store.guilds.set_mod_role(guild_of(interaction), str(role.id), utcnow())
    text = (f"Members with {role.mention} now count as moderators: /topic, /feed and /alerts work for them "
            "at once, with no change in Integrations. Only Manage Server can change this role.")  # fmt: skip
    await reply(interaction, render.message(text), ephemeral=True)


@modrole_group.command(name="clear", description="Only Manage Server counts as moderator again")
@server_manager_only
async def modrole_clear(interaction: discord.Interaction) -> None:
    await context_of(interaction).store.guilds.set_mod_role(guild_of(interaction), None, utcnow())
    await reply(interaction, render.message("The moderator role is cleared."), ephemeral=True)


GROUPS = [topic_group, feed_group, alerts_group, modrole_group]
