"""Brings the story analysis up to date with the reports: called after each scheduler tick and before
every story query, so it only ever has the newest reports to look at. A story query never waits for
the write lock for it (another process may be writing for seconds): see current_analysis.

For each report not yet analysed (oldest first): its terms, the outlets it cites, the story it
belongs to, and whether it copies an earlier report. A changed report is analysed again but keeps its
story. Everything for a batch is written in one transaction."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import aiosqlite

from planwatch.store import Store
from planwatch.store.stories import AnalysedReport, AnalysisOverlay, AnalysisRow, PendingReport, ProfileMatchRow
from planwatch.stories.citations import extract_citations
from planwatch.stories.grouping import (
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW_SECONDS,
    StoryIndex,
    decode_features,
    encode_features,
    report_features,
)
from planwatch.stories.outlets import OutletRegistry, registry
from planwatch.stories.text import containment, normalize_title, shingles
from planwatch.timeutil import utcnow
from planwatch.topics.profile import DEFAULT_THRESHOLD as PROFILE_THRESHOLD
from planwatch.topics.profile import TopicProfile, build_profiles, seeds_by_topic

log = logging.getLogger(__name__)

BATCH = 2_000
# Share of the shorter text's 4-word shingles found in the other. A syndicated wire story with the
# outlet's own intro and trimmed paragraphs keeps 0.5-0.8 of them; two outlets' own reports of one
# event share under 0.25 (week_dev: copies 0.62-1.0, other pairs at most 0.24): 0.45 sits between.
COPY_CONTAINMENT = 0.45
MIN_SHINGLES = 12  # below this a text is too short to call a copy by its text; titles decide
MIN_SAMPLED = 6  # sampled distinctive shingles needed to judge by the sample
BOILERPLATE_REPORTS = 25  # a shingle in more reports than this is boilerplate


@dataclass(frozen=True, slots=True)
class RefreshResult:
    analysed: int
    new_stories: int
    copies: int


@dataclass(slots=True)
class _Doc:
    id: int
    title: str
    text: str
    published: float
    story_id: int | None
    copy_of: int | None
    _shingles: set[int] | None = None

    @property
    def shingles(self) -> set[int]:
        if self._shingles is None:
            self._shingles = shingles(self.text)
        return self._shingles


def _sample(hashes: set[int]) -> set[int]:
    return {h for h in hashes if h % 4 == 0}


def _is_copy(a: _Doc, b: _Doc) -> bool:
    if len(a.shingles) >= MIN_SHINGLES and len(b.shingles) >= MIN_SHINGLES:
        return containment(a.shingles, b.shingles) >= COPY_CONTAINMENT
    # Title-only or very short items: the same headline word for word is a copy.
    return normalize_title(a.title) == normalize_title(b.title) and len(normalize_title(a.title).split()) >= 4


class _Refresher:
    def __init__(self, window: list[AnalysedReport], threshold: float, window_seconds: float, outlets: OutletRegistry) -> None:
        self.index = StoryIndex(threshold=threshold, window_seconds=window_seconds)
        self.outlets = outlets
        self.word_vectors: dict[int, dict[str, float]] = {}  # what topic profiles are built from
        self.docs: dict[int, _Doc] = {}
        self.by_title: dict[str, list[int]] = {}
        # A sample of each text's shingles (1 in 4, by hash) -> the docs that have it: copies share many.
        self.by_shingle: dict[int, list[int]] = {}
        loaded = [(r, decode_features(r.terms)) for r in window]
        for _, features in loaded:
            self.index.observe(features)
        for report, features in loaded:
            doc = _Doc(report.id, report.title, report.text, report.published_at.timestamp(), report.story_id, report.copy_of)
            self._remember(doc)
            if report.story_id is not None:
                vectors = self.index.vectors(features)
                self.word_vectors[report.id] = vectors.words
                self.index.add(report.story_id, vectors, doc.published, self.outlet(report.outlet))

    def outlet(self, name: str) -> str:
        """As citations name it, so that a report citing "Reuters" finds the story Reuters reported in."""
        return self.outlets.canonical(name) or name

    def _remember(self, doc: _Doc) -> None:
        self.docs[doc.id] = doc
        self.by_title.setdefault(normalize_title(doc.title), []).append(doc.id)
        for h in _sample(doc.shingles):
            self.by_shingle.setdefault(h, []).append(doc.id)

    def distinctive(self, doc: _Doc) -> set[int]:
        """Sampled shingles that few reports share: boilerplate (a footer, a standard paragraph that
        every report of an outlet carries) says nothing about copying."""
        return {h for h in _sample(doc.shingles) if len(self.by_shingle.get(h, ())) <= BOILERPLATE_REPORTS}

    def is_copy(self, a: _Doc, b: _Doc) -> bool:
        sa, sb = self.distinctive(a), self.distinctive(b)
        if len(sa) >= MIN_SAMPLED and len(sb) >= MIN_SAMPLED:
            return containment(sa, sb) >= COPY_CONTAINMENT
        return _is_copy(a, b)

    def original_of(self, doc: _Doc) -> _Doc | None:
        """The earliest report (by publication, then id) that this one copies, among likely candidates:
        the same headline, or a good share of the same sampled shingles."""
        candidate_ids = set(self.by_title.get(normalize_title(doc.title), ()))
        sample = self.distinctive(doc)
        if sample:
            shared: Counter[int] = Counter()
            for h in sample:
                shared.update(self.by_shingle.get(h, ()))
            needed = max(2, int(len(sample) * COPY_CONTAINMENT * 0.5))
            candidate_ids |= {other for other, count in shared.items() if count >= needed}
        candidate_ids.discard(doc.id)
        found = [self.docs[i] for i in sorted(candidate_ids) if self.is_copy(doc, self.docs[i])]
        if not found:
            return None
        first = min(found, key=lambda d: (d.published, d.id))
        while first.copy_of is not None and first.copy_of in self.docs:
            first = self.docs[first.copy_of]
        return first


# While a batch is analysed, new stories are numbered from here: above every stored id and in the order
# they begin, as the ids the database then gives them are, so that ties between stories go the same way.
PROVISIONAL = 1 << 62


@dataclass(frozen=True, slots=True)
class BatchAnalysis:
    """One batch analysed, not yet stored: the same for the writer and for a reader that cannot write."""

    rows: list[AnalysisRow]  # a story id from PROVISIONAL up is new story number (id - PROVISIONAL)
    founders: list[int]  # the report that began each new story, in order
    relinked: dict[int, int | None]  # earlier reports whose copy_of changes (a copy had arrived first)
    copies: int
    profile_matches: list[ProfileMatchRow]  # new reports like a topic's seeds, that its query missed
    # topic id -> reports that story membership and the profile make its members, as stored or not:
    # what a read that cannot store the batch adds to the topic's query matches
    members: dict[int, frozenset[int]]


def analyse_batch(
    pending: list[PendingReport],
    window: list[AnalysedReport],
    previous: dict[int, AnalysedReport],
    outlets: OutletRegistry,
    threshold: float,
    window_seconds: float,
    seeds: dict[int, set[int]] | None = None,
    excluded: set[tuple[int, int]] | None = None,
) -> BatchAnalysis:
    """Pending reports (oldest first) against the analysed ones of the window before them; no I/O.
    `seeds`: report id -> topics it seeds (query matches, pins); `excluded`: (topic, report) pairs."""
    state = _Refresher(window, threshold, window_seconds, outlets)
    rows: list[AnalysisRow] = []
    founders: list[int] = []
    relinked: set[int] = set()
    copies = 0
    fresh: list[int] = []  # new reports (not re-analysed ones): the ones profiles may match
    for report in pending:
        features = report_features(report.title, report.text)
        stored = encode_features(features)
        cites = extract_citations(f"{report.title}\n{report.text}", own_outlet=report.outlet, outlets=outlets)
        if report.analysed and report.id in previous:  # a changed report keeps its story and copy status
            old = previous[report.id]
            rows.append(AnalysisRow(report.id, report.content_hash, old.story_id, old.copy_of, stored, cites))
            continue
        published = report.published_at.timestamp()
        story_id, vec = state.index.assign(features, published, cites)
        if story_id is None:
            story_id = PROVISIONAL + len(founders)
            founders.append(report.id)
        state.index.add(story_id, vec, published, state.outlet(report.outlet))
        state.word_vectors[report.id] = vec.words
        fresh.append(report.id)
        doc = _Doc(report.id, report.title, report.text, published, story_id, None)
        original = state.original_of(doc)
        if original is not None and (original.published, original.id) > (doc.published, doc.id):
            # The copy arrived first: the earlier publication is the original, and its copies follow it.
            original.copy_of = doc.id
            relinked.add(original.id)
            for other in state.docs.values():
                if other.copy_of == original.id:
                    other.copy_of = doc.id
                    relinked.add(other.id)
        elif original is not None:
            doc.copy_of = original.id
            copies += 1
        state._remember(doc)
        rows.append(AnalysisRow(report.id, report.content_hash, story_id, doc.copy_of, stored, cites))
    # A report of this batch may have been relinked after its row was made: its final copy_of counts.
    rows = [replace(r, copy_of=state.docs[r.report_id].copy_of) if r.report_id in state.docs else r for r in rows]
    in_batch = {r.report_id for r in rows}
    earlier = {rid: state.docs[rid].copy_of for rid in sorted(relinked - in_batch)}
    matches = _profile_matches(state, fresh, seeds or {}, excluded or set())
    members = _members(state, seeds or {}, excluded or set(), matches)
    return BatchAnalysis(rows, founders, earlier, copies, matches, members)


def _members(
    state: _Refresher, seeds: dict[int, set[int]], excluded: set[tuple[int, int]], matches: list[ProfileMatchRow]
) -> dict[int, frozenset[int]]:
    """The story members (every report of a story holding a seed) and profile members, by topic."""
    seeded: dict[int, set[int]] = {}
    for report_id, topics in seeds.items():
        doc = state.docs.get(report_id)
        if doc is not None and doc.story_id is not None:
            for topic_id in topics:
                seeded.setdefault(topic_id, set()).add(doc.story_id)
    members: dict[int, set[int]] = {}
    for doc in state.docs.values():
        for topic_id, stories in seeded.items():
            if doc.story_id in stories and (topic_id, doc.id) not in excluded:
                members.setdefault(topic_id, set()).add(doc.id)
    for m in matches:
        members.setdefault(m.topic_id, set()).add(m.report_id)
    return {topic_id: frozenset(ids) for topic_id, ids in members.items()}


def _profile_matches(
    state: _Refresher, fresh: list[int], seeds: dict[int, set[int]], excluded: set[tuple[int, int]]
) -> list[ProfileMatchRow]:
    """New reports like a topic's profile, built from the window's seeds (planwatch.topics.profile)."""
    profiles = build_profiles(seeds_by_topic(seeds, state.word_vectors, state.word_vectors))
    found: list[ProfileMatchRow] = []
    for report_id in fresh:
        mine = seeds.get(report_id, set())
        for topic_id, profile in profiles.items():
            if topic_id in mine or (topic_id, report_id) in excluded:
                continue
            like = profile.likeness(state.word_vectors[report_id])
            if like.matches(PROFILE_THRESHOLD):
                found.append(ProfileMatchRow(report_id, topic_id, like.evidence()))
    return found


async def current_profiles(
    store: Store, *, now: datetime | None = None, window_seconds: float = DEFAULT_WINDOW_SECONDS
) -> dict[int, TopicProfile]:
    """topic id -> the profile a report arriving now is matched against (for `topics profile`)."""
    since = (now or utcnow()) - timedelta(seconds=window_seconds)
    window = await store.stories.window(since, [])
    state = _Refresher(window, DEFAULT_THRESHOLD, window_seconds, registry(await store.outlets.extra()))
    seeds = await store.stories.topic_seeds(since)
    return build_profiles(seeds_by_topic(seeds, state.word_vectors, state.word_vectors))


def _numbered(row: AnalysisRow, story_ids: list[int]) -> AnalysisRow:
    if row.story_id is None or row.story_id < PROVISIONAL:
        return row
    return replace(row, story_id=story_ids[row.story_id - PROVISIONAL])


async def _analyse(
    store: Store, pending: list[PendingReport], outlets: OutletRegistry, threshold: float, window_seconds: float
) -> BatchAnalysis:
    oldest = min(p.published_at for p in pending)
    window = await store.stories.window(oldest - timedelta(seconds=window_seconds), [p.id for p in pending])
    previous = await store.stories.reports_by_id([p.id for p in pending if p.analysed])
    seeds = await store.stories.topic_seeds(oldest - timedelta(seconds=window_seconds))
    excluded = await store.stories.topic_exclusions()
    return analyse_batch(pending, window, previous, outlets, threshold, window_seconds, seeds, excluded)


async def refresh_stories(
    store: Store,
    *,
    now: datetime | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    window_seconds: float = DEFAULT_WINDOW_SECONDS,
) -> RefreshResult:
    now = now or utcnow()
    total = RefreshResult(0, 0, 0)
    outlets = registry(await store.outlets.extra())
    while True:
        result = await _refresh_batch(store, now, threshold, window_seconds, outlets)
        total = RefreshResult(
            total.analysed + result.analysed, total.new_stories + result.new_stories, total.copies + result.copies
        )
        if result.analysed < BATCH:
            return total


async def _refresh_batch(
    store: Store, now: datetime, threshold: float, window_seconds: float, outlets: OutletRegistry
) -> RefreshResult:
    """One batch. The analysis (seconds of CPU when the window holds thousands of reports) runs before
    the write lock is taken, so that other processes wait only for the write itself. It is stored if no
    other refresh (a tick, a page view, another process) stored analysis meanwhile; if one did, the
    batch is read and analysed again holding the lock, so two refreshes never store the same reports:
    the second finds them done."""
    generation = await store.stories.generation()  # first: every read below is at least this recent
    pending = await store.stories.pending(BATCH)
    if not pending:
        return RefreshResult(0, 0, 0)
    found = await _analyse(store, pending, outlets, threshold, window_seconds)
    async with store.transaction() as db:
        if await store.stories.generation() != generation:
            pending = await store.stories.pending(BATCH)
            if not pending:
                return RefreshResult(0, 0, 0)
            found = await _analyse(store, pending, outlets, threshold, window_seconds)
        new_stories = await _save(store, db, found, now)
    return RefreshResult(len(found.rows), new_stories, found.copies)


async def _save(store: Store, db: aiosqlite.Connection, found: BatchAnalysis, now: datetime) -> int:
    """Inside the caller's write transaction; returns how many stories it began."""
    await store.stories.next_generation(db, now)
    story_ids = [await store.stories.new_story(db, now) for _ in found.founders]
    rows = [_numbered(r, story_ids) for r in found.rows]
    await store.stories.save_analysis(db, rows, now)
    await store.stories.set_copy_of(db, found.relinked)
    await store.stories.add_profile_matches(db, found.profile_matches, now)
    await store.stories.spread_topics(db, (r.story_id for r in rows if r.story_id is not None), now)
    log.info("stories: analysed %d reports, %d new stories, %d copies", len(found.rows), len(story_ids), found.copies)
    return len(story_ids)


@asynccontextmanager
async def current_analysis(
    store: Store,
    *,
    now: datetime | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    window_seconds: float = DEFAULT_WINDOW_SECONDS,
) -> AsyncIterator[AnalysisOverlay | None]:
    """For a read: the story analysis up to the newest report, never waiting for the write lock.

    Everything runs in one read snapshot (Store.snapshot), the caller's own queries too. Nothing
    pending (the usual case: the service refreshes after every poll that stored something): nothing
    more. Reports pending: they are analysed, and stored if the database is free at that moment (no
    other writer, nothing committed since the snapshot began; SQLite says so at once), so the next
    reader finds them done; the caller then reads them stored (yields None). Otherwise the caller
    gets the analysis as an overlay that its reads apply: the same answer a refresh would have given,
    and nothing waits or fails. The one difference: a story only the overlay knows has no id yet; it
    shows as minus the id of its first report, as a report without a story already does in a story
    list. Everything pending is analysed in one pass, where the service stores batches of BATCH
    reports: past that size the two can differ at a batch's edge."""
    async with store.snapshot() as snapshot:
        pending = await store.stories.pending(None)
        if not pending:
            yield None
            return
        found = await _analyse(store, pending, registry(await store.outlets.extra()), threshold, window_seconds)
        if await snapshot.try_write():
            await _save(store, snapshot.db, found, now or utcnow())
            yield None
            return
        unstored = [-report_id for report_id in found.founders]
        yield AnalysisOverlay({r.report_id: _numbered(r, unstored) for r in found.rows}, found.relinked, found.members)
