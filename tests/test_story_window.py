"""The story window kept between batches (planwatch.stories.refresh): it must be the window a process
reads back from the database, so that a restart changes no grouping; it must take reports out as
they leave the window, and never outlive a batch that was not stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from planwatch.models import Entry
from planwatch.store import Store
from planwatch.stories import refresh
from planwatch.stories.grouping import (
    COMMON_TERM_STORIES,
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW_SECONDS,
    StoryIndex,
    Vectors,
    decode_features,
)
from planwatch.stories.outlets import registry
from planwatch.stories.refresh import _Refresher, refresh_stories
from planwatch.timeutil import utcnow

REPO = Path(__file__).resolve().parent.parent
DAY = timedelta(days=1)


def _rounds(start: datetime) -> Iterator[list[tuple[str, Entry]]]:
    """Our evaluation clusters (12 events, several outlets each), one cluster every 16 hours and its
    reports ten hours apart, so that the three-day window moves on: stories lose their first reports
    and then leave it while later ones arrive."""
    lines = (REPO / "bench/data/dev_clusters.jsonl").read_text().splitlines()
    for c_index, cluster in enumerate(json.loads(line) for line in lines if line):
        at = start + timedelta(hours=16 * c_index)
        batch = []
        for d_index, doc in enumerate(cluster["documents"]):
            url = f"https://o{d_index}.example/{cluster['id']}"
            entry = Entry(None, url, doc["title"], doc["text"], None, "en", at + timedelta(hours=10 * d_index), None)
            batch.append((f"Outlet {d_index}", entry))
        # A report in another alphabet, so that name keys across alphabets (anchors) are kept too.
        title = f"Уиткофф и Дмитриев обсудили план из {20 + c_index} пунктов"
        text = f"{title}. Об этом сообщил Песков в Москве, сказал источник {cluster['id']}."
        batch.append(("Lenta", Entry(None, f"https://lenta.example/{cluster['id']}", title, text, None, "ru", at, None)))
        yield batch


async def _save(store: Store, batch: list[tuple[str, Entry]]) -> None:
    now = utcnow()
    feeds = {}
    for outlet, _ in batch:
        url = f"https://{outlet.replace(' ', '').lower()}.example/rss"
        feeds[outlet] = await store.feeds.get_by_url(url) or await store.feeds.add(url, name=outlet, interval_minutes=15, now=now)
    async with store.transaction() as db:
        for outlet, entry in batch:
            await store.reports.save_batch(db, feed_id=feeds[outlet].id, outlet=outlet, entries=[entry], now=now)


def _index_state(index: StoryIndex) -> dict[str, object]:
    stories = {
        sid: (
            s.words.weights,
            s.words.norm2,
            s.names.weights,
            s.names.norm2,
            s.anchors.weights,
            s.anchors.norm2,
            dict(s.scripts),
            dict(s.terms),
            dict(s.years),
            dict(s.outlets),
            s.times,
        )
        for sid, s in index.stories.items()
    }
    return {"df": dict(index.df), "name_df": dict(index.name_df), "anchor_df": dict(index.anchor_df),
            "docs": index.docs, "stories": stories,
            "postings": index.postings}  # fmt: skip


def _docs_state(state: _Refresher) -> dict[int, tuple[object, ...]]:
    return {d.id: (d.story_id, d.copy_of, d.title, d.sample, d.vectors) for d in state.docs.values()}


async def _read_back(store: Store, since: float) -> _Refresher:
    window = await store.stories.window(datetime.fromtimestamp(since).astimezone(), [])
    return _Refresher.load(window, since, DEFAULT_THRESHOLD, DEFAULT_WINDOW_SECONDS, registry())


async def test_the_kept_window_is_the_one_read_back_from_the_database(store: Store) -> None:
    """After every batch, the window the process kept equals one loaded afresh: same frequencies,
    centroids (exactly: integer weights), postings and docs, with reports that left the window out."""
    start = utcnow() - 10 * DAY
    left_window = False
    for batch in _rounds(start):
        await _save(store, batch)
        await refresh_stories(store, now=batch[0][1].published_at)
        cached = refresh._CACHE.get(store)
        assert cached is not None and cached.generation == await store.stories.generation()
        fresh = await _read_back(store, cached.state.since)
        assert _index_state(cached.state.index) == _index_state(fresh.index)
        assert _docs_state(cached.state) == _docs_state(fresh)
        left_window = left_window or len(fresh.docs) < int(await store.scalar("SELECT count(*) FROM report_analysis"))
    assert left_window, "the rounds never moved the window on: the test would not see reports leave it"


async def test_a_restarted_process_groups_as_the_running_one(tmp_path: Path) -> None:
    """The same reports, one store refreshed by a process that keeps its window, the other as if the
    process restarted before every batch: the same stories, copies and stored weights."""
    running, restarted = await Store.open(tmp_path / "running.db"), await Store.open(tmp_path / "restarted.db")
    try:
        start = utcnow() - 10 * DAY
        for batch in _rounds(start):
            for store in (running, restarted):
                await _save(store, batch)
            await refresh_stories(running)
            refresh._CACHE.pop(restarted, None)
            await refresh_stories(restarted)
            assert refresh._CACHE.get(restarted) is not None
        query = "SELECT report_id, story_id, copy_of, vectors FROM report_analysis ORDER BY report_id"
        a, b = await running.fetchall(query), await restarted.fetchall(query)
        assert len(a) > 40 and [tuple(r) for r in a] == [tuple(r) for r in b]
    finally:
        await running.close()
        await restarted.close()


async def test_another_writer_makes_the_kept_window_stale(tmp_path: Path) -> None:
    """A batch stored by another connection (another process): the kept window is not used again;
    the next batch reads the window back, the other writer's reports included."""
    path = tmp_path / "shared.db"
    first, second = await Store.open(path), await Store.open(path)
    try:
        rounds = _rounds(utcnow() - 3 * DAY)
        await _save(first, next(rounds))
        await refresh_stories(first)
        other = next(rounds)
        await _save(second, other)
        await refresh_stories(second)
        await _save(first, next(rounds))
        await refresh_stories(first)
        cached = refresh._CACHE[first]
        assert cached.generation == await first.stories.generation() == 3
        ids = {int(r[0]) for r in await first.fetchall("SELECT id FROM reports")}
        assert set(cached.state.docs) == ids
    finally:
        await first.close()
        await second.close()


async def test_a_batch_that_is_not_stored_leaves_no_window(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kept window took in the batch's reports; if the batch's transaction fails, none is kept."""
    rounds = _rounds(utcnow() - 3 * DAY)
    await _save(store, next(rounds))
    await refresh_stories(store)
    assert refresh._CACHE.get(store) is not None
    await _save(store, next(rounds))

    async def broken(*args: object) -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(store.stories, "save_analysis", broken)
    with pytest.raises(RuntimeError):
        await refresh_stories(store)
    assert refresh._CACHE.get(store) is None
    monkeypatch.undo()
    result = await refresh_stories(store)
    assert result.analysed > 0 and refresh._CACHE.get(store) is not None


async def test_an_analysis_stored_before_weights_were_kept_is_weighed_when_read(store: Store) -> None:
    """Rows from before migration 0011 have no stored weights: they are weighed with the window's
    frequencies, as every row was before, and group as before."""
    rounds = _rounds(utcnow() - 3 * DAY)
    await _save(store, next(rounds))
    await refresh_stories(store)
    async with store.transaction() as db:
        await db.execute("UPDATE report_analysis SET vectors = ''")
    since = refresh._CACHE[store].state.since
    loaded = await _read_back(store, since)
    index = StoryIndex()
    for report in await store.stories.window(datetime.fromtimestamp(since).astimezone(), []):
        index.observe(decode_features(report.terms))
    for doc in loaded.docs.values():
        report = (await store.stories.reports_by_id([doc.id]))[doc.id]
        assert doc.vectors == index.vectors(decode_features(report.terms))


def test_taking_a_report_out_leaves_exactly_the_others() -> None:
    """Exact integer weights: remove() undoes add() to the last unit, whatever the order."""
    a = Vectors({"quake": 700_000, "kestrel": 714_143}, {"kestrel": 1_000_000}, frozenset({"2013"}))
    b = Vectors({"quake": 600_000, "marrowby": 800_000}, {"marrowby": 1_000_000}, frozenset())
    c = Vectors({"quake": 333_333, "harwick": 942_809}, {}, frozenset({"2008"}))
    both, all_three = StoryIndex(), StoryIndex()
    for vec, at, outlet in ((b, 2.0, "Wire"), (c, 3.0, "Daily")):
        both.count(vec)
        both.add(7, vec, at, outlet)
    for vec, at, outlet in ((a, 1.0, "Wire"), (c, 3.0, "Daily"), (b, 2.0, "Wire")):
        all_three.count(vec)
        all_three.add(7, vec, at, outlet)
    all_three.count(a, -1)
    all_three.remove(7, a, 1.0, "Wire")
    assert _index_state(all_three) == _index_state(both)
    all_three.count(b, -1)
    all_three.remove(7, b, 2.0, "Wire")
    all_three.count(c, -1)
    all_three.remove(7, c, 3.0, "Daily")
    assert all_three.stories == {} and all_three.postings == {} and all_three.df == {} and all_three.docs == 0


def test_a_term_hundreds_of_stories_share_finds_no_candidates_by_itself() -> None:
    """ "Ukraine" in every story: a report is compared with the stories of its rarer terms; with none,
    with the latest stories that have the common term, never with all of them."""
    index = StoryIndex()
    for story in range(COMMON_TERM_STORIES + 50):
        index.add(story, Vectors({"ukraine": 500_000, f"place{story}": 866_025}, {}, frozenset()), float(story))
    rare = Vectors({"ukraine": 300_000, "place3": 953_939}, {}, frozenset())
    assert index.candidates(rare) == {3}
    common_only = Vectors({"ukraine": 1_000_000}, {}, frozenset())
    latest = index.candidates(common_only)
    assert latest == set(range(50, COMMON_TERM_STORIES + 50))
