"""Alerts end to end: real polls of a loopback server into a real store, the real alert planner and
renderer; only the Discord network edge (sending a message) is a recording sink."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import discord
import pytest
from aiohttp import web

from bot.alerts import run_alerts
from planwatch.config import Settings
from planwatch.ingest.poller import Poller
from planwatch.services.guilds import add_guild_feed, set_alerts
from planwatch.store import Store
from planwatch.timeutil import utcnow
from tests.conftest import FeedServer, rss

GUILD = "111"
CHANNEL = "222"


@dataclass
class RecordingSink:
    """Stands in for Discord's HTTP API (unreachable here): records what would be sent."""

    sent: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    edits: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)
    fail_channels: set[str] = field(default_factory=set)

    async def send(self, channel_id: str, embed: dict[str, object]) -> str:
        if channel_id in self.fail_channels:
            raise discord.HTTPException(_Response(403), "Missing Access")  # type: ignore[arg-type]
        self.sent.append((channel_id, embed))
        return str(9000 + len(self.sent))

    async def edit(self, channel_id: str, message_id: str, embed: dict[str, object]) -> None:
        self.edits.append((channel_id, message_id, embed))


class _Response:
    def __init__(self, status: int) -> None:
        self.status = status
        self.reason = "Forbidden"


class Feeds:
    """Three outlets' feeds whose items the test changes between polls."""

    def __init__(self, server: FeedServer) -> None:
        self.items: dict[str, list[dict[str, str]]] = {"a": [], "b": [], "c": []}
        self.server = server
        for name in self.items:
            server.route(f"/{name}.xml", self._handler(name))

    def _handler(self, name: str):  # type: ignore[no-untyped-def]
        async def handler(request: web.Request) -> web.Response:
            body = rss(self.items[name], title=f"Outlet {name.upper()}", link=f"https://{name}.example/")
            return web.Response(body=body, content_type="application/rss+xml")

        return handler

    def url(self, name: str) -> str:
        return self.server.url(f"/{name}.xml")


def item(outlet: str, n: int, title: str, text: str, hours_ago: float = 1) -> dict[str, str]:
    when = format_datetime(datetime.now(UTC) - timedelta(hours=hours_ago), usegmt=True)
    return {"title": title, "link": f"https://{outlet}.example/{n}", "guid": f"{outlet}-{n}", "pubDate": when,
            "description": text}  # fmt: skip


STORY = ("Witkoff and Dmitriev drafted a 28-point peace plan for Ukraine; the plan caps the army at 600,000 "
         "troops and cedes Donbas, officials said on Thursday in Kyiv and Moscow.")  # fmt: skip


WORDINGS = (
    ("a", "Axios: US and Russia drafted a 28-point Ukraine peace plan",
     "Envoys Witkoff and Dmitriev wrote a 28-point plan for Ukraine that caps its army at 600,000 and cedes Donbas."),
    ("b", "FT: 28-point US-Russia plan would cede Donbas and cap Ukraine's army",
     "A 28-point draft by Witkoff and Dmitriev would have Ukraine give up Donbas and keep 600,000 troops at most."),
    ("c", "Reuters: Kyiv receives 28-point peace plan drafted by Witkoff and Dmitriev",
     "Ukraine was handed the 28-point plan from Witkoff and Dmitriev: Donbas ceded, an army of 600,000, no NATO."),
)  # fmt: skip


@pytest.fixture
async def world(store: Store, settings: Settings, feed_server: FeedServer) -> AsyncIterator[tuple[Feeds, Poller]]:
    feeds = Feeds(feed_server)
    for name in feeds.items:
        await add_guild_feed(store, settings, GUILD, feeds.url(name), name=None, interval=None)
    poller = Poller(store, settings)
    try:
        yield feeds, poller
    finally:
        await poller.close()


async def test_story_through_three_feeds_is_one_post_and_two_edits(
    store: Store, world: tuple[Feeds, Poller], settings: Settings
) -> None:
    """One message per story; as outlets join, it is edited (\"now reported by 3 outlets\"); no backlog."""
    feeds, poller = world
    # The first poll of every feed is backlog, even if it holds a story on the topic.
    feeds.items["a"] = [item("a", 0, "Old: Kremlin denies new peace plan for Ukraine", "Peskov denied any new plan. " * 3, 30)]
    await poller.poll_once(force=True)
    await set_alerts(store, GUILD, CHANNEL, None)
    sink = RecordingSink()
    first = await run_alerts(store, sink, utcnow(), max_per_hour=10)
    assert (first.posted, first.edited, sink.sent) == (0, 0, []), [e.get("title") for _, e in sink.sent]

    # Three outlets, three wordings of one event (identical text would be a copy, not a new outlet).
    for outlet, title, text in WORDINGS:
        feeds.items[outlet].append(item(outlet, 1, title, text))
        await poller.poll_once(force=True)
        await run_alerts(store, sink, utcnow(), max_per_hour=10)
    assert len(sink.sent) == 1 and len(sink.edits) == 2
    channel, posted = sink.sent[0]
    assert channel == CHANNEL and "New story on ukraine-peace-plan" in str(posted["description"])
    last_edit = sink.edits[-1]
    assert last_edit[1] == "9001" and "now reported by 3 outlets" in str(last_edit[2]["description"])
    # The alert says what the story claims, through the claim layer: its label and its origins.
    fields = last_edit[2]["fields"]
    assert isinstance(fields, list)
    claim = next(f for f in fields if str(f["name"]).startswith("Key claim"))
    assert "28-point" in str(claim["value"]) and "since" in str(claim["value"])
    # Nothing new: nothing sent again.
    await run_alerts(store, sink, utcnow(), max_per_hour=10)
    assert len(sink.sent) == 1 and len(sink.edits) == 2


async def test_hourly_allowance_defers_extra_stories(store: Store, world: tuple[Feeds, Poller]) -> None:
    """At most N new stories per channel per hour; the rest wait for the next hour."""
    feeds, poller = world
    await poller.poll_once(force=True)  # empty first polls: the backlog is nothing
    await set_alerts(store, GUILD, CHANNEL, "ukraine-peace-plan")
    feeds.items["a"] = [
        item("a", 1, "Zelenskyy meets Driscoll in Kyiv over the 28-point peace plan", "Driscoll met Zelenskyy. " * 5),
        item("a", 2, "Kallas says Europe must approve any Ukraine peace plan", "Kallas spoke in Brussels. " * 5),
    ]
    await poller.poll_once(force=True)
    sink = RecordingSink()
    run = await run_alerts(store, sink, utcnow(), max_per_hour=1)
    assert (run.posted, run.deferred) == (1, 1)
    later = utcnow() + timedelta(hours=1, minutes=1)
    run = await run_alerts(store, sink, later, max_per_hour=1)
    assert run.posted == 1 and len(sink.sent) == 2


async def test_feed_health_is_said_once_and_recovery_once(store: Store, settings: Settings, feed_server: FeedServer) -> None:
    """A failing feed is announced once (not at every failure), and again when it works."""
    healthy = {"ok": False}

    async def flaky(request: web.Request) -> web.Response:
        if not healthy["ok"]:
            raise web.HTTPServiceUnavailable()
        return web.Response(body=rss([]), content_type="application/rss+xml")

    feed, _ = await add_guild_feed(store, settings, GUILD, feed_server.route("/flaky.xml", flaky), name="Flaky", interval=None)
    await set_alerts(store, GUILD, CHANNEL, None)
    poller = Poller(store, settings)
    sink = RecordingSink()
    try:
        for _ in range(5):
            await poller.poll_once(force=True)
            await run_alerts(store, sink, utcnow(), max_per_hour=10)
        notices = [e for _, e in sink.sent if e.get("title") == "Feed health"]
        assert len(notices) == 1 and "failing" in str(notices[0]["description"])
        healthy["ok"] = True
        await poller.poll_once(force=True)
        await run_alerts(store, sink, utcnow(), max_per_hour=10)
        await run_alerts(store, sink, utcnow(), max_per_hour=10)
    finally:
        await poller.close()
    notices = [e for _, e in sink.sent if e.get("title") == "Feed health"]
    assert len(notices) == 2 and "working again" in str(notices[1]["description"])
    assert feed.id in await store.guilds.noticed(CHANNEL)


async def test_a_channel_that_refuses_does_not_stop_the_others(store: Store, world: tuple[Feeds, Poller]) -> None:
    """Missing access in one channel: logged and counted; the other server's channel still gets its post."""
    feeds, poller = world
    await poller.poll_once(force=True)
    await set_alerts(store, GUILD, "333", None)
    await set_alerts(store, "444", CHANNEL, None)
    feeds.items["b"] = [item("b", 1, "US and Russia drafted 28-point Ukraine peace plan", STORY)]
    await poller.poll_once(force=True)
    sink = RecordingSink(fail_channels={"333"})
    run = await run_alerts(store, sink, utcnow(), max_per_hour=10)
    assert run.failed == 1 and [c for c, _ in sink.sent] == [CHANNEL]


async def test_configuration_is_per_server(store: Store, settings: Settings) -> None:
    """One server's alert channels and topics are invisible to another."""
    from planwatch.services.guilds import add_guild_topic, alerts_status, visible_topics

    await add_guild_topic(store, "1", "harbour", "harbour AND strike")
    await set_alerts(store, "1", "10", "harbour")
    assert [t.name for t in await visible_topics(store, "2")] == ["ukraine-peace-plan"]
    assert await alerts_status(store, "2") == []
    assert [c.topic_name for c in await alerts_status(store, "1")] == ["harbour"]
