"""The Discord bot through real discord.py dispatch (CommandTree, Interaction, views) on payloads shaped
like Discord's, over a real store; only the HTTP edge is recorded (tests/discord_harness.py). Every
payload the bot would send is validated against Discord's OpenAPI spec."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import discord
import pytest
from discord import app_commands

from bot.client import PlanwatchBot, command_payload
from bot.context import BotContext
from bot.sync import dry_run_payload
from planwatch.config import Settings
from planwatch.models import Entry
from planwatch.store import Store
from planwatch.timeutil import utcnow
from tests.conftest import FeedServer, rss
from tests.discord_harness import (
    CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    USER_ID,
    Call,
    DiscordSpec,
    RecordingAdapter,
    add_guild,
    component_payload,
    embed_total_chars,
    interaction_payload,
    invoke,
    option,
    prepare_client,
    press,
    stop_views,
)

MANAGE_GUILD = str(discord.Permissions(manage_guild=True, view_channel=True, use_application_commands=True).value)
MEMBER = str(discord.Permissions(view_channel=True, use_application_commands=True).value)
MOD_ROLE = 1_100_000_000_000_000_077
Tree = app_commands.CommandTree[discord.Client]


@pytest.fixture(scope="module")
def spec() -> DiscordSpec:
    return DiscordSpec.load()


@pytest.fixture
def bot(store: Store, settings: Settings) -> Iterator[PlanwatchBot]:
    client = prepare_client(PlanwatchBot(BotContext(store, settings)))
    add_guild(client, guild_id=GUILD_ID, roles={MOD_ROLE: "Mods"}, channels={CHANNEL_ID: "alerts"})
    add_guild(client, guild_id=GUILD_ID + 1)
    yield client
    stop_views(client)


async def run(bot: PlanwatchBot, spec: DiscordSpec, name: str, *opts: dict[str, Any], **kw: Any) -> list[Call]:
    """Invoke a command and check every call it makes against Discord's spec."""
    calls = await invoke(bot.tree, bot, interaction_payload(name=name, options=list(opts), **kw))
    for call in calls:
        spec.validate_call(call)
        for embed in call.embeds:
            assert embed_total_chars([embed]) <= 6000
    return calls


def embeds_of(calls: list[Call]) -> list[dict[str, Any]]:
    return [e for c in calls for e in c.embeds]


def text_of(calls: list[Call]) -> str:
    return " ".join(str(v) for e in embeds_of(calls) for v in _values(e))


def _values(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _values(v)
    elif isinstance(value, list):
        for v in value:
            yield from _values(v)
    elif isinstance(value, str):
        yield value


# --- the contract ------------------------------------------------------------------------------------------
def test_sync_payload_is_valid_and_complete(spec: DiscordSpec) -> None:
    """The exact payload of `planwatch sync`: Discord's schema, the contract's names, real descriptions."""
    payload = cast(list[dict[str, Any]], dry_run_payload())
    spec.validate_commands(payload)
    names = {c["name"]: c for c in payload}
    assert set(names) == {"summary", "sources", "timeline", "latest", "search", "topics", "digest", "topic", "feed",
                          "alerts", "modrole"}  # fmt: skip
    subcommands = {n: {o["name"] for o in c.get("options", []) if o["type"] == 1} for n, c in names.items()}
    assert subcommands["topic"] == {"add", "edit", "remove", "test"}
    assert subcommands["feed"] == {"add", "remove", "list", "pause", "resume"}
    assert subcommands["alerts"] == {"set", "off", "status"} and subcommands["modrole"] == {"set", "clear"}
    assert subcommands["digest"] == {"subscribe", "confirm", "status", "unsubscribe"}
    # Visible to members with only the moderator role (Discord cannot hide behind a role): the run-time
    # check guards them. Only /modrole keeps Manage Server, the permission of those who may set the role.
    for group in ("topic", "feed", "alerts"):
        assert names[group]["default_member_permissions"] is None, group
    assert int(names["modrole"]["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    for command in payload:  # servers only, in the current fields; installed to a server, not a user
        assert (command["contexts"], command["integration_types"], command["dm_permission"]) == ([0], [0], False), command

    def options(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for o in node.get("options", []):
            yield o
            yield from options(o)

    for command in payload:
        assert 1 <= len(str(command["description"])) <= 100 and command["description"] != "…"
        for o in options(command):
            assert len(o["description"]) >= 10, (command["name"], o["name"])


# --- members -----------------------------------------------------------------------------------------------
async def test_summary_on_an_empty_store_says_so(bot: PlanwatchBot, spec: DiscordSpec) -> None:
    """Deferred first, then a clear 'nothing reported' answer rather than an error."""
    calls = await run(bot, spec, "summary")
    assert calls[0].type == 5
    assert "nothing reported in the last 24 h for ukraine-peace-plan" in text_of(calls)


async def test_summary_sources_timeline_on_the_sample_story(bot: PlanwatchBot, spec: DiscordSpec, demo_store: Store) -> None:
    """The sample story through the real tree: points with labels and outlets, sources with citations."""
    calls = await run(bot, spec, "summary", option("since", "48h"))
    (embed,) = embeds_of(calls[1:])
    assert embed["title"] == "What is reported: ukraine-peace-plan"
    assert 3 <= len(embed["fields"]) <= 7 and any("denied" in f["name"] for f in embed["fields"])
    assert all(c.body.get("allowed_mentions", {"parse": []}).get("parse") == [] for c in calls[1:])
    calls = await run(bot, spec, "sources", option("since", "48h"))
    pages = [text_of(calls), *await _later_pages(bot, calls)]
    assert "cites Axios" in pages[0] and any("copy of Baltic Wire" in page for page in pages)
    calls = await run(bot, spec, "timeline", user_id=USER_ID + 1)
    assert "first report" in text_of(calls)
    calls = await run(bot, spec, "latest", option("count", 3), user_id=USER_ID + 2)
    assert calls[0].type == 4 and text_of(calls).count("\n") >= 2
    calls = await run(bot, spec, "search", option("query", "Kremlin"), user_id=USER_ID + 3)
    assert "Kremlin" in text_of(calls)


async def _later_pages(bot: PlanwatchBot, calls: list[Call]) -> list[str]:
    """The text of every page after the first, turned with the real Next button."""
    follow = next(c for c in calls if c.embeds)
    assert follow.message is not None
    message = RecordingAdapter.current().messages[int(follow.message["id"])]
    pages: list[str] = []
    while follow.components and not follow.components[0]["components"][1]["disabled"]:
        turned = await press(bot, component_payload(follow.components[0]["components"][1]["custom_id"], message=message))
        follow = turned[0]
        pages.append(text_of(turned))
    return pages


async def test_a_hostile_headline_pings_nobody(bot: PlanwatchBot, spec: DiscordSpec, store: Store) -> None:
    """'@everyone', a role mention and markdown in a headline arrive escaped, with no mentions allowed."""
    feed = await store.feeds.add("https://h.example/rss", name="Hostile", interval_minutes=15, now=utcnow())
    headline = "@everyone <@&123> **BREAKING** 28-point peace plan for Ukraine by Witkoff"
    entry = Entry("h", "https://h.example/1", headline, "", None, "en", utcnow(), None)
    async with store.transaction() as db:
        batch = await store.reports.save_batch(db, feed_id=feed.id, outlet="Hostile", entries=[entry], now=utcnow())
        await store.topics.match_reports(db, batch.new_ids, [], utcnow())
    calls = await run(bot, spec, "latest")
    text = text_of(calls)
    assert "@everyone" not in text and "@\u200beveryone" in text
    assert "<@&123>" not in text and "\\*\\*BREAKING\\*\\*" in text
    assert calls[0].body["allowed_mentions"] == {"parse": []}


async def test_long_results_page_and_only_the_caller_pages(bot: PlanwatchBot, spec: DiscordSpec, store: Store) -> None:
    """A long list pages with buttons; another member's click is refused ephemerally."""
    feed = await store.feeds.add("https://m.example/rss", name="Many", interval_minutes=15, now=utcnow())
    entries = [
        Entry(f"m{n}", f"https://m.example/{n}", f"Witkoff peace plan for Ukraine, update number {n}", "", None, "en",
              utcnow(), None)
        for n in range(30)
    ]  # fmt: skip
    async with store.transaction() as db:
        batch = await store.reports.save_batch(db, feed_id=feed.id, outlet="Many", entries=entries, now=utcnow())
        await store.topics.match_reports(db, batch.new_ids, [], utcnow())
    calls = await run(bot, spec, "latest", option("count", 25))
    follow = next(c for c in calls if c.embeds)
    assert follow.embeds[0]["footer"]["text"].startswith("Page 1 of ")
    buttons = follow.components[0]["components"]
    assert [b["label"] for b in buttons] == ["◀ Previous", "Next ▶"] and buttons[0]["disabled"] is True
    assert follow.message is not None
    adapter = RecordingAdapter.current()
    message = adapter.messages[int(follow.message["id"])]
    turned = await press(bot, component_payload(buttons[1]["custom_id"], message=message))
    assert turned[0].type == 7 and turned[0].embeds[0]["footer"]["text"].startswith("Page 2 of ")
    spec.validate_call(turned[0])
    refused = await press(bot, component_payload(buttons[1]["custom_id"], message=message, user_id=USER_ID + 9))
    assert refused[0].type == 4 and refused[0].flags & EPHEMERAL and "Only the member who asked" in str(refused[0].content)


async def test_bad_arguments_get_a_clear_ephemeral_answer(bot: PlanwatchBot, spec: DiscordSpec) -> None:
    """Nonsense durations, unknown topics, out-of-range counts: one short ephemeral sentence each."""
    cases = [
        ("summary", [option("since", "forever")], "invalid since 'forever'"),
        ("sources", [option("topic", "nope")], "no topic 'nope' on this server (known topics: ukraine-peace-plan)"),
        ("latest", [option("count", 500)], "count must be between 1 and 25"),
        ("search", [option("query", "(unclosed")], "bad query"),
    ]
    for index, (name, opts, message) in enumerate(cases):
        calls = await run(bot, spec, name, *opts, user_id=USER_ID + 20 + index)
        last = calls[-1]
        assert last.flags & EPHEMERAL and message in text_of([last]), (name, text_of(calls))


async def test_autocomplete_offers_topics_and_durations(bot: PlanwatchBot, spec: DiscordSpec) -> None:
    """Topic and since suggestions; a typed valid duration is offered too."""
    payload = interaction_payload(name="summary", type=4, options=[option("topic", "ukr")], focused="topic")
    (call,) = await invoke(bot.tree, bot, payload)
    spec.validate_call(call)
    assert call.type == 8 and call.data == {"choices": [{"name": "ukraine-peace-plan", "value": "ukraine-peace-plan"}]}
    payload = interaction_payload(name="summary", type=4, options=[option("since", "12h")], focused="since")
    (call,) = await invoke(bot.tree, bot, payload)
    assert call.data is not None and call.data["choices"][0]["value"] == "12h"


async def test_cooldown_on_expensive_commands(bot: PlanwatchBot, spec: DiscordSpec) -> None:
    """Three summaries in 30 s per member; the fourth is told to wait; another member is not."""
    for _ in range(3):
        await run(bot, spec, "summary")
    slow = await run(bot, spec, "summary")
    assert slow[-1].flags & EPHEMERAL and "Slow down" in text_of(slow)
    other = await run(bot, spec, "summary", user_id=USER_ID + 50)
    assert other[0].type == 5


# --- moderators --------------------------------------------------------------------------------------------
async def test_moderator_commands_are_checked_at_run_time(bot: PlanwatchBot, spec: DiscordSpec) -> None:
    """A member (whatever the client shows) is refused; Manage Server or the moderator role passes."""
    add = [option("name", "harbour"), option("query", "harbour AND strike")]
    refused = await run(bot, spec, "topic", *add, subcommand="add", permissions=MEMBER)
    assert refused[-1].flags & EPHEMERAL and "Only moderators" in text_of(refused)
    done = await run(bot, spec, "topic", *add, subcommand="add", permissions=MANAGE_GUILD)
    assert done[-1].flags & EPHEMERAL and "Now watching **harbour**" in text_of(done)
    mods = {"id": str(MOD_ROLE), "name": "Mods", "color": 0, "hoist": False, "position": 1, "permissions": "0",
            "managed": False, "mentionable": False, "flags": 0}  # fmt: skip
    role = await run(bot, spec, "modrole", option("role", str(MOD_ROLE), 8), subcommand="set",
                     permissions=MANAGE_GUILD, resolved={"roles": {str(MOD_ROLE): mods}})  # fmt: skip
    assert "now count as moderators" in text_of(role)
    listed = await run(bot, spec, "feed", subcommand="list", permissions=MEMBER, roles=[MOD_ROLE])
    assert "has added no feeds" in text_of(listed)
    topics = await run(bot, spec, "topics")
    assert "harbour" in text_of(topics)
    other = await run(bot, spec, "topics", guild_id=GUILD_ID + 1)
    assert "harbour" not in text_of(other)  # one server never sees another's configuration


MODS_ROLE = {"id": str(MOD_ROLE), "name": "Mods", "color": 0, "hoist": False, "position": 1, "permissions": "0",
             "managed": False, "mentionable": False, "flags": 0}  # fmt: skip


async def set_mod_role(bot: PlanwatchBot, spec: DiscordSpec, role: dict[str, Any] = MODS_ROLE, **kw: Any) -> list[Call]:
    kw.setdefault("permissions", MANAGE_GUILD)
    return await run(bot, spec, "modrole", option("role", role["id"], 8), subcommand="set",
                     resolved={"roles": {role["id"]: role}}, **kw)  # fmt: skip


async def test_the_moderator_role_works_without_an_integrations_step(bot: PlanwatchBot, spec: DiscordSpec) -> None:
    """What a moderator given the role sees: /feed is in the payload with no permission that would hide
    it, and it runs; a member without the role is refused in private; the role cannot re-point itself."""
    feed = next(c for c in dry_run_payload() if c["name"] == "feed")
    assert feed["default_member_permissions"] is None  # Discord shows it to every member
    assert "now count as moderators" in text_of(await set_mod_role(bot, spec))
    listed = await run(bot, spec, "feed", subcommand="list", permissions=MEMBER, roles=[MOD_ROLE])
    assert listed[-1].flags & EPHEMERAL and "has added no feeds" in text_of(listed)
    no_role: list[dict[str, Any]] = [{"roles": []}, {"roles": [MOD_ROLE + 1]}]
    for who in no_role:
        refused = await run(bot, spec, "feed", subcommand="list", permissions=MEMBER, **who)
        assert len(refused) == 1 and refused[0].type == 4 and refused[0].flags & EPHEMERAL
        assert "Only moderators can do that" in text_of(refused) and "has added no feeds" not in text_of(refused)
    elsewhere = await run(bot, spec, "feed", subcommand="list", permissions=MEMBER, roles=[MOD_ROLE], guild_id=GUILD_ID + 1)
    assert "Only moderators" in text_of(elsewhere)  # the role is this server's only
    other_role = {**MODS_ROLE, "id": str(MOD_ROLE + 1), "name": "Friends"}
    for attempt in (await set_mod_role(bot, spec, other_role, permissions=MEMBER, roles=[MOD_ROLE]),
                    await run(bot, spec, "modrole", subcommand="clear", permissions=MEMBER, roles=[MOD_ROLE])):  # fmt: skip
        assert attempt[-1].flags & EPHEMERAL and "Only members with Manage Server" in text_of(attempt)
    still = await run(bot, spec, "feed", subcommand="list", permissions=MEMBER, roles=[MOD_ROLE])
    assert "has added no feeds" in text_of(still)
    everyone = {**MODS_ROLE, "id": str(GUILD_ID), "name": "@everyone", "position": 0}
    assert "@everyone cannot be the moderator role" in text_of(await set_mod_role(bot, spec, everyone))


async def test_feed_suggestions_are_for_moderators_only(bot: PlanwatchBot, spec: DiscordSpec, feed_server: FeedServer) -> None:
    """Autocomplete skips command checks; now that members see /feed, it must not list the feeds to them."""
    url = feed_server.static("/s.xml", rss([]))
    await run(bot, spec, "feed", option("url", url), option("name", "Secret source"), subcommand="add", permissions=MANAGE_GUILD)
    await set_mod_role(bot, spec)

    async def suggestions(**who: Any) -> list[dict[str, Any]]:
        payload = interaction_payload(name="feed", subcommand="remove", type=4, options=[option("feed", "")], focused="feed",
                                      permissions=int(MEMBER), **who)  # fmt: skip
        (call,) = await invoke(bot.tree, bot, payload)
        spec.validate_call(call)
        assert call.type == 8 and call.data is not None
        return cast(list[dict[str, Any]], call.data["choices"])

    assert await suggestions() == []
    assert [c["value"] for c in await suggestions(roles=[MOD_ROLE])] == ["1"]
    # A feed stored before Planwatch refused credentials in URLs: its password never reaches a list.
    legacy = url.replace("//", "//reader:hunter2@")
    await bot.planwatch.store.db.execute("UPDATE feeds SET name = NULL, title = NULL, url = ?", (legacy,))
    await bot.planwatch.store.db.commit()
    (choice,) = await suggestions(roles=[MOD_ROLE])
    assert "hunter2" not in choice["name"] and "reader:***@" in choice["name"]


async def test_timezone_autocomplete_offers_current_names_first(bot: PlanwatchBot, spec: DiscordSpec) -> None:
    """Typing "kiev" (any case) or "kyiv" offers Europe/Kyiv first; the old link name, still valid, comes after."""
    expected = {
        "kiev": ["Europe/Kyiv", "Europe/Kiev"],
        "Kiev": ["Europe/Kyiv", "Europe/Kiev"],
        "kyiv": ["Europe/Kyiv"],
        "calcutta": ["Asia/Kolkata", "Asia/Calcutta"],
    }
    for typed, zones in expected.items():
        payload = interaction_payload(name="digest", subcommand="subscribe", type=4, focused="timezone",
                                      options=[option("email", "a@b.example"), option("timezone", typed)])  # fmt: skip
        (call,) = await invoke(bot.tree, bot, payload)
        spec.validate_call(call)
        assert call.type == 8 and call.data == {"choices": [{"name": z, "value": z} for z in zones]}, typed


async def test_feeds_and_alerts_configuration(bot: PlanwatchBot, spec: DiscordSpec, feed_server: FeedServer) -> None:
    """Add a feed (shared if already polled), list its health, set and show the alert channel."""
    url = feed_server.static("/f.xml", rss([{"title": "x", "link": "https://x.example/1"}]))
    added = await run(bot, spec, "feed", option("url", url), option("name", "Local"), subcommand="add",
                      permissions=MANAGE_GUILD)  # fmt: skip
    assert "Added feed #1" in text_of(added)
    listed = await run(bot, spec, "feed", subcommand="list", permissions=MANAGE_GUILD)
    assert "new" in text_of(listed) and "Local" in text_of(listed)
    channel = {str(CHANNEL_ID): {"id": str(CHANNEL_ID), "name": "alerts", "type": 0, "permissions": "0",
                                 "guild_id": str(GUILD_ID)}}  # fmt: skip
    setting = await run(bot, spec, "alerts", option("channel", str(CHANNEL_ID), 7), subcommand="set",
                        permissions=MANAGE_GUILD, resolved={"channels": channel})  # fmt: skip
    assert "From now on new stories on every topic" in text_of(setting)
    status = await run(bot, spec, "alerts", subcommand="status", permissions=MANAGE_GUILD)
    assert f"<#{CHANNEL_ID}>" in text_of(status)
    paused = await run(bot, spec, "feed", option("feed", "1"), subcommand="pause", permissions=MANAGE_GUILD)
    assert "is paused" in text_of(paused)
    private = await run(bot, spec, "feed", option("url", "ftp://example.com/x"), subcommand="add", permissions=MANAGE_GUILD)
    assert "must start with http:// or https://" in text_of(private)


async def test_digest_requests_are_validated(bot: PlanwatchBot, spec: DiscordSpec) -> None:
    """Bad addresses and time zones are refused; a good request queues one confirmation mail."""
    bad = await run(bot, spec, "digest", option("email", "not-an-address"), subcommand="subscribe")
    assert "is not an email address" in text_of(bad)
    zone = await run(bot, spec, "digest", option("email", "a@b.example"), option("timezone", "Mars/Olympus"),
                     subcommand="subscribe")  # fmt: skip
    assert "is not a time zone" in text_of(zone)
    good = await run(bot, spec, "digest", option("email", "reader@example.org"), option("hour", 8),
                     option("timezone", "Europe/Kyiv"), subcommand="subscribe")  # fmt: skip
    assert good[-1].flags & EPHEMERAL and "A confirmation mail is on its way to reader@example.org" in text_of(good)
    again = await run(bot, spec, "digest", option("email", "reader@example.org"), subcommand="subscribe")
    assert "already sent to that address today" in text_of(again)
    status = await run(bot, spec, "digest", subcommand="status")
    assert "reader@example.org" in text_of(status) and "waiting for you to confirm" in text_of(status)


async def test_unexpected_errors_get_an_error_id(bot: PlanwatchBot, spec: DiscordSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug becomes one logged line and an ephemeral reply quoting a short error id."""

    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("database on fire")

    monkeypatch.setattr("planwatch.services.stories.summary", broken)
    calls = await run(bot, spec, "summary", user_id=USER_ID + 60)
    assert calls[-1].flags & EPHEMERAL and "error id" in text_of(calls) and "database on fire" not in text_of(calls)


def test_tree_matches_sync_payload(bot: PlanwatchBot) -> None:
    """The live tree and the dry-run payload are the same commands."""
    assert command_payload(bot.tree) == dry_run_payload()


async def test_every_other_command_through_the_tree(bot: PlanwatchBot, spec: DiscordSpec, feed_server: FeedServer) -> None:
    """The remaining subcommands, each answered (ephemerally for configuration) and spec-valid."""
    mod = {"permissions": MANAGE_GUILD}
    await run(bot, spec, "topic", option("name", "harbour"), option("query", "harbour"), subcommand="add", **mod)
    edited = await run(bot, spec, "topic", option("name", "harbour"), option("query", "harbour AND strike"),
                       subcommand="edit", **mod)  # fmt: skip
    assert "**harbour** changed" in text_of(edited)
    global_edit = await run(bot, spec, "topic", option("name", "ukraine-peace-plan"), option("description", "x"),
                            subcommand="edit", **mod)  # fmt: skip
    assert "global topic: it cannot be changed from a server" in text_of(global_edit)
    tested = await run(bot, spec, "topic", option("query", "Kremlin"), subcommand="test", **mod)
    assert "nothing saved" in text_of(tested).lower() or "Topic test" in text_of(tested)
    removed = await run(bot, spec, "topic", option("name", "harbour"), subcommand="remove", **mod)
    assert "No longer watching **harbour**" in text_of(removed)
    url = feed_server.static("/r.xml", rss([]))
    await run(bot, spec, "feed", option("url", url), subcommand="add", **mod)
    await run(bot, spec, "feed", option("feed", "1"), subcommand="pause", **mod)
    resumed = await run(bot, spec, "feed", option("feed", "1"), subcommand="resume", **mod)
    assert "polled again" in text_of(resumed)
    gone = await run(bot, spec, "feed", option("feed", "1"), subcommand="remove", **mod)
    assert "Removed feed #1" in text_of(gone)
    missing = await run(bot, spec, "feed", option("feed", "1"), subcommand="remove", **mod)
    assert "no feed #1" in text_of(missing) or "did not add" in text_of(missing)
    off = await run(bot, spec, "alerts", subcommand="off", **mod)
    assert "no alerts were set" in text_of(off)
    cleared = await run(bot, spec, "modrole", subcommand="clear", **mod)
    assert "moderator role is cleared" in text_of(cleared)
    for sub, expected in (("status", "no digest subscription"), ("unsubscribe", "no digest subscription to end")):
        answer = await run(bot, spec, "digest", subcommand=sub)
        assert answer[-1].flags & EPHEMERAL and expected in text_of(answer)
    bad_code = await run(bot, spec, "digest", option("code", "?!"), subcommand="confirm")
    assert "6 to 10 letters and digits" in text_of(bad_code)
    code = await run(bot, spec, "digest", option("code", "ABC123"), subcommand="confirm")
    assert "no pending subscription has that code" in text_of(code)
    dm = await run(bot, spec, "topics", guild_id=None)
    assert "work in a server" in text_of(dm) or dm[-1].flags & EPHEMERAL


async def test_pages_lose_their_buttons_when_the_view_times_out(
    bot: PlanwatchBot, spec: DiscordSpec, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the timeout the buttons are removed; the page shown stays."""
    import asyncio

    from bot import views

    monkeypatch.setattr(views, "PAGE_TIMEOUT", 0.2)
    feed = await store.feeds.add("https://t.example/rss", name="Many", interval_minutes=15, now=utcnow())
    entries = [Entry(f"t{n}", f"https://t.example/{n}", f"Witkoff plan for Ukraine, note {n}", "", None, "en",
                     utcnow(), None) for n in range(20)]  # fmt: skip
    async with store.transaction() as db:
        batch = await store.reports.save_batch(db, feed_id=feed.id, outlet="Many", entries=entries, now=utcnow())
        await store.topics.match_reports(db, batch.new_ids, [], utcnow())
    adapter = RecordingAdapter.current()
    await run(bot, spec, "latest", option("count", 20))
    before = len(adapter.calls)
    for _ in range(50):
        if len(adapter.calls) > before:
            break
        await asyncio.sleep(0.05)
    edit = adapter.calls[-1]
    assert edit.method in ("edit_original_interaction_response", "edit_webhook_message")
    assert edit.body.get("components") == []


async def test_topic_test_explains_a_report(bot: PlanwatchBot, spec: DiscordSpec, demo_store: Store) -> None:
    """/topic test with report: says whether the report is the topic's, which way and why; without a
    query or a report, one clear sentence."""
    mod = {"permissions": MANAGE_GUILD}
    rows = await demo_store.fetchall("SELECT report_id, matched_by FROM report_topics ORDER BY report_id")
    member = next(r[0] for r in rows if r[1] == "query")
    members = {r[0] for r in rows}
    outsider = next(i for (i,) in await demo_store.fetchall("SELECT id FROM reports ORDER BY id") if i not in members)
    topic = option("topic", "ukraine-peace-plan")
    shown = await run(bot, spec, "topic", option("report", member), topic, subcommand="test", **mod)
    assert f"Topic test: report #{member}" in text_of(shown) and "its own words match the query" in text_of(shown)
    assert "by its words" in text_of(shown) and shown[-1].flags & EPHEMERAL
    out = await run(bot, spec, "topic", option("report", outsider), subcommand="test", user_id=USER_ID + 5, **mod)
    assert "not the topic's" in text_of(out) and "is not in ukraine-peace-plan" in text_of(out)
    missing = await run(bot, spec, "topic", option("report", 99999), subcommand="test", user_id=USER_ID + 6, **mod)
    assert "no report #99999" in text_of(missing)
    neither = await run(bot, spec, "topic", subcommand="test", user_id=USER_ID + 7, **mod)
    assert "give a query to try, or a report to explain" in text_of(neither)
    plain = await run(bot, spec, "topic", option("report", member), subcommand="test", user_id=USER_ID + 8)
    assert "moderator" in text_of(plain).lower() and "Topic test" not in text_of(plain)
