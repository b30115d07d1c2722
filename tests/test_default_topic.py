"""Migration 0012: the default topic follows the story as it is now, and a store that had the day-one
query is matched again when it opens; a moderator's own query is never replaced."""

from __future__ import annotations

from pathlib import Path

from planwatch.models import Entry
from planwatch.store import Store
from planwatch.store.migrate import load_migrations, migrate
from planwatch.timeutil import utcnow

TOPIC = "ukraine-peace-plan"
GENEVA = Entry(
    "g1", "https://wire.example/geneva", "US and Ukraine cut their framework to 19 points after Geneva talks",
    "Ukrainian and American delegations said after talks in Geneva that they had refined the framework, "
    "which now has 19 points; the hardest questions are left for the presidents.", None, "en", utcnow(), None,
)  # fmt: skip
GRAIN = Entry(
    "g2", "https://wire.example/grain", "Ukraine's grain exports slow as Black Sea insurance costs rise",
    "Shipments of Ukrainian wheat and corn fell for a third week, traders in Kyiv said.", None, "en", utcnow(), None,
)  # fmt: skip


async def _day_one_store(path: Path) -> Store:
    """A database as Planwatch left it before 0012, with a day-three report the old query misses."""
    store = await Store.open(path, run_migrations=False)
    await migrate(store.db, [m for m in load_migrations() if m.version < 12])
    feed = await store.feeds.add("https://wire.example/rss", name="Wire", interval_minutes=15, now=utcnow())
    async with store.transaction() as db:
        batch = await store.reports.save_batch(db, feed_id=feed.id, outlet="Wire", entries=[GENEVA, GRAIN], now=utcnow())
        await store.topics.match_reports(db, batch.new_ids, [], utcnow())
    return store


async def _matched(store: Store) -> set[str]:
    topic = await store.topics.get(TOPIC)
    rows = await store.fetchall(
        "SELECT r.url FROM report_topics rt JOIN reports r ON r.id = rt.report_id WHERE rt.topic_id = ?", (topic.id,)
    )
    return {str(r[0]) for r in rows}


async def test_the_day_one_query_is_replaced_and_stored_reports_matched_again(tmp_path: Path) -> None:
    store = await _day_one_store(tmp_path / "old.db")
    try:
        assert await _matched(store) == set()  # "19 points", "Geneva": not in the day-one query
    finally:
        await store.close()
    store = await Store.open(tmp_path / "old.db")
    try:
        topic = await store.topics.get(TOPIC)
        assert "geneva" in topic.query and "19-point" in topic.query
        assert await _matched(store) == {GENEVA.url}  # the grain report stays out
        assert await store.scalar("SELECT count(*) FROM service_state WHERE key LIKE 'topics.rematch.%'") == 0
    finally:
        await store.close()


async def test_a_moderators_own_query_is_kept(tmp_path: Path) -> None:
    store = await _day_one_store(tmp_path / "edited.db")
    try:
        topic = await store.topics.get(TOPIC)
        await store.topics.update(topic, query="ukraine AND grain", now=utcnow())
    finally:
        await store.close()
    store = await Store.open(tmp_path / "edited.db")
    try:
        assert (await store.topics.get(TOPIC)).query == "ukraine AND grain"
        assert await _matched(store) == {GRAIN.url}
    finally:
        await store.close()


GAZA = Entry(
    "g3", "https://wire.example/gaza", "Why Moscow abstained on the US Gaza resolution",
    "Russia declined to block a Security Council resolution endorsing Washington's draft peace plan for Gaza, "
    "saying the text left the UN too small a role.", None, "en", utcnow(), None,
)  # fmt: skip
LEAK = Entry(
    "g4", "https://wire.example/leak", "Draft peace plan would have Kyiv give up Donbas",
    "A draft peace plan discussed by Washington and Moscow would ask Ukraine to withdraw from Donbas, "
    "people familiar with it said.", None, "en", utcnow(), None,
)  # fmt: skip


async def test_0013_keeps_other_peace_plans_that_name_russia_out(tmp_path: Path) -> None:
    """Under 0012's query a Gaza peace plan that names Russia matched; 0013 asks for Ukraine's side."""
    store = await Store.open(tmp_path / "0012.db", run_migrations=False)
    try:
        await migrate(store.db, [m for m in load_migrations() if m.version < 13])
        feed = await store.feeds.add("https://wire.example/rss", name="Wire", interval_minutes=15, now=utcnow())
        async with store.transaction() as db:
            batch = await store.reports.save_batch(db, feed_id=feed.id, outlet="Wire", entries=[GAZA, LEAK], now=utcnow())
            await store.topics.match_reports(db, batch.new_ids, [], utcnow())
        assert await _matched(store) == {GAZA.url, LEAK.url}
    finally:
        await store.close()
    store = await Store.open(tmp_path / "0012.db")
    try:
        assert await _matched(store) == {LEAK.url}
    finally:
        await store.close()
