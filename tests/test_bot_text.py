"""Feed text in Discord embeds, through the real command tree (tests/discord_harness.py): a hostile
outlet name or headline opens no link of its own, a password in a stored feed URL is never shown, and
members see a topic's description, never its query.

Which links Discord would make of an embed's text is decided here by simple-markdown's rules, the
parser Discord's markdown derives from: at each position an escape (a backslash before a symbol)
wins, then a masked link `[label](target)` (whose label regex does not honour escapes), then a bare
URL; labels are read again for the links inside them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import discord
import pytest

from bot.client import PlanwatchBot
from bot.context import BotContext
from bot.render import link
from planwatch.config import Settings
from planwatch.store import Store
from planwatch.timeutil import utcnow
from tests.conftest import FeedServer, poll_feed, rss
from tests.discord_harness import (
    GUILD_ID,
    USER_ID,
    Call,
    DiscordSpec,
    add_guild,
    embed_total_chars,
    interaction_payload,
    invoke,
    option,
    prepare_client,
    stop_views,
)

MANAGE_GUILD = str(discord.Permissions(manage_guild=True, view_channel=True, use_application_commands=True).value)

_LABEL = r"(?:\[[^\]]*\]|[^\[\]]|\](?=[^\[]*\]))*"
_TARGET = r"\s*<?((?:\([^)]*\)|[^\s\\]|\\.)*?)>?(?:\s+['\"]([\s\S]*?)['\"])?\s*"
MASKED_LINK = re.compile(rf"\[({_LABEL})\]\({_TARGET}\)")
BARE_URL = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")


def discord_links(text: str) -> list[tuple[str, str]]:
    """(label, target) of every link Discord would render in `text`, nested ones included."""
    found: list[tuple[str, str]] = []
    at = 0
    while at < len(text):
        if text[at] == "\\" and at + 1 < len(text) and not text[at + 1].isalnum() and not text[at + 1].isspace():
            at += 2
            continue
        masked = MASKED_LINK.match(text, at) if text[at] == "[" else None
        if masked:
            found.append((masked[1], masked[2]))
            found += discord_links(masked[1])
            at = masked.end()
            continue
        bare = BARE_URL.match(text, at)
        if bare:
            found.append((bare[0], bare[0]))
            at = bare.end()
            continue
        at += 1
    return found


def test_the_link_reader_sees_what_discord_would_link() -> None:
    """The reader itself: a masked link, a bare URL, an escaped bracket, and the old nested-link hole."""
    assert discord_links("see [Reuters](https://r.example/1) and https://b.example/x.") == [
        ("Reuters", "https://r.example/1"),
        ("https://b.example/x", "https://b.example/x"),
    ]
    assert discord_links("\\[x](https\\://evil.example)") == []
    # What escape_markdown alone made of a hostile label: a second link, to evil.example.
    assert ("https://evil.example", "https://evil.example") in discord_links("[\\[x](https://evil.example)](https://h.example/1)")
    assert ("x", "https://evil.example") in discord_links("[x](https://evil.example) [y](https://h.example/1)")


@pytest.mark.parametrize(
    "hostile",
    [
        "[x](https://evil.example)",
        "x](https://evil.example) [y",
        "\\[x](https://evil.example)",
        "x\\",
        "[a](<https://evil.example>)",
        "<https://evil.example>",
        "x]( https://evil.example )",
    ],
)
def test_a_masked_link_label_can_never_open_a_link(hostile: str) -> None:
    """Whatever the label, the masked link is one link, to its own target, and reads as the label."""
    made = link(hostile, "https://h.example/1", 60)
    assert discord_links(made) == [(made[1 : made.rindex("](")], "https://h.example/1")], made
    assert discord_links(made + " and more text") == discord_links(made)


# --- through the command tree ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spec() -> DiscordSpec:
    return DiscordSpec.load()


@pytest.fixture
def bot(store: Store, settings: Settings) -> Iterator[PlanwatchBot]:
    client = prepare_client(PlanwatchBot(BotContext(store, settings)))
    add_guild(client, guild_id=GUILD_ID)
    yield client
    stop_views(client)


async def run(bot: PlanwatchBot, spec: DiscordSpec, name: str, *opts: dict[str, Any], **kw: Any) -> list[Call]:
    calls = await invoke(bot.tree, bot, interaction_payload(name=name, options=list(opts), **kw))
    for call in calls:
        spec.validate_call(call)
        for embed in call.embeds:
            assert embed_total_chars([embed]) <= 6000
    return calls


def embed_texts(calls: list[Call]) -> list[str]:
    """Every string of every embed, each as Discord would read it on its own."""

    def strings(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)
        elif isinstance(value, str):
            yield value

    return [s for call in calls for embed in call.embeds for s in strings(embed)]


HOSTILE = "[x](https://evil.example)"


async def test_a_hostile_outlet_and_headline_make_no_link_of_their_own(
    bot: PlanwatchBot, spec: DiscordSpec, store: Store, settings: Settings, feed_server: FeedServer
) -> None:
    """A feed titled `[x](https://evil.example)` and a headline carrying one, polled from a real server:
    in /latest, /sources and /timeline every link goes to the report, and evil.example to nothing."""
    body = rss(
        [{"title": f"Witkoff plan for Ukraine {HOSTILE} x](https://evil.example) [y", "link": "https://h.example/1"}],
        title=HOSTILE,
    )
    url = feed_server.static("/hostile.xml", body)
    await store.feeds.add(url, name=None, interval_minutes=15, now=utcnow())
    assert (await poll_feed(store, settings, 1)).new == 1
    commands = (("latest", ()), ("sources", (option("since", "7d"),)), ("timeline", ()))
    for n, (command, opts) in enumerate(commands):
        # A member of its own per command: the cooldown lives on the command objects, across tests.
        calls = await run(bot, spec, command, *opts, user_id=USER_ID + 700 + n)
        texts = embed_texts(calls)
        assert any("h.example/1" in t for t in texts), command
        links = [found for text in texts for found in discord_links(text)]
        assert links and all(target == "https://h.example/1" for _, target in links), (command, links)


async def test_a_password_in_a_stored_feed_url_is_never_shown(bot: PlanwatchBot, spec: DiscordSpec, store: Store) -> None:
    """A feed stored with credentials before they were refused: /feed list masks them and links nothing."""
    feed = await store.feeds.add("https://user:s3cr3t-pw@feeds.example/rss", name=None, interval_minutes=15, now=utcnow())
    await store.guilds.link_feed(feed.id, str(GUILD_ID), utcnow())
    calls = await run(bot, spec, "feed", subcommand="list", permissions=MANAGE_GUILD)
    text = " ".join(embed_texts(calls))
    assert "feeds.example" in text and "s3cr3t-pw" not in text


async def test_members_see_a_topics_description_never_its_query(bot: PlanwatchBot, spec: DiscordSpec) -> None:
    """/topics shows each topic's description (a neutral line when it has none), never the 300-character
    boolean query; moderators still see a query in /topic test."""
    query = " OR ".join(f'"harbour strike {n}"' for n in range(14))
    assert len(query) > 250
    mod = {"permissions": MANAGE_GUILD}
    await run(bot, spec, "topic", option("name", "harbour"), option("query", query), subcommand="add", **mod)
    calls = await run(bot, spec, "topics")
    text = " ".join(embed_texts(calls))
    assert "peace plan for Ukraine as it develops" in text and "No description yet." in text
    assert "harbour strike" not in text and "witkoff" not in text.lower() and "query" not in text.lower()
    tested = await run(bot, spec, "topic", option("query", query), subcommand="test", **mod)
    assert "harbour strike 0" in " ".join(embed_texts(tested))
