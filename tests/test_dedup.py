"""Dedup planning: one report per story however it comes back."""

from __future__ import annotations

from datetime import UTC, datetime

from planwatch.ingest.dedup import Known, candidates, content_hash, plan_batch
from planwatch.models import Entry

NOW = datetime(2025, 11, 21, tzinfo=UTC)
LONG = "Envoys from Washington and Moscow drafted a framework of twenty-eight points for ending the war. " * 2


def entry(url: str | None, guid: str | None = None, title: str = "T", text: str = LONG) -> Entry:
    return Entry(guid, url, title, text, None, None, NOW, None)


def test_same_url_in_one_batch_is_one_report() -> None:
    """An item repeated in a feed is stored once."""
    plan = plan_batch(candidates(1, [entry("https://a/1", "g1"), entry("https://a/1", "g1")], "A"), {}, {}, 10)
    assert [rid for rid, _ in plan.inserts] == [10]
    assert plan.unchanged == 1


def test_repeated_guid_for_different_links_is_ignored() -> None:
    """A feed that gives every item the same guid does not collapse them into one."""
    items = [entry("https://a/1", "same", text="one " * 30), entry("https://a/2", "same", text="two " * 30)]
    cands = candidates(1, items, "A")
    assert all(kind != "guid" for c in cands for kind, _ in c.keys)
    assert len(plan_batch(cands, {}, {}, 1).inserts) == 2


def test_known_keys_route_to_the_stored_report() -> None:
    """Another guid, another URL of the same outlet with the same text, or the same URL: all the stored report."""
    cands = candidates(2, [entry("https://b/elsewhere", "other-guid")], "A")
    hash_key = next(k for k in cands[0].keys if k[0] == "hash")
    known = {7: Known(7, cands[0].content_hash, "T", LONG, NOW, None)}
    plan = plan_batch(cands, {hash_key: 7}, known, 100)
    assert not plan.inserts
    assert plan.merged == 1
    assert ("url", "https://b/elsewhere", 7) in plan.new_keys


def test_change_from_the_same_feed_is_an_update_but_another_feeds_text_is_not() -> None:
    """An edit is a change the same feed made; a second feed's different summary is not an edit."""
    old_hash = content_hash("Old title", LONG)
    cands = candidates(1, [entry("https://a/1", title="New title")], "A")
    url_key = ("url", "https://a/1")
    same_feed = {5: Known(5, old_hash, "Old title", LONG, NOW, source_hash=old_hash)}
    plan = plan_batch(cands, {url_key: 5}, same_feed, 50)
    assert [(k.report_id, c.entry.title) for k, c in plan.updates] == [(5, "New title")]
    other_feed = {5: Known(5, old_hash, "Old title", LONG, NOW, source_hash=None)}
    plan = plan_batch(cands, {url_key: 5}, other_feed, 50)
    assert not plan.updates and plan.merged == 1


def test_short_texts_do_not_merge_on_hash() -> None:
    """Title-only items ("Live updates") at different URLs stay different reports."""
    cands = candidates(1, [entry("https://a/1", text=""), entry("https://a/2", text="")], "A")
    assert len(plan_batch(cands, {}, {}, 1).inserts) == 2


def test_the_same_text_from_another_outlet_is_its_own_report() -> None:
    """A verbatim re-post under another outlet's URL keeps that outlet's reach: it is not "already
    known" (the story analysis marks it a copy); the same outlet re-posting under a new URL is."""
    original = candidates(1, [entry("https://a.example/story")], "Agency")
    hash_key = next(k for k in original[0].keys if k[0] == "hash")
    known = {7: Known(7, original[0].content_hash, "T", LONG, NOW, None)}
    elsewhere = candidates(2, [entry("https://relay.example/copy")], "Relay Blog")
    assert [rid for rid, _ in plan_batch(elsewhere, {hash_key: 7}, known, 100).inserts] == [100]
    again = candidates(3, [entry("https://a.example/story-2")], "Agency")
    plan = plan_batch(again, {hash_key: 7}, known, 100)
    assert not plan.inserts and plan.merged == 1
    # An aggregator's item names its own source: the source's outlet, not the aggregator's, scopes it.
    via = Entry(None, "https://news.example/r/123", "T", LONG, None, None, NOW, "Agency")
    plan = plan_batch(candidates(4, [via], "Aggregator"), {hash_key: 7}, known, 100)
    assert not plan.inserts and plan.merged == 1
