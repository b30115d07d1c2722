"""Feed management as moderators and operators use it: guarded imports, find by id or URL, pause."""

from __future__ import annotations

from planwatch.config import Settings
from planwatch.ingest.opml import read_opml, write_opml
from planwatch.services.feeds import add_feed, export_opml, find_feed, import_opml, pause_feed
from planwatch.services.guilds import add_guild_feed
from planwatch.store import Store
from planwatch.timeutil import utcnow


async def test_import_refuses_internal_addresses_and_says_why(store: Store, settings: Settings) -> None:
    """With private feeds off, an OPML import skips internal and non-web URLs, each with its reason."""
    guarded = settings.with_overrides(allow_private_feeds=False)
    opml = write_opml(
        [
            ("https://news.example/rss", "News", None),
            ("http://10.1.2.3/feed", "Intranet", None),
            ("http://localhost:8080/rss", "Local", None),
            ("http://2130706433/rss", "Numeric loopback", None),
            ("file:///etc/passwd", "File", None),
        ],
        utcnow(),
    )
    result = await import_opml(store, guarded, opml.encode())
    assert result.added == ["https://news.example/rss"]
    reasons = dict(result.skipped)
    assert "10.1.2.3 is a private address" in reasons["http://10.1.2.3/feed"]
    assert "loopback" in reasons["http://localhost:8080/rss"]
    assert "loopback" in reasons["http://2130706433/rss"]
    assert "http:// or https://" in reasons["file:///etc/passwd"]


async def test_find_pause_resume_and_export(store: Store, settings: Settings) -> None:
    """Feeds are found by #id, id or URL; pause and resume say so; export round-trips through OPML."""
    feed = await store.feeds.add("https://news.example/rss", name="News", interval_minutes=15, now=utcnow())
    assert (await find_feed(store, f"#{feed.id}")).id == feed.id
    assert (await find_feed(store, "https://news.example/rss")).id == feed.id
    paused = await pause_feed(store, str(feed.id), True)
    assert paused.status == "paused" and paused.paused_reason == "paused by a moderator"
    assert await store.feeds.due(utcnow()) == []
    resumed = await pause_feed(store, str(feed.id), False)
    assert resumed.status == "new" and [f.id for f in await store.feeds.due(utcnow())] == [feed.id]
    outlines = read_opml((await export_opml(store)).encode())
    assert [(o.url, o.title) for o in outlines] == [("https://news.example/rss", "News")]


async def test_any_spelling_of_a_watched_feed_is_the_same_feed(store: Store, settings: Settings) -> None:
    """Import and Discord's /feed add meet a feed already watched in another spelling (even a row stored
    as typed before URLs were made canonical): the import skips it, a server shares it."""
    legacy = await store.feeds.add("https://Legacy.example/rss#top", name="Legacy", interval_minutes=15, now=utcnow())
    added = await add_feed(store, settings, "HTTPS://Example.COM./feed#x")
    assert added.url == "https://example.com/feed"
    opml = write_opml([("https://legacy.example/rss", "L", None), ("https://example.com:443/feed", "E", None)], utcnow())
    result = await import_opml(store, settings, opml.encode())
    assert result.added == [] and [reason for _, reason in result.skipped] == ["already watched", "already watched"]
    feed, created = await add_guild_feed(store, settings, 42, "https://LEGACY.example/rss", name=None, interval=None)
    assert (feed.id, created) == (legacy.id, False)
    assert (await find_feed(store, "https://legacy.example/rss")).id == legacy.id
    assert await store.feeds.count() == 2
