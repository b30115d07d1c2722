"""Self-tests of tests/discord_harness.py on a toy command tree (not Planwatch's bot).

Each test runs real discord.py dispatch (``CommandTree._call``, the view store) on payloads shaped like
Discord's, and asserts on the JSON discord.py would have sent, validated against Discord's spec.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import discord
import pytest
from discord import app_commands

from tests.discord_harness import (
    EPHEMERAL,
    GUILD_ID,
    USER_ID,
    Call,
    DiscordSpec,
    RecordingAdapter,
    SpecViolation,
    add_guild,
    component_payload,
    interaction_payload,
    invoke,
    make_client,
    modal_payload,
    option,
    press,
    snowflake,
    stop_views,
)

MANAGE_GUILD = 1 << 5
TOPICS = ["budget", "border plan", "bridge", "ceasefire", "elections"]


class ConfirmView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)
        self.confirmed = False

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger, custom_id="toy:confirm")
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmView]) -> None:
        self.confirmed = True
        await interaction.response.edit_message(content="Confirmed.", view=None)
        self.stop()


class VoteView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=180)
        self.votes = 0

    @discord.ui.button(label="Vote", style=discord.ButtonStyle.primary, custom_id="toy:vote")
    async def vote(self, interaction: discord.Interaction, button: discord.ui.Button[VoteView]) -> None:
        self.votes += 1
        await interaction.response.edit_message(content=f"Votes: {self.votes}", view=self)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="What should we follow?", custom_id="toy:feedback:text", max_length=200
    )

    def __init__(self) -> None:
        super().__init__(custom_id="toy:feedback")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Thanks: {self.text.value}", ephemeral=True)


background: set[asyncio.Task[None]] = set()


def build_tree(client: discord.Client) -> app_commands.CommandTree[discord.Client]:
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)

    @tree.command(name="digest", description="Today's digest as an embed")
    async def digest(interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="Digest", description="Three outlets reported the plan.", colour=0x5865F2)
        embed.add_field(name="Reuters", value="First report", inline=False)
        embed.set_footer(text="planwatch")
        embed.timestamp = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
        await interaction.response.send_message(embed=embed, allowed_mentions=discord.AllowedMentions.none())

    @tree.command(name="slow", description="Defers, then follows up")
    async def slow(interaction: discord.Interaction, topic: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(embed=discord.Embed(title=f"Stories on {topic}"), ephemeral=True)

    @tree.command(name="later", description="Defers, then edits the original response")
    async def later(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="done")

    @tree.command(name="follow", description="Follow a topic")
    async def follow(interaction: discord.Interaction, topic: str) -> None:
        if topic not in TOPICS:  # autocomplete only suggests: validate again
            await interaction.response.send_message(f"Unknown topic {topic!r}", ephemeral=True)
            return
        await interaction.response.send_message(f"Following {topic}")

    @follow.autocomplete("topic")
    async def follow_topic(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t, value=t) for t in TOPICS if current.lower() in t][:25]

    feeds = app_commands.Group(
        name="feeds", description="Manage feeds", default_permissions=discord.Permissions(manage_guild=True)
    )
    admin = app_commands.Group(name="admin", description="Feed administration", parent=feeds)

    @feeds.command(name="add", description="Add a feed")
    async def feeds_add(interaction: discord.Interaction, url: str, weight: int = 1) -> None:
        await interaction.response.send_message(f"added {url} weight={weight}", ephemeral=True)

    @admin.command(name="purge", description="Forget every feed")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def admin_purge(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("purged")

    tree.add_command(feeds)

    def never(interaction: discord.Interaction) -> bool:
        return False

    @tree.command(name="locked", description="A check that always fails")
    @app_commands.check(never)
    async def locked(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("unreachable")

    @tree.command(name="poll", description="Rate limited")
    @app_commands.checks.cooldown(1, 60.0, key=lambda i: i.user.id)
    async def poll(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("polled", ephemeral=True)

    @tree.command(name="vote", description="A message with a button")
    async def vote(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Votes: 0", view=VoteView())

    @tree.command(name="export", description="Sends a file")
    async def export(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("export", file=discord.File(io.BytesIO(b"a,b\n1,2\n"), "feeds.csv"))

    @tree.command(name="ping", description="Mentions a user, and only that user")
    @app_commands.describe(who="Who to ping", period="Which period", days="How many days")
    @app_commands.choices(period=[app_commands.Choice(name="day", value="d"), app_commands.Choice(name="week", value="w")])
    async def ping(
        interaction: discord.Interaction,
        who: discord.User,
        period: app_commands.Choice[str],
        days: app_commands.Range[int, 1, 30] = 7,
    ) -> None:
        await interaction.response.send_message(
            f"{who.mention}: {period.name} x{days}",
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, replied_user=False, users=[who]),
        )

    @tree.command(name="feedback", description="Opens a form")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @tree.command(name="alerts", description="Where alerts go (editors only)")
    @app_commands.checks.has_role("editors")
    async def alerts(interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        await interaction.response.send_message(f"Alerts go to {channel.mention}", ephemeral=True)

    @tree.command(name="refresh", description="Acknowledges, then works in the background")
    async def refresh(interaction: discord.Interaction, fail: bool = False) -> None:
        await interaction.response.defer(ephemeral=True)

        async def work() -> None:
            await asyncio.sleep(0.01)
            if fail:
                raise LookupError("feed vanished")
            await interaction.followup.send("Refreshed 3 feeds.", ephemeral=True)

        task = asyncio.create_task(work())
        background.add(task)
        task.add_done_callback(background.discard)

    @tree.command(name="wipe", description="Asks before wiping")
    async def wipe(interaction: discord.Interaction) -> None:
        view = ConfirmView()
        await interaction.response.send_message("Wipe everything?", view=view, ephemeral=True)
        await view.wait()
        await interaction.followup.send("Wiped." if view.confirmed else "Kept.", ephemeral=True)

    @tree.command(name="boom", description="Raises")
    async def boom(interaction: discord.Interaction) -> None:
        raise RuntimeError("boom")

    @tree.error
    async def on_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        interaction.extras["error"] = error
        if isinstance(error, app_commands.MissingPermissions):
            text = "You need the Manage Server permission."
        elif isinstance(error, app_commands.CommandOnCooldown):
            text = f"Slow down: try again in {error.retry_after:.0f}s."
        elif isinstance(error, app_commands.CheckFailure):
            text = "You cannot use this command."
        else:
            text = "Something went wrong."
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)

    return tree


@pytest.fixture
def client() -> Iterator[discord.Client]:
    made = make_client()
    yield made
    stop_views(made)


@pytest.fixture
def tree(client: discord.Client) -> app_commands.CommandTree[discord.Client]:
    return build_tree(client)


@pytest.fixture
def spec() -> DiscordSpec:
    return DiscordSpec.load()


def only(calls: list[Call]) -> Call:
    assert len(calls) == 1, calls
    return calls[0]


# -- payloads and client ------------------------------------------------------------------------


def test_client_looks_logged_in_without_network(client: discord.Client) -> None:
    assert client.user is not None and client.user.bot
    assert client.application_id == client.user.id
    assert not client.is_ready()  # no gateway


def test_interaction_payload_shape() -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    payload = interaction_payload(
        name="feeds",
        subcommand_group="admin",
        subcommand="purge",
        options=[option("n", 3)],
        permissions=MANAGE_GUILD,
        roles=[42],
    )
    assert payload["type"] == 2 and payload["guild_id"] == str(GUILD_ID)
    assert payload["member"]["permissions"] == str(MANAGE_GUILD) and payload["member"]["roles"] == ["42"]
    assert payload["data"]["options"] == [
        {
            "name": "admin",
            "type": 2,
            "options": [{"name": "purge", "type": 1, "options": [{"name": "n", "type": 4, "value": 3}]}],
        }
    ]
    assert discord.utils.snowflake_time(int(payload["id"])) >= before  # the id carries "now"
    dm = interaction_payload(name="digest", guild_id=None)
    assert "member" not in dm and dm["user"]["id"] == str(USER_ID) and dm["channel"]["type"] == 1


def test_snowflakes_are_unique_and_timed() -> None:
    at = datetime(2025, 6, 1, tzinfo=UTC)
    a, b = snowflake(at), snowflake(at)
    assert a != b and discord.utils.snowflake_time(a) == at


# -- commands -----------------------------------------------------------------------------------


async def test_reply_with_embed(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client], spec: DiscordSpec
) -> None:
    call = only(await invoke(tree, client, interaction_payload(name="digest")))
    assert call.method == "create_interaction_response" and call.type == 4
    assert call.params == {"with_response": "1"}
    assert call.webhook_id is not None and call.token is not None
    (embed,) = call.embeds
    assert embed["title"] == "Digest" and embed["fields"] == [{"name": "Reuters", "value": "First report", "inline": False}]
    assert embed["timestamp"].startswith("2025-01-02T03:04:05")
    assert call.body["allowed_mentions"] == {"parse": []}
    assert not call.ephemeral
    spec.validate("RichEmbed", embed)
    spec.validate_call(call)
    # The fake answer is what discord.py 2.7 expects back, and is shaped as Discord's spec says.
    spec.validate("InteractionCallbackResponse", call.response)
    assert call.message is not None
    spec.validate("MessageResponse", call.message)


async def test_defer_then_follow_up(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client], spec: DiscordSpec
) -> None:
    calls = await invoke(tree, client, interaction_payload(name="slow", options=[option("topic", "bridge")]))
    defer, follow_up = calls
    assert (defer.method, defer.type, defer.data) == ("create_interaction_response", 5, {"flags": EPHEMERAL})
    assert defer.response["interaction"]["response_message_loading"] is True
    assert follow_up.method == "execute_webhook" and follow_up.params is not None and follow_up.params["wait"] == 1
    assert follow_up.webhook_id == client.application_id and follow_up.token == defer.token
    assert follow_up.ephemeral and follow_up.embeds[0]["title"] == "Stories on bridge"
    assert follow_up.message is not None
    for call in calls:
        spec.validate_call(call)
    spec.validate("MessageResponse", follow_up.message)


async def test_defer_then_edit_original(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client], spec: DiscordSpec
) -> None:
    defer, edit = await invoke(tree, client, interaction_payload(name="later"))
    assert defer.type == 5 and defer.data is None  # not ephemeral: no flags at all
    assert edit.method == "edit_original_interaction_response" and edit.message_id == "@original"
    assert edit.payload is not None and edit.payload["content"] == "done"
    assert edit.message is not None and edit.message["content"] == "done"
    assert edit.message["id"] == defer.response["interaction"]["response_message_id"]
    spec.validate_call(defer)
    spec.validate_call(edit)


async def test_autocomplete(client: discord.Client, tree: app_commands.CommandTree[discord.Client], spec: DiscordSpec) -> None:
    payload = interaction_payload(name="follow", type=4, options=[option("topic", "b")], focused="topic")
    call = only(await invoke(tree, client, payload))
    assert call.type == 8
    assert call.data == {"choices": [{"name": t, "value": t} for t in ("budget", "border plan", "bridge")]}
    spec.validate_call(call)


async def test_autocomplete_value_is_checked_again(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client]
) -> None:
    call = only(await invoke(tree, client, interaction_payload(name="follow", options=[option("topic", "nope")])))
    assert call.ephemeral and call.content == "Unknown topic 'nope'"


async def test_group_subcommand(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client], spec: DiscordSpec
) -> None:
    payload = interaction_payload(
        name="feeds", subcommand="add", options=[option("url", "https://a.example/rss"), option("weight", 3)]
    )
    call = only(await invoke(tree, client, payload))
    assert call.content == "added https://a.example/rss weight=3" and call.ephemeral
    spec.validate_call(call)


async def test_permission_refusal_goes_to_on_error(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client]
) -> None:
    payload = interaction_payload(name="feeds", subcommand_group="admin", subcommand="purge")
    calls = await invoke(tree, client, payload)
    assert isinstance(calls.interaction.extras["error"], app_commands.MissingPermissions)
    assert only(calls).ephemeral and only(calls).content == "You need the Manage Server permission."
    allowed = await invoke(
        tree,
        client,
        interaction_payload(name="feeds", subcommand_group="admin", subcommand="purge", permissions=MANAGE_GUILD),
    )
    assert only(allowed).content == "purged"


async def test_failing_check_replies_ephemerally(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client], spec: DiscordSpec
) -> None:
    calls = await invoke(tree, client, interaction_payload(name="locked"))
    call = only(calls)
    assert calls.interaction.command_failed
    assert (call.type, call.flags, call.content) == (4, EPHEMERAL, "You cannot use this command.")
    spec.validate_call(call)


async def test_command_error_and_unknown_command(client: discord.Client, tree: app_commands.CommandTree[discord.Client]) -> None:
    calls = await invoke(tree, client, interaction_payload(name="boom"))
    assert isinstance(calls.interaction.extras["error"], app_commands.CommandInvokeError)
    assert only(calls).content == "Something went wrong."
    # Raised by _call itself, not by the command: still reaches tree.on_error, as in production.
    calls = await invoke(tree, client, interaction_payload(name="no-such-command"))
    assert isinstance(calls.interaction.extras["error"], app_commands.CommandNotFound)


async def test_cooldown_reads_the_interaction_time(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client]
) -> None:
    start = datetime.now(UTC)
    first = only(await invoke(tree, client, interaction_payload(name="poll", at=start)))
    assert first.content == "polled"
    second = only(await invoke(tree, client, interaction_payload(name="poll", at=start + timedelta(seconds=10))))
    assert second.content == "Slow down: try again in 50s."
    later = only(await invoke(tree, client, interaction_payload(name="poll", at=start + timedelta(seconds=61))))
    assert later.content == "polled"


async def test_file_upload_is_recorded(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client], spec: DiscordSpec
) -> None:
    call = only(await invoke(tree, client, interaction_payload(name="export")))
    assert call.payload is not None and call.payload["type"] == 4  # decoded from the multipart payload_json
    assert [(f.filename, f.data) for f in call.files] == [("feeds.csv", b"a,b\n1,2\n")]
    assert call.body["attachments"] == [{"id": 0, "filename": "feeds.csv"}]
    spec.validate_call(call)


async def test_http_failure_reaches_the_error_handler(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client]
) -> None:
    adapter = RecordingAdapter()
    adapter.fail_next("create_interaction_response")  # too late: Discord says 10062 Unknown interaction
    calls = await invoke(tree, client, interaction_payload(name="digest"), adapter=adapter)
    error = calls.interaction.extras["error"]
    assert isinstance(error, app_commands.CommandInvokeError) and isinstance(error.original, discord.NotFound)
    assert error.original.code == 10062
    assert [c.method for c in calls] == ["create_interaction_response", "create_interaction_response"]
    assert calls[0].response is None and calls[1].content == "Something went wrong."


async def test_dm_interaction(client: discord.Client, tree: app_commands.CommandTree[discord.Client]) -> None:
    calls = await invoke(tree, client, interaction_payload(name="digest", guild_id=None))
    assert calls.interaction.guild is None and calls.interaction.user.id == USER_ID
    assert only(calls).type == 4


# -- views ----------------------------------------------------------------------------------------


async def test_button_edits_the_message(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client], spec: DiscordSpec
) -> None:
    sent = only(await invoke(tree, client, interaction_payload(name="vote")))
    button = sent.components[0]["components"][0]
    assert (button["type"], button["custom_id"], button["label"]) == (2, "toy:vote", "Vote")
    spec.validate_call(sent)
    assert sent.message is not None
    spec.validate("MessageResponse", sent.message)  # the fake's answer: components numbered, as Discord does
    message_id = int(sent.message["id"])

    for expected in (1, 2):
        adapter = RecordingAdapter.current()
        click = component_payload("toy:vote", message=adapter.messages[message_id], user_id=USER_ID + 1)
        edit = only(await press(client, click))
        assert (edit.type, edit.content) == (7, f"Votes: {expected}")
        assert edit.components[0]["components"][0]["custom_id"] == "toy:vote"
        spec.validate_call(edit)
        assert edit.message is not None and edit.message["id"] == str(message_id)
        assert edit.message["content"] == f"Votes: {expected}"


async def test_press_unknown_button_is_dropped(client: discord.Client) -> None:
    assert await press(client, component_payload("nobody:listens", message_id=snowflake())) == []


# -- contract -------------------------------------------------------------------------------------


def test_synced_commands_match_the_spec(tree: app_commands.CommandTree[discord.Client], spec: DiscordSpec) -> None:
    payload = [c.to_dict(tree) for c in tree.get_commands()]
    assert {c["name"] for c in payload} >= {"digest", "slow", "follow", "feeds", "locked", "vote"}
    for command in payload:
        spec.validate("ApplicationCommandUpdateRequest", command)
    spec.validate_commands(payload)
    feeds = next(c for c in payload if c["name"] == "feeds")
    assert sorted((o["name"], o["type"]) for o in feeds["options"]) == [("add", 1), ("admin", 2)]
    assert feeds["default_member_permissions"] == MANAGE_GUILD
    follow = next(c for c in payload if c["name"] == "follow")
    assert follow["options"][0]["autocomplete"] is True


def test_contexts_and_integration_types_are_validated(client: discord.Client, spec: DiscordSpec) -> None:
    """Where a command may run is in the spec-checked payload: the values discord.py emits pass, and
    what Discord would reject (an empty list, a repeat, an unknown context or install type) does not."""
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)

    @tree.command(name="here", description="A command for servers only")
    @app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
    @app_commands.allowed_installs(guilds=True, users=False)
    async def here(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok")

    (command,) = [c.to_dict(tree) for c in tree.get_commands()]
    assert (command["contexts"], command["integration_types"]) == ([0], [0])
    spec.validate_commands([command])
    wrong: list[dict[str, list[int]]] = [{"contexts": []}, {"contexts": [0, 0]}, {"contexts": [3]}, {"integration_types": [2]}]
    for bad in wrong:
        with pytest.raises(SpecViolation, match=next(iter(bad))):
            spec.validate_commands([{**command, **bad}])


def test_spec_limits_are_enforced(spec: DiscordSpec) -> None:
    spec.validate("RichEmbed", {"title": "x" * 256})
    with pytest.raises(SpecViolation, match="title"):
        spec.validate("RichEmbed", {"title": "x" * 257})
    with pytest.raises(SpecViolation, match="name"):
        spec.validate("ApplicationCommandUpdateRequest", {"name": "x" * 33, "description": "d"})
    too_long = Call(
        method="execute_webhook",
        http_method="POST",
        path="/webhooks/{webhook_id}/{webhook_token}",
        url="",
        payload={"embeds": [{"description": "x" * 4000}, {"description": "y" * 2001}]},
    )
    with pytest.raises(SpecViolation, match="6000"):
        spec.validate_call(too_long)
    wrong_type = Call(
        method="create_interaction_response",
        http_method="POST",
        path="",
        url="",
        payload={"type": 8, "data": {"content": "not choices"}},
    )
    spec.validate_call(wrong_type)  # extra keys are allowed by the spec...
    with pytest.raises(SpecViolation):
        spec.validate_call(
            Call(
                method="create_interaction_response",
                http_method="POST",
                path="",
                url="",
                payload={"type": 8, "data": {"choices": [{"name": "", "value": "v"}]}},
            )
        )


async def test_user_option_with_resolved_data_and_mentions(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client], spec: DiscordSpec
) -> None:
    target = USER_ID + 7
    user = {"id": str(target), "username": "ana", "discriminator": "0", "avatar": None, "global_name": "Ana"}
    payload = interaction_payload(
        name="ping",
        options=[option("who", str(target), 6), option("period", "w")],
        resolved={"users": {str(target): user}},
    )
    call = only(await invoke(tree, client, payload))
    assert call.content == f"<@{target}>: week x7"
    assert call.body["allowed_mentions"] == {"parse": [], "users": [target]}  # discord.py sends ints
    spec.validate_call(call)  # accepted once normalise_ids writes the id as a string
    with pytest.raises(SpecViolation, match="allowed_mentions"):
        spec.validate("CreateMessageInteractionCallbackRequest", call.payload)


async def test_modal_round_trip(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client], spec: DiscordSpec
) -> None:
    opened = only(await invoke(tree, client, interaction_payload(name="feedback")))
    assert opened.type == 9 and opened.data is not None
    assert (opened.data["custom_id"], opened.data["title"]) == ("toy:feedback", "Feedback")
    spec.validate_call(opened)
    reply = only(await press(client, modal_payload("toy:feedback", {"toy:feedback:text": "the bridge"})))
    assert (reply.type, reply.content, reply.ephemeral) == (4, "Thanks: the bridge", True)
    spec.validate_call(reply)


async def test_client_http_is_refused(client: discord.Client, tree: app_commands.CommandTree[discord.Client]) -> None:
    with pytest.raises(RuntimeError, match="no network in tests"):
        await tree.sync()


async def test_roles_and_channels_need_the_guild_cached(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client]
) -> None:
    news = 1_100_000_000_000_000_777
    resolved = {"channels": {str(news): {"id": str(news), "name": "news", "type": 0, "permissions": "1024"}}}
    payload = interaction_payload(name="alerts", options=[option("channel", str(news), 7)], resolved=resolved, roles=[555])
    # Without the guilds intent's cache the member's role ids resolve to nothing: has_role refuses.
    calls = await invoke(tree, client, payload)
    assert isinstance(calls.interaction.extras["error"], app_commands.MissingRole)
    add_guild(client, roles={555: "editors"}, channels={news: "news"})
    assert only(await invoke(tree, client, payload)).content == f"Alerts go to <#{news}>"


async def test_invoke_waits_for_tasks_the_command_starts(
    client: discord.Client, tree: app_commands.CommandTree[discord.Client]
) -> None:
    defer, follow_up = await invoke(tree, client, interaction_payload(name="refresh"))
    assert (defer.type, follow_up.method, follow_up.content) == (5, "execute_webhook", "Refreshed 3 feeds.")
    with pytest.raises(LookupError, match="feed vanished"):
        await invoke(tree, client, interaction_payload(name="refresh", options=[option("fail", True)]))


async def test_command_waiting_for_a_button(client: discord.Client, tree: app_commands.CommandTree[discord.Client]) -> None:
    adapter = RecordingAdapter()
    running = asyncio.create_task(invoke(tree, client, interaction_payload(name="wipe"), adapter=adapter))
    while not adapter.calls:  # the command has sent its question and now waits for the click
        await asyncio.sleep(0)
    question = adapter.calls[0]
    assert question.ephemeral and question.message is not None
    click = only(await press(client, component_payload("toy:confirm", message=question.message), adapter=adapter))
    assert (click.type, click.content, click.components) == (7, "Confirmed.", [])
    calls = await running  # only the command's own calls (its token); adapter.calls has the click too
    assert [c.content for c in calls] == ["Wipe everything?", "Wiped."]
    assert [c.content for c in adapter.calls] == ["Wipe everything?", "Confirmed.", "Wiped."]
