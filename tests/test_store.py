"""The store on a real SQLite file: migrations, pragmas, topics with backfill, atomic batches."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from planwatch.errors import StoreError, UsageError
from planwatch.models import Entry
from planwatch.store import Store
from planwatch.store.migrate import Migration, load_migrations, migrate
from planwatch.timeutil import utcnow

NOW = datetime(2025, 11, 21, 12, 0, tzinfo=UTC)


def entry(n: int, title: str | None = None, text: str | None = None) -> Entry:
    return Entry(
        guid=f"g{n}",
        url=f"https://outlet.example/{n}",
        title=title or f"Report {n} on the 28-point peace plan for Ukraine",
        text=text or f"Body {n}: envoys drafted a peace plan; Kyiv was not consulted. " * 3,
        author=None,
        language="en",
        published_at=NOW - timedelta(hours=n),
        outlet=None,
    )


async def add_feed(store: Store, url: str = "https://outlet.example/feed") -> int:
    return (await store.feeds.add(url, name=None, interval_minutes=15, now=NOW)).id


async def test_migrations_applied_once_in_order(tmp_path: Path) -> None:
    """A new file gets every migration once; opening again applies nothing; pragmas are set."""
    path = tmp_path / "a.db"
    store = await Store.open(path)
    versions = [r[0] for r in await store.fetchall("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [m.version for m in load_migrations()]
    assert await migrate(store.db) == []
    assert (await store.scalar("PRAGMA journal_mode")) == "wal"
    assert (await store.scalar("PRAGMA foreign_keys")) == 1
    # SQLite's handler waits one short attempt; transaction() retries for the long wait (test_concurrency).
    assert (await store.scalar("PRAGMA busy_timeout")) == store.busy.attempt_ms
    await store.close()


async def test_database_newer_than_code_is_refused(tmp_path: Path) -> None:
    """A schema version the code does not know stops with a clear message."""
    path = tmp_path / "b.db"
    store = await Store.open(path)
    await store.db.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01T00:00:00Z')")
    await store.close()
    with pytest.raises(StoreError, match="newer than this Planwatch knows"):
        await Store.open(path)


async def test_failed_migration_rolls_back_whole(tmp_path: Path) -> None:
    """A migration that fails half-way leaves nothing of itself behind."""
    store = await Store.open(tmp_path / "c.db", run_migrations=False)
    broken = [Migration(1, "broken", "CREATE TABLE one (x);\nCREATE TABLE one (x);")]
    with pytest.raises(StoreError, match="0001_broken failed"):
        await migrate(store.db, broken)
    assert await store.fetchone("SELECT name FROM sqlite_master WHERE name = 'one'") is None
    assert await store.scalar("SELECT count(*) FROM schema_migrations") == 0
    await store.close()


async def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    """A file that is not SQLite gives one line, not a traceback."""
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot use database"):
        await Store.open(path)


async def test_default_topic_exists_from_the_start(store: Store) -> None:
    """ukraine-peace-plan is there on a fresh database, in the global scope."""
    topic = await store.topics.get("ukraine-peace-plan")
    assert topic.scope == "global" and "28-point" in topic.query


async def test_topic_add_backfills_and_bad_query_saves_nothing(store: Store) -> None:
    """Adding a topic matches stored reports; a bad query is refused and nothing is saved."""
    feed_id = await add_feed(store)
    async with store.transaction() as db:
        await store.reports.save_batch(db, feed_id=feed_id, outlet="O", entries=[entry(1), entry(2)], now=NOW)
    topic, matched = await store.topics.add(
        scope="global", name="envoys", query="envoys AND kyiv", description="", aliases=[], now=NOW
    )
    assert matched == 2
    with pytest.raises(UsageError, match="bad query"):
        await store.topics.add(scope="global", name="broken", query="(envoys", description="", aliases=[], now=NOW)
    assert [t.name for t in await store.topics.list_all()] == ["ukraine-peace-plan", "envoys"]
    with pytest.raises(UsageError, match="already exists"):
        await store.topics.add(scope="global", name="envoys", query="x", description="", aliases=[], now=NOW)
    edited, rematched = await store.topics.update(topic, query="nothing-matches-this", now=NOW)
    assert rematched == 0 and edited.query == "nothing-matches-this"


async def test_update_keeps_first_seen_and_earlier_version(store: Store) -> None:
    """A changed title under the same identity updates the report and keeps the old version."""
    feed_id = await add_feed(store)
    async with store.transaction() as db:
        first = await store.reports.save_batch(db, feed_id=feed_id, outlet="O", entries=[entry(1)], now=NOW)
    later = NOW + timedelta(hours=2)
    async with store.transaction() as db:
        second = await store.reports.save_batch(
            db, feed_id=feed_id, outlet="O", entries=[entry(1, title="Corrected headline")], now=later
        )
    assert (second.new, second.updated) == (0, 1)
    report = await store.reports.get(first.new_ids[0])
    assert report is not None
    assert report.title == "Corrected headline"
    assert report.first_seen_at == NOW and report.updated_at == later
    versions = await store.reports.versions(report.id)
    assert [(v[0], v[2], v[3]) for v in versions] == [(entry(1).title, NOW, later)]


async def test_crash_mid_batch_loses_nothing_and_duplicates_nothing(store: Store) -> None:
    """An exception inside the feed's transaction rolls it back whole; the re-run stores each once."""
    feed_id = await add_feed(store)
    entries = [entry(n) for n in range(1, 6)]
    with pytest.raises(RuntimeError):
        async with store.transaction() as db:
            await store.reports.save_batch(db, feed_id=feed_id, outlet="O", entries=entries, now=NOW)
            raise RuntimeError("power cut")
    assert await store.reports.count() == 0
    for _ in range(2):
        async with store.transaction() as db:
            await store.reports.save_batch(db, feed_id=feed_id, outlet="O", entries=entries, now=NOW)
    assert await store.reports.count() == 5


async def test_same_story_through_another_feed_is_stored_once(store: Store) -> None:
    """The same article via a second feed, with tracking-free URL equality, is one report."""
    a = await add_feed(store, "https://a.example/feed")
    b = await add_feed(store, "https://b.example/feed")
    async with store.transaction() as db:
        await store.reports.save_batch(db, feed_id=a, outlet="A", entries=[entry(1)], now=NOW)
        result = await store.reports.save_batch(db, feed_id=b, outlet="B", entries=[entry(1)], now=NOW)
    assert (result.new, result.merged) == (0, 1)
    sources = await store.fetchall("SELECT feed_id FROM report_sources ORDER BY feed_id")
    assert [r[0] for r in sources] == [a, b]


async def test_matching_at_ingest_uses_every_topic(store: Store) -> None:
    """New reports are matched against every topic in the same transaction that stores them."""
    feed_id = await add_feed(store)
    await store.topics.add(scope="guild:1", name="envoys", query="envoys", description="", aliases=[], now=NOW)
    async with store.transaction() as db:
        batch = await store.reports.save_batch(db, feed_id=feed_id, outlet="O", entries=[entry(1)], now=NOW)
        await store.topics.match_reports(db, batch.new_ids, [], NOW)
    report = await store.reports.get(batch.new_ids[0])
    assert report is not None and sorted(report.topics) == ["envoys", "ukraine-peace-plan"]


async def test_feed_remove_keeps_reports(store: Store) -> None:
    """Removing a feed keeps what it reported (reports are history)."""
    feed_id = await add_feed(store)
    async with store.transaction() as db:
        await store.reports.save_batch(db, feed_id=feed_id, outlet="O", entries=[entry(1)], now=utcnow())
    await store.feeds.remove(feed_id)
    assert await store.reports.count() == 1
    with pytest.raises(sqlite3.IntegrityError):
        async with store.transaction() as db:
            await db.execute("INSERT INTO report_sources VALUES (1, 999, NULL, NULL, 'x', 'a', 'b')")


async def test_a_verbatim_repost_by_another_outlet_is_kept(store: Store) -> None:
    """The same text under another outlet's URL is that outlet's report (its reach counts); the
    same outlet's re-post under a new URL is still the one report."""
    agency = await add_feed(store, "https://agency.example/feed")
    relay = await add_feed(store, "https://relay.example/feed")
    text = entry(1).text
    async with store.transaction() as db:
        await store.reports.save_batch(db, feed_id=agency, outlet="Agency", entries=[entry(1)], now=NOW)
        moved = Entry("x", "https://agency.example/moved", entry(1).title, text, None, "en", NOW, None)
        same_outlet = await store.reports.save_batch(db, feed_id=agency, outlet="Agency", entries=[moved], now=NOW)
        copy = Entry("y", "https://relay.example/copy", entry(1).title, text, None, "en", NOW, None)
        other_outlet = await store.reports.save_batch(db, feed_id=relay, outlet="Relay", entries=[copy], now=NOW)
    assert (same_outlet.new, same_outlet.merged) == (0, 0) and same_outlet.unchanged == 1
    assert other_outlet.new == 1
    outlets = [r[0] for r in await store.fetchall("SELECT outlet FROM reports ORDER BY id")]
    assert outlets == ["Agency", "Relay"]


async def test_migration_scopes_old_repost_keys_to_their_outlet(tmp_path: Path) -> None:
    """A database written before re-post keys named their outlet: its keys get the report's outlet,
    so the outlet's own re-post still merges after the upgrade and another outlet's does not."""
    path = tmp_path / "old.db"
    old = [m for m in load_migrations() if m.version < 8]
    async with await Store.open(path, run_migrations=False) as store:
        await migrate(store.db, old)
        feed_id = await add_feed(store)
        async with store.transaction() as db:
            await store.reports.save_batch(db, feed_id=feed_id, outlet="Agency", entries=[entry(1)], now=NOW)
            await db.execute("UPDATE report_keys SET key = substr(key, length('Agency:') + 1) WHERE kind = 'hash'")
        plain = await store.fetchall("SELECT key FROM report_keys WHERE kind = 'hash'")
        assert len(plain) == 1 and ":" not in plain[0][0]
    async with await Store.open(path) as store:
        keys = await store.fetchall("SELECT key FROM report_keys WHERE kind = 'hash'")
        assert [tuple(k) for k in keys] == [(f"Agency:{plain[0][0]}",)]
