"""Stories, copies, summaries, source lists and timelines over a real store fed by real polls."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from planwatch.config import Settings
from planwatch.errors import NotFoundError, UsageError
from planwatch.models import Entry
from planwatch.services import stories
from planwatch.services.topics import add_topic
from planwatch.store import Store
from planwatch.stories.refresh import refresh_stories
from planwatch.stories.summarize import summarize_texts
from planwatch.timeutil import to_db, utcnow

REPO = Path(__file__).resolve().parent.parent
TOPIC = "ukraine-peace-plan"
WINDOW = timedelta(hours=48)
LABELS = {"corroborated", "single-source", "denied", "unconfirmed", "disputed"}


def by_title(listing: stories.SourceList, prefix: str) -> stories.SourceEntry:
    return next(e for s in listing.stories for e in s.sources if e.report.title.startswith(prefix))


async def test_sources_group_copies_and_citations(demo_store: Store) -> None:
    """Every report once, grouped by story; the syndicated copy is marked and not counted; citations found."""
    listing = await stories.sources(demo_store, TOPIC, WINDOW)
    data = listing.as_json()
    assert set(data) >= {"topic", "since", "stories", "sources"}
    # 16 reports: the Steppe Dispatch's verbatim re-post is its own report (a copy), not "already known",
    # and the day-three report of the Swiss talks, which the query misses, is in by its story.
    assert data["topic"] == TOPIC and data["report_count"] == 16 and data["outlet_count"] == 6
    flat = data["sources"]
    assert len(flat) == len({s["id"] for s in flat}) == 16
    assert any("Swiss talks" in s["title"] for s in flat)
    for source in flat:
        assert {"outlet", "title", "url", "published_at", "first_seen_at", "first", "copy_of", "cites"} <= set(source)
    for story in data["stories"]:
        assert {"id", "title", "outlet_count", "sources"} <= set(story)
        assert sum(s["first"] for s in story["sources"]) == 1
    counts = [s["outlet_count"] for s in data["stories"]]
    assert counts == sorted(counts, reverse=True)

    original = by_title(listing, "Draft US-Russia plan would cut")
    copies = [e for s in listing.stories for e in s.sources if e.report.copy_of == original.report.id]
    assert [c.report.outlet for c in copies] == ["The Harbour Post"]
    leak = by_title(listing, "US and Russian envoys drafted")
    assert leak.report.outlet == "The Northbridge Herald" and leak.first
    reposts = [e for s in listing.stories for e in s.sources if e.report.copy_of == leak.report.id]
    assert [e.report.outlet for e in reposts] == ["Steppe Dispatch"]
    assert original.report.outlet == "Baltic Wire" and original.first
    story = next(s for s in listing.stories if s.id == original.report.story_id)
    assert "The Harbour Post" not in stories.independent_outlets([e.report for e in story.sources])

    assert leak.report.cites == ["Axios"]
    # "...official tells Reuters" (headline), then "Axios and the Financial Times reported" (text).
    assert by_title(listing, "Kyiv got").report.cites == ["Reuters", "Axios", "Financial Times"]
    assert by_title(listing, 'Russia could "lease"').report.cites == ["The Telegraph"]
    # The two Kremlin denials are one story, two independent outlets.
    kremlin = [e for s in listing.stories for e in s.sources if e.report.title.startswith("Kremlin")]
    assert len({e.report.story_id for e in kremlin}) == 1 and len(kremlin) == 2


async def test_summary_points_labels_and_sources(demo_store: Store) -> None:
    """3-7 extractive points, each a sentence of a report, with outlets, links, times and a label."""
    result = await stories.summary(demo_store, TOPIC, WINDOW)
    data = result.as_json()
    assert data["report_count"] == 16 and data["outlet_count"] == 6
    assert data["header"].startswith("16 reports from 6 outlets in the last 2 d")
    assert 3 <= len(data["points"]) <= 7
    texts = {r.text for r in await demo_store.reports.recent(limit=100)} | {
        r.title for r in await demo_store.reports.recent(limit=100)
    }
    published = {r.url: r.published_at for r in await demo_store.reports.recent(limit=100)}
    for point in data["points"]:
        assert point["label"] in LABELS
        assert any(point["text"] in t for t in texts), point["text"]  # extractive: taken from a report
        assert point["sources"] and all(s["outlet"] and s["url"] and s["first_seen_at"] for s in point["sources"])
        assert [s["outlet"] for s in point["sources"]] == [s["outlet"] for s in point["origins"] + point["relays"]]
        assert all(s["role"] == "origin" for s in point["origins"]) and all(s["role"] != "origin" for s in point["relays"])
        credited = {s["via"] for s in point["relays"] if s["role"] == "relay" and s["via"]}
        independent = {s["outlet"] for s in point["origins"]} | credited
        if point["label"] == "corroborated":
            assert len(independent) >= 2
        if point["label"] == "single-source":
            assert len(independent) <= 1
        # "since" is a publication time of one of its outlets' reports, not when Planwatch polled.
        # (an origin's report, or a relay crediting a named outlet: that outlet had it by then)
        timed = point["origins"] + [s for s in point["relays"] if s["role"] == "relay" and s["via"]]
        assert point["first_published_at"] == min(to_db(published[s["url"]]) for s in timed or point["relays"])
    labels = Counter(p["label"] for p in data["points"])
    assert labels["denied"] == 1  # the Kremlin's denial surfaces, once
    denial = next(p for p in data["points"] if p["label"] == "denied")
    assert "Kremlin" in denial["text"] or "Peskov" in denial["text"]
    assert denial["denies"] and "28-point" in denial["denies"]  # it says what it denies: the leak
    # The revised figure: 28 points on day one, 19 after the Swiss talks, the newer marked.
    disputed = next(p for p in data["points"] if p["label"] == "disputed")
    values = {tuple(v["values"]): v for v in disputed["versions"]}
    assert set(values) == {("28",), ("19",)} and values[("19",)]["newest"] and not values[("28",)]["newest"]
    assert values[("28",)]["first_published_at"] < values[("19",)]["first_published_at"]
    # A copy relays its original: never an origin.
    for point in data["points"]:
        assert "The Harbour Post" not in {s["outlet"] for s in point["origins"] if "ft-draft" in (s["url"] or "")}


async def test_timeline_shows_first_report_joins_copies_changes_and_denials(demo_store: Store, settings: Settings) -> None:
    """The story as it unfolded, including a headline that changed later."""
    report = next(r for r in await demo_store.reports.recent(limit=100) if r.title.startswith("EU's Kallas"))
    feed_id = int(await demo_store.scalar("SELECT feed_id FROM reports WHERE id = ?", (report.id,)))
    changed = Entry(report.guid, report.url, "Kallas: no Ukraine plan without Kyiv and Europe", report.text, None,
                    "en", report.published_at, None)  # fmt: skip
    async with demo_store.transaction() as db:
        result = await demo_store.reports.save_batch(db, feed_id=feed_id, outlet=report.outlet, entries=[changed], now=utcnow())
    assert result.updated == 1
    events = (await stories.timeline(demo_store, TOPIC, timedelta(days=7))).as_json()["events"]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "first_report" and events[0]["outlet"] == "The Northbridge Herald"
    assert {"outlet_joined", "copy", "denial", "changed", "new_story", "revised_figure"} <= set(kinds)
    revised = next(e for e in events if e["kind"] == "revised_figure")
    assert revised["detail"].startswith("19 (before: 28)") and "nineteen points" in revised["detail"]
    change = next(e for e in events if e["kind"] == "changed")
    assert "EU's Kallas" in change["detail"] and "Kallas: no Ukraine plan" in change["detail"]
    times = [e["at"] for e in events]
    assert times == sorted(times)
    joined = [e["outlet"] for e in events if e["kind"] in ("first_report", "outlet_joined")]
    # Six outlets join once each; The Harbour Post joins with its own report, not with its copy.
    assert len(joined) == len(set(joined)) == 6
    copy_event = next(e for e in events if e["kind"] == "copy" and e["outlet"] == "The Harbour Post")
    harbour_join = next(e for e in events if e["kind"] == "outlet_joined" and e["outlet"] == "The Harbour Post")
    assert copy_event["outlet"] == "The Harbour Post" and harbour_join["at"] > copy_event["at"]


async def test_empty_windows_unknown_topics_and_bad_durations(store: Store) -> None:
    """No reports: a clear sentence, not an error; an unknown topic lists the known ones."""
    result = await stories.summary(store, TOPIC, timedelta(hours=24))
    assert result.points == [] and result.header == f"nothing reported in the last 24 h for {TOPIC}"
    listing = await stories.sources(store, TOPIC, timedelta(hours=6))
    assert listing.as_json()["stories"] == [] and listing.window.empty_message.endswith("6 h for ukraine-peace-plan")
    with pytest.raises(NotFoundError, match="known topics: ukraine-peace-plan"):
        await stories.summary(store, "nope", timedelta(hours=24))
    with pytest.raises(UsageError, match="count must be between 1 and 100"):
        await stories.latest(store, TOPIC, 0)
    with pytest.raises(UsageError, match="bad query"):
        await stories.search(store, "(unclosed")


async def test_title_only_reports_still_count_as_sources(store: Store) -> None:
    """A headline with no text is a source, and the summary can still quote it."""
    feed = await store.feeds.add("https://t.example/rss", name="Terse Wire", interval_minutes=15, now=utcnow())
    now = utcnow()
    entries = [
        Entry("a", "https://t.example/a", "Witkoff and Dmitriev drafted a 28-point plan for Ukraine, officials say",
              "", None, "en", now - timedelta(hours=2), None),
    ]  # fmt: skip
    async with store.transaction() as db:
        batch = await store.reports.save_batch(db, feed_id=feed.id, outlet="Terse Wire", entries=entries, now=now)
        await store.topics.match_reports(db, batch.new_ids, [], now)
    listing = await stories.sources(store, TOPIC, timedelta(hours=24))
    assert [e.report.outlet for s in listing.stories for e in s.sources] == ["Terse Wire"]
    summary = await stories.summary(store, TOPIC, timedelta(hours=24))
    assert summary.points and summary.points[0].text.startswith("Witkoff and Dmitriev")


async def test_latest_and_search(demo_store: Store) -> None:
    """latest is newest first; search ranks headline matches first and returns a snippet."""
    _, reports = await stories.latest(demo_store, TOPIC, 3)
    assert len(reports) == 3 and reports[0].published_at >= reports[1].published_at >= reports[2].published_at
    hits = await stories.search(demo_store, "Kremlin AND proposals")
    assert hits and hits[0].report.title.startswith("Kremlin")
    assert all(h.snippet for h in hits)
    assert await stories.search(demo_store, "kiev") != []  # alias of Kyiv
    assert await stories.search(demo_store, "Kremlin", timedelta(minutes=1)) == []


async def test_analysis_is_deterministic_and_incremental(demo_store: Store) -> None:
    """Rebuilding from scratch gives the same stories; a later report joins an existing story."""
    await refresh_stories(demo_store)
    first = await demo_store.fetchall("SELECT report_id, story_id, copy_of, cites FROM report_analysis ORDER BY report_id")
    await demo_store.stories.clear()
    await refresh_stories(demo_store)
    again = await demo_store.fetchall("SELECT report_id, story_id, copy_of, cites FROM report_analysis ORDER BY report_id")
    assert [tuple(r) for r in first] == [tuple(r) for r in again]

    kremlin_id = int(await demo_store.scalar("SELECT id FROM reports WHERE title LIKE 'Kremlin says%'"))
    kremlin_story = next(r[1] for r in again if r[0] == kremlin_id)
    feed = await demo_store.feeds.add("https://late.example/rss", name="Late Wire", interval_minutes=15, now=utcnow())
    late = Entry("late-1", "https://late.example/1", "Kremlin spokesman Peskov says no new peace proposals exist",
                 "Kremlin spokesman Dmitry Peskov told journalists that there were no new proposals on Ukraine and "
                 "that the understandings of the Alaska summit with the US still applied.", None, "en",
                 utcnow() - timedelta(hours=1), None)  # fmt: skip
    async with demo_store.transaction() as db:
        batch = await demo_store.reports.save_batch(db, feed_id=feed.id, outlet="Late Wire", entries=[late], now=utcnow())
    result = await refresh_stories(demo_store)
    assert result.analysed == 1 and result.new_stories == 0
    assert (
        await demo_store.scalar("SELECT story_id FROM report_analysis WHERE report_id = ?", (batch.new_ids[0],)) == kremlin_story
    )


async def test_copy_that_arrives_first_is_relinked_to_the_earlier_original(store: Store) -> None:
    """A syndicated copy polled before the original: the earlier publication becomes the original."""
    text = (
        "Port workers in the northern harbour walked out on Monday over pay, halting container traffic and "
        "stranding dozens of ships at anchor, union leaders and the port authority said in statements. "
    ) * 2
    now = utcnow()
    copy_feed = await store.feeds.add("https://copy.example/rss", name="Copy Daily", interval_minutes=15, now=now)
    orig_feed = await store.feeds.add("https://orig.example/rss", name="Origin Wire", interval_minutes=15, now=now)
    copy = Entry("c", "https://copy.example/strike", "Port strike halts traffic", text + " Provided by Origin Wire.",
                 None, "en", now - timedelta(hours=1), None)  # fmt: skip
    original = Entry("o", "https://orig.example/strike", "Port strike halts container traffic", text, None, "en",
                     now - timedelta(hours=3), None)  # fmt: skip
    async with store.transaction() as db:
        c = await store.reports.save_batch(db, feed_id=copy_feed.id, outlet="Copy Daily", entries=[copy], now=now)
    await refresh_stories(store)
    async with store.transaction() as db:
        o = await store.reports.save_batch(db, feed_id=orig_feed.id, outlet="Origin Wire", entries=[original], now=now)
    await refresh_stories(store)
    rows: dict[int, int | None] = {r[0]: r[1] for r in await store.fetchall("SELECT report_id, copy_of FROM report_analysis")}
    assert rows[o.new_ids[0]] is None and rows[c.new_ids[0]] == o.new_ids[0]


async def test_dev_clusters_group_into_their_own_stories(store: Store) -> None:
    """The evaluation clusters (different events, several outlets each) are grouped event by event."""
    clusters = [json.loads(line) for line in (REPO / "bench/data/dev_clusters.jsonl").read_text().splitlines() if line]
    now = utcnow()
    owner: dict[int, str] = {}
    for c_index, cluster in enumerate(clusters):
        for d_index, doc in enumerate(cluster["documents"]):
            title, text = (doc.get("title", ""), doc["text"]) if isinstance(doc, dict) else ("", doc)
            feed = await store.feeds.add(f"https://o{c_index}-{d_index}.example/rss", name=None, interval_minutes=15, now=now)
            entry = Entry(None, f"https://o{c_index}-{d_index}.example/1", title or text[:80], text, None, "en",
                          now - timedelta(hours=6 - d_index * 0.5), None)  # fmt: skip
            async with store.transaction() as db:
                batch = await store.reports.save_batch(db, feed_id=feed.id, outlet=f"Outlet {d_index}", entries=[entry], now=now)
            owner[batch.new_ids[0]] = cluster["id"]
    await refresh_stories(store)
    rows = await store.fetchall("SELECT report_id, story_id FROM report_analysis")
    story_of = {r[0]: r[1] for r in rows}
    clusters_in_story: dict[int, set[str]] = {}
    for report_id, story_id in story_of.items():
        clusters_in_story.setdefault(story_id, set()).add(owner[report_id])
    assert all(len(c) == 1 for c in clusters_in_story.values()), "a story mixes two events"
    for cluster in clusters:
        members = [story_of[r] for r, c in owner.items() if c == cluster["id"]]
        largest = Counter(members).most_common(1)[0][1]
        # Two of six paraphrases of the port strike share under a tenth of their weighted words with
        # the rest (a minister's statement, a figures round-up): they may start stories of their own.
        assert largest / len(members) >= 2 / 3, f"{cluster['id']}: split into {Counter(members)}"


def test_summarize_texts_respects_the_budget_and_is_extractive() -> None:
    """The evaluation entry point: at most N words, every sentence from a document."""
    docs = [
        ("Storm hits coast", "A storm with winds of 150 km/h hit the northern coast on Tuesday. Thousands lost power. "
         "Officials opened 12 shelters."),
        ("Coastal storm", "Winds of 150 km/h battered the northern coast on Tuesday, cutting power to thousands. "
         "The mayor said schools would stay shut."),
    ]  # fmt: skip
    summary = summarize_texts(docs, max_words=20)
    assert 0 < len(summary.split()) <= 20
    assert summary.split()[0] in ("A", "Winds")
    assert summarize_texts([], max_words=50) == ""


async def test_since_window_is_by_publication_time(store: Store) -> None:
    """The window counts what was published in it, not a backlog first seen now."""
    feed = await store.feeds.add("https://b.example/rss", name="Backlog", interval_minutes=15, now=utcnow())
    old = Entry("old", "https://b.example/old", "Witkoff 28-point plan for Ukraine drafted", "Old text about the plan.",
                None, "en", datetime.now(UTC) - timedelta(days=5), None)  # fmt: skip
    async with store.transaction() as db:
        batch = await store.reports.save_batch(db, feed_id=feed.id, outlet="Backlog", entries=[old], now=utcnow())
        await store.topics.match_reports(db, batch.new_ids, [], utcnow())
    assert (await stories.sources(store, TOPIC, timedelta(hours=24))).stories == []
    assert len((await stories.sources(store, TOPIC, timedelta(days=7))).stories) == 1


def test_a_story_stops_growing_after_a_week() -> None:
    """Daily coverage of one topic for weeks becomes weekly stories, not one that chains forever."""
    from planwatch.stories.grouping import StoryIndex, report_features

    index = StoryIndex()
    assigned: list[int] = []
    next_id = 1
    for day in range(21):
        features = report_features("Witkoff and Dmitriev discuss the 28-point plan", "Talks on the Ukraine plan went on today.")
        story, vec = index.assign(features, day * 86400.0)
        if story is None:
            story, next_id = next_id, next_id + 1
        index.add(story, vec, day * 86400.0)
        assigned.append(story)
    assert len(set(assigned)) == 3 and assigned[:8] == [assigned[0]] * 8


WIRE = [
    "Dock workers at the northern harbour walked off the job on Monday in a dispute over pay, halting "
    "container traffic and leaving dozens of cargo ships waiting at anchor outside the breakwater.",
    "The union said the strike would last until the port authority returned to talks, and that its members "
    "had rejected an offer of a two per cent rise as an insult after three years of frozen wages.",
    "The port authority said in a statement that it regretted the walkout and that emergency cargo, "
    "including medicine and fuel for hospitals, would still be handled by managers and volunteers.",
    "Shipping agents said the backlog could take a week to clear even if the strike ended at once, and "
    "several carriers were already diverting vessels to the southern terminal two hundred miles away.",
]


async def _one(store: Store, outlet: str, slug: str, title: str, paragraphs: list[str], hours_ago: float) -> int:
    now = utcnow()
    feed = await store.feeds.add(f"https://{slug}.example/rss", name=outlet, interval_minutes=15, now=now)
    entry = Entry(None, f"https://{slug}.example/strike", title, "\n".join(paragraphs), None, "en",
                  now - timedelta(hours=hours_ago), None)  # fmt: skip
    async with store.transaction() as db:
        batch = await store.reports.save_batch(db, feed_id=feed.id, outlet=outlet, entries=[entry], now=now)
    return batch.new_ids[0]


async def test_a_wire_story_under_an_outlets_own_intro_is_a_copy(store: Store) -> None:
    """Syndication rewrites the edges: a new headline, the outlet's own intro, paragraphs trimmed. It is
    still a copy of the wire story; an outlet's own report of the same strike, that shares a phrase or
    two, is not."""
    wire = await _one(store, "Harbour Wire", "wire", "Dock strike halts harbour traffic", WIRE, 5)
    syndicated = await _one(store, "Evening Gazette", "gazette", "Ships stranded as dockers walk out", [
        "Readers in the north will know the harbour well; this morning it fell silent.",
        WIRE[0], WIRE[1], WIRE[3],
    ], 3)  # fmt: skip
    own = await _one(store, "Coast Daily", "coast", "Harbour strike: what the dockers want", [
        "The walkout that began on Monday at the northern harbour is the first in a decade, and the "
        "union's leaders told Coast Daily they were ready to stay out for weeks.",
        "Members had rejected an offer of a two per cent rise, the union said; managers are handling "
        "emergency cargo while carriers divert vessels south.",
    ], 2)  # fmt: skip
    await refresh_stories(store)
    rows = {r[0]: r[1] for r in await store.fetchall("SELECT report_id, copy_of FROM report_analysis")}
    assert rows == {wire: None, syndicated: wire, own: None}


HARBOUR = [
    ("Dock strike halts harbour traffic", "Dock workers at the northern harbour walked out over pay on Monday, "
     "halting container traffic, the dockers union said."),
    ("Harbour talks collapse as dock workers reject two per cent", "Talks between the port authority and the "
     "dockers union collapsed after the northern harbour dock workers, out over pay since Monday, rejected a two "
     "per cent rise on Tuesday; container traffic is still halted."),
    ("Northern harbour: union rejects two per cent rise, talks collapse", "The northern harbour dispute "
     "deepened after the union rejected a two per cent rise and talks with the port authority collapsed."),
]  # fmt: skip
OTHER = ("Library reopens after roof repairs", "The city library reopened on Tuesday after a year of roof "
         "repairs, with a new reading room for children and longer weekend hours.")  # fmt: skip


async def _report(store: Store, n: int, title: str, text: str, hours_ago: float) -> int:
    now = utcnow()
    feed = await store.feeds.add(f"https://m{n}.example/rss", name=f"Outlet {n}", interval_minutes=15, now=now)
    entry = Entry(None, f"https://m{n}.example/{n}", title, text, None, "en", now - timedelta(hours=hours_ago), None)
    async with store.transaction() as db:
        batch = await store.reports.save_batch(db, feed_id=feed.id, outlet=f"Outlet {n}", entries=[entry], now=now)
        await store.topics.match_reports(db, batch.new_ids, [], now)
    return batch.new_ids[0]


async def _members(store: Store, topic: str) -> dict[int, str]:
    rows = await store.fetchall(
        "SELECT rt.report_id, rt.matched_by FROM report_topics rt JOIN topics t ON t.id = rt.topic_id WHERE t.name = ?", (topic,)
    )
    return {r[0]: r[1] for r in rows}


async def test_a_report_that_joins_a_matched_story_belongs_to_the_topic(store: Store) -> None:
    """Story-level membership: the day-two reports of the strike say "talks collapse", not the
    query's "strike", yet they are the story the topic follows; an unrelated report stays out, and a
    query change re-derives membership from the new matches."""
    await add_topic(store, "strike", "strike OR walkout")
    first = await _report(store, 1, *HARBOUR[0], hours_ago=20)
    second = await _report(store, 2, *HARBOUR[1], hours_ago=8)
    other = await _report(store, 4, *OTHER, hours_ago=7)
    assert await _members(store, "strike") == {first: "query"}
    await refresh_stories(store)
    stories_of = {r[0]: r[1] for r in await store.fetchall("SELECT report_id, story_id FROM report_analysis")}
    assert stories_of[first] == stories_of[second] != stories_of[other]
    assert await _members(store, "strike") == {first: "query", second: "story"}
    # A later report of the story joins as it is analysed; every reader sees it (sources, summary).
    third = await _report(store, 3, *HARBOUR[2], hours_ago=6)
    await refresh_stories(store)
    assert await _members(store, "strike") == {first: "query", second: "story", third: "story"}
    listing = await stories.sources(store, "strike", timedelta(days=3))
    assert {e.report.id for s in listing.stories for e in s.sources} == {first, second, third}
    # The query now matches only the library: the strike's story membership goes with its match.
    topic = await store.topics.get("strike")
    await store.topics.update(topic, query="library", now=utcnow())
    assert await _members(store, "strike") == {other: "query"}
    # A query match wins over a story membership.
    await store.topics.update(topic, query="library OR collapse", now=utcnow())
    assert await _members(store, "strike") == {other: "query", second: "query", third: "query", first: "story"}


async def test_topics_explain_says_query_story_or_neither(store: Store) -> None:
    """`planwatch topics explain` (and its JSON): by the report's own words, by its story and the
    report that brought the story in, or not at all."""
    from planwatch.services.topics import explain

    await add_topic(store, "strike", "strike OR walkout")
    first = await _report(store, 1, *HARBOUR[0], hours_ago=20)
    second = await _report(store, 2, *HARBOUR[1], hours_ago=8)
    other = await _report(store, 4, *OTHER, hours_ago=7)
    await refresh_stories(store)
    by_query, by_story, neither = [await explain(store, "strike", r) for r in (first, second, other)]
    assert by_query.matched_by == "query" and by_query.terms_found == ("strike",)
    assert "its own words match the query (terms found: strike)" in by_query.line()
    assert by_story.matched_by == "story" and by_story.via_report == first and by_story.terms_found == ()
    assert f"report #{first} of that story matches the query" in by_story.line()
    assert neither.matched_by is None and neither.as_json()["member"] is False
    assert "is not in strike" in neither.line()
    with pytest.raises(NotFoundError, match="no report #999"):
        await explain(store, "strike", 999)
