"""Brings the story analysis up to date with the reports: called after each scheduler tick and before
every story query, so it only ever has the newest reports to look at. A story query never waits for
the write lock for it (another process may be writing for seconds): see current_analysis.

For each report not yet analysed (oldest first): its terms, the outlets it cites, the story it
belongs to, and whether it copies an earlier report. A changed report is analysed again but keeps its
story. Everything for a batch is written in one transaction."""

from __future__ import annotations

import heapq
import logging
import math
import weakref
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

import aiosqlite

from planwatch.store import Store
from planwatch.store.stories import AnalysedReport, AnalysisOverlay, AnalysisRow, PendingReport, ProfileMatchRow
from planwatch.stories.citations import extract_citations
from planwatch.stories.grouping import (
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW_SECONDS,
    SCALE,
    StoryIndex,
    Vector,
    Vectors,
    decode_features,
    decode_vectors,
    encode_features,
    encode_vectors,
    reacts,
    report_features,
)
from planwatch.stories.outlets import OutletRegistry, registry
from planwatch.stories.text import containment, normalize_title, shingles
from planwatch.timeutil import utcnow
from planwatch.topics.profile import DEFAULT_THRESHOLD as PROFILE_THRESHOLD
from planwatch.topics.profile import TopicProfile, build_profiles, seeds_by_topic

log = logging.getLogger(__name__)
_K = TypeVar("_K")

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


# A text's shingles are sampled (those whose hash is divisible by this) for the copy index: copies share
# many of them, and the index stays a fraction of the texts' size.
SAMPLE_EVERY = 4
FULL_SHINGLES_KEPT = 64  # a text with fewer shingles keeps them all: a sample of them is too coarse


@dataclass(slots=True)
class _Doc:
    """A window report as the copy detection and the story index need it (its text is not kept)."""

    id: int
    title: str  # normalised
    published: float
    story_id: int | None
    copy_of: int | None
    outlet: str
    vectors: Vectors
    sample: frozenset[int]
    size: int  # shingles of the text
    full: frozenset[int] | None  # all of them, for a short text


def _doc(
    report_id: int, title: str, text: str, published: float, story_id: int | None, copy_of: int | None, outlet: str,
    vectors: Vectors,
) -> _Doc:  # fmt: skip
    hashes = shingles(text)
    sample = frozenset(h for h in hashes if h % SAMPLE_EVERY == 0)
    full = frozenset(hashes) if len(hashes) < FULL_SHINGLES_KEPT else None
    return _Doc(report_id, normalize_title(title), published, story_id, copy_of, outlet, vectors, sample, len(hashes), full)


def _is_copy(a: _Doc, b: _Doc) -> bool:
    if a.size >= MIN_SHINGLES and b.size >= MIN_SHINGLES:
        if a.full is not None and b.full is not None:
            return containment(a.full, b.full) >= COPY_CONTAINMENT
        return containment(a.sample, b.sample) >= COPY_CONTAINMENT
    # Title-only or very short items: the same headline word for word is a copy.
    return a.title == b.title and len(a.title.split()) >= 4


def _unit(vec: Vector) -> dict[str, float]:
    return {t: w / SCALE for t, w in vec.items()}


class _Refresher:
    """The window's reports and stories: what a pending report is compared with.

    Built from the stored analysis (`load`), then kept from batch to batch by the process that stores
    the batches (see _Cache): a batch adds its reports, and the reports that fall out of the window
    are taken out again, so that a batch costs what its own reports cost. Because every report keeps
    the weights it was grouped with, the kept index and one loaded afresh are the same."""

    def __init__(self, threshold: float, window_seconds: float, outlets: OutletRegistry) -> None:
        self.index = StoryIndex(threshold=threshold, window_seconds=window_seconds)
        self.outlets = outlets
        self.docs: dict[int, _Doc] = {}
        self.by_title: dict[str, set[int]] = {}
        # A sample of each text's shingles -> the docs that have it: copies share many.
        self.by_shingle: dict[int, set[int]] = {}
        self.by_story: dict[int, set[int]] = {}
        self.copies: dict[int, set[int]] = {}  # original -> the docs that copy it
        self.expiry: list[tuple[float, int]] = []  # (published, id), a heap
        self.since = -math.inf  # the window's start: no doc is older

    @classmethod
    def load(
        cls, window: list[AnalysedReport], since: float, threshold: float, window_seconds: float, outlets: OutletRegistry
    ) -> _Refresher:
        state = cls(threshold, window_seconds, outlets)
        state.since = since
        stored = [decode_vectors(r.vectors) for r in window]
        # An analysis stored before the weights were (migration 0011) is weighed with the window's
        # frequencies, once every report of the window is counted.
        legacy = [decode_features(r.terms) for r, vec in zip(window, stored, strict=True) if vec is None]
        for vec in stored:
            if vec is not None:
                state.index.count(vec)
        for features in legacy:
            state.index.observe(features)
        weighed = iter([state.index.vectors(f) for f in legacy])
        for report, vec in zip(window, stored, strict=True):
            vectors = vec if vec is not None else next(weighed)
            outlet = state.outlet(report.outlet)
            doc = _doc(report.id, report.title, report.text, report.published_at.timestamp(), report.story_id,
                       report.copy_of, outlet, vectors)  # fmt: skip
            state.add(doc)
        return state

    def outlet(self, name: str) -> str:
        """As citations name it, so that a report citing "Reuters" finds the story Reuters reported in."""
        return self.outlets.canonical(name) or name

    def add(self, doc: _Doc) -> None:
        """A doc joins the window; its terms are in the frequencies already (counted or observed)."""
        self.docs[doc.id] = doc
        self.by_title.setdefault(doc.title, set()).add(doc.id)
        for h in doc.sample:
            self.by_shingle.setdefault(h, set()).add(doc.id)
        if doc.story_id is not None:
            self.index.add(doc.story_id, doc.vectors, doc.published, doc.outlet)
            self.by_story.setdefault(doc.story_id, set()).add(doc.id)
        if doc.copy_of is not None:
            self.copies.setdefault(doc.copy_of, set()).add(doc.id)
        heapq.heappush(self.expiry, (doc.published, doc.id))

    def remove(self, report_id: int) -> None:
        doc = self.docs.pop(report_id, None)
        if doc is None:
            return
        self.index.count(doc.vectors, -1)
        _discard(self.by_title, doc.title, doc.id)
        for h in doc.sample:
            _discard(self.by_shingle, h, doc.id)
        if doc.story_id is not None:
            self.index.remove(doc.story_id, doc.vectors, doc.published, doc.outlet)
            _discard(self.by_story, doc.story_id, doc.id)
        if doc.copy_of is not None:
            _discard(self.copies, doc.copy_of, doc.id)
        # Its heap entry stays and is skipped when it comes up (expire checks the doc is still there).

    def expire(self, since: float) -> None:
        """Take out the docs published before `since` (the window moved on)."""
        while self.expiry and self.expiry[0][0] < since:
            published, report_id = heapq.heappop(self.expiry)
            doc = self.docs.get(report_id)
            if doc is not None and doc.published == published:
                self.remove(report_id)
        self.since = max(self.since, since)

    def set_copy_of(self, doc: _Doc, original: int | None) -> None:
        if doc.copy_of is not None:
            _discard(self.copies, doc.copy_of, doc.id)
        doc.copy_of = original
        if original is not None:
            self.copies.setdefault(original, set()).add(doc.id)

    def renumber(self, ids: dict[int, int]) -> None:
        """Provisional story ids (PROVISIONAL up) to the ids the database gave when the batch was stored."""
        self.index.renumber(ids)
        for old, new in ids.items():
            members = self.by_story.pop(old, set())
            for report_id in members:
                self.docs[report_id].story_id = new
            if members:
                self.by_story[new] = members

    def distinctive(self, doc: _Doc) -> set[int]:
        """Sampled shingles that few reports share: boilerplate (a footer, a standard paragraph that
        every report of an outlet carries) says nothing about copying."""
        return {h for h in doc.sample if len(self.by_shingle.get(h, ())) <= BOILERPLATE_REPORTS}

    def is_copy(self, a: _Doc, b: _Doc, sa: set[int]) -> bool:
        sb = self.distinctive(b)
        if len(sa) >= MIN_SAMPLED and len(sb) >= MIN_SAMPLED:
            return containment(sa, sb) >= COPY_CONTAINMENT
        return _is_copy(a, b)

    def original_of(self, doc: _Doc) -> _Doc | None:
        """The earliest report (by publication, then id) that this one copies, among likely candidates:
        the same headline, or a good share of the same sampled shingles."""
        candidate_ids = set(self.by_title.get(doc.title, ()))
        sample = self.distinctive(doc)
        if sample:
            shared: Counter[int] = Counter()
            for h in sample:
                shared.update(self.by_shingle.get(h, ()))
            needed = max(2, int(len(sample) * COPY_CONTAINMENT * 0.5))
            candidate_ids |= {other for other, count in shared.items() if count >= needed}
        candidate_ids.discard(doc.id)
        found = [self.docs[i] for i in sorted(candidate_ids) if self.is_copy(doc, self.docs[i], sample)]
        if not found:
            return None
        first = min(found, key=lambda d: (d.published, d.id))
        while first.copy_of is not None and first.copy_of in self.docs:
            first = self.docs[first.copy_of]
        return first


def _discard(index: dict[_K, set[int]], key: _K, report_id: int) -> None:
    members = index.get(key)
    if members is not None:
        members.discard(report_id)
        if not members:
            del index[key]


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
    state: _Refresher,
    previous: dict[int, AnalysedReport],
    seeds: dict[int, set[int]] | None = None,
    excluded: set[tuple[int, int]] | None = None,
) -> BatchAnalysis:
    """Pending reports (oldest first) against the window before them (`state`, which takes them in);
    no I/O. `seeds`: report id -> topics it seeds (query matches, pins); `excluded`: (topic, report)."""
    index = state.index
    rows: list[AnalysisRow] = []
    founders: list[int] = []
    relinked: set[int] = set()
    copies = 0
    fresh: list[int] = []  # new reports (not re-analysed ones): the ones profiles may match
    for report in pending:
        state.remove(report.id)  # a changed report is compared as it reads now
        features = report_features(report.title, report.text)
        stored = encode_features(features)
        cites = extract_citations(f"{report.title}\n{report.text}", own_outlet=report.outlet, outlets=state.outlets)
        published = report.published_at.timestamp()
        old = previous.get(report.id) if report.analysed else None
        if old is not None:  # a changed report keeps its story and copy status
            index.observe(features)
            vec = index.vectors(features)
            story_id, copy_of = old.story_id, old.copy_of
        else:
            story_id, vec = index.assign(features, published, cites, reacts(report.title, report.text))
            if story_id is None:
                story_id = PROVISIONAL + len(founders)
                founders.append(report.id)
            fresh.append(report.id)
            copy_of = None
        doc = _doc(report.id, report.title, report.text, published, story_id, copy_of, state.outlet(report.outlet), vec)
        if old is None:
            original = state.original_of(doc)
            if original is not None and (original.published, original.id) > (doc.published, doc.id):
                # The copy arrived first: the earlier publication is the original, and its copies follow it.
                for other in sorted(state.copies.get(original.id, ())):
                    state.set_copy_of(state.docs[other], doc.id)
                    relinked.add(other)
                state.set_copy_of(original, doc.id)
                relinked.add(original.id)
            elif original is not None:
                doc.copy_of = original.id
                copies += 1
        state.add(doc)
        rows.append(AnalysisRow(report.id, report.content_hash, story_id, doc.copy_of, stored, cites, encode_vectors(vec)))
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
    for topic_id, stories in seeded.items():
        found = members.setdefault(topic_id, set())
        for story_id in stories:
            found.update(r for r in state.by_story.get(story_id, ()) if (topic_id, r) not in excluded)
    for m in matches:
        members.setdefault(m.topic_id, set()).add(m.report_id)
    return {topic_id: frozenset(ids) for topic_id, ids in members.items() if ids}


def _seed_vectors(state: _Refresher, seeds: dict[int, set[int]]) -> dict[int, dict[str, float]]:
    return {rid: _unit(state.docs[rid].vectors.words) for rid in seeds if rid in state.docs}


def _profile_matches(
    state: _Refresher, fresh: list[int], seeds: dict[int, set[int]], excluded: set[tuple[int, int]]
) -> list[ProfileMatchRow]:
    """New reports like a topic's profile, built from the window's seeds (planwatch.topics.profile)."""
    vectors = _seed_vectors(state, seeds)
    profiles = build_profiles(seeds_by_topic(seeds, vectors, vectors))
    found: list[ProfileMatchRow] = []
    if not profiles:
        return found
    for report_id in fresh:
        mine = seeds.get(report_id, set())
        vec = _unit(state.docs[report_id].vectors.words)
        for topic_id, profile in profiles.items():
            if topic_id in mine or (topic_id, report_id) in excluded:
                continue
            like = profile.likeness(vec)
            if like.matches(PROFILE_THRESHOLD):
                found.append(ProfileMatchRow(report_id, topic_id, like.evidence()))
    return found


# --- the window kept between batches -----------------------------------------------------------------
@dataclass(slots=True)
class _Cache:
    """The window state as of a stored analysis generation. Taken (popped) by whoever analyses, so
    that two refreshes in one process never share it, and put back only once the batch it took in is
    committed: any failure leaves no cache, and the next refresh loads the window from the database."""

    key: tuple[object, ...]  # the grouping settings and outlets it was built with
    generation: int
    state: _Refresher


_CACHE: weakref.WeakKeyDictionary[Store, _Cache] = weakref.WeakKeyDictionary()


def _key(outlets: OutletRegistry, threshold: float, window_seconds: float) -> tuple[object, ...]:
    return (threshold, window_seconds, outlets.outlets)


async def _window_state(
    store: Store, pending: list[PendingReport], outlets: OutletRegistry, threshold: float, window_seconds: float,
    generation: int,
) -> _Refresher:  # fmt: skip
    """The window before the pending reports: kept from the last batch this process stored, if it is
    still the database's latest and reaches back far enough; read from the database otherwise."""
    since = min(p.published_at for p in pending) - timedelta(seconds=window_seconds)
    cached = _CACHE.pop(store, None)
    if (
        cached is not None
        and cached.generation == generation
        and cached.key == _key(outlets, threshold, window_seconds)
        and cached.state.since <= since.timestamp()
    ):
        cached.state.expire(since.timestamp())
        return cached.state
    window = await store.stories.window(since, [p.id for p in pending])
    return _Refresher.load(window, since.timestamp(), threshold, window_seconds, outlets)


def _keep(store: Store, state: _Refresher, story_ids: list[int], generation: int) -> None:
    """After the batch is committed as `generation`: the state, with its new stories' real ids."""
    state.renumber({PROVISIONAL + n: story_id for n, story_id in enumerate(story_ids)})
    key = _key(state.outlets, state.index.threshold, state.index.window)
    _CACHE[store] = _Cache(key, generation, state)


async def current_profiles(
    store: Store, *, now: datetime | None = None, window_seconds: float = DEFAULT_WINDOW_SECONDS
) -> dict[int, TopicProfile]:
    """topic id -> the profile a report arriving now is matched against (for `topics profile`)."""
    since = (now or utcnow()) - timedelta(seconds=window_seconds)
    seeds = await store.stories.topic_seeds(since)
    generation = await store.stories.generation()
    cached = _CACHE.get(store)
    if cached is not None and cached.generation == generation and cached.state.since <= since.timestamp():
        state = cached.state  # read here without an await in between: no refresh can be changing it
    else:
        outlets = registry(await store.outlets.extra())
        window = await store.stories.window(since, [])
        state = _Refresher.load(window, since.timestamp(), DEFAULT_THRESHOLD, window_seconds, outlets)
    start = since.timestamp()
    in_window = {rid: topics for rid, topics in seeds.items() if rid in state.docs and state.docs[rid].published >= start}
    vectors = _seed_vectors(state, in_window)
    return build_profiles(seeds_by_topic(in_window, vectors, vectors))


def _numbered(row: AnalysisRow, story_ids: list[int]) -> AnalysisRow:
    if row.story_id is None or row.story_id < PROVISIONAL:
        return row
    return replace(row, story_id=story_ids[row.story_id - PROVISIONAL])


async def _analyse(
    store: Store, pending: list[PendingReport], outlets: OutletRegistry, threshold: float, window_seconds: float,
    generation: int,
) -> tuple[BatchAnalysis, _Refresher]:  # fmt: skip
    # Oldest first, and in an order that does not depend on which feed's fetch finished first (the
    # ids of one poll's reports do): the same reports group the same way in every run.
    pending = sorted(pending, key=lambda p: (p.published_at, p.outlet, p.title, p.id))
    state = await _window_state(store, pending, outlets, threshold, window_seconds, generation)
    oldest = min(p.published_at for p in pending)
    previous = await store.stories.reports_by_id([p.id for p in pending if p.analysed])
    seeds = await store.stories.topic_seeds(oldest - timedelta(seconds=window_seconds))
    excluded = await store.stories.topic_exclusions()
    return analyse_batch(pending, state, previous, seeds, excluded), state


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
    found, state = await _analyse(store, pending, outlets, threshold, window_seconds, generation)
    async with store.transaction() as db:
        latest = await store.stories.generation()
        if latest != generation:
            generation = latest
            pending = await store.stories.pending(BATCH)
            if not pending:
                return RefreshResult(0, 0, 0)
            found, state = await _analyse(store, pending, outlets, threshold, window_seconds, generation)
        story_ids = await _save(store, db, found, now)
    _keep(store, state, story_ids, generation + 1)
    return RefreshResult(len(found.rows), len(story_ids), found.copies)


async def _save(store: Store, db: aiosqlite.Connection, found: BatchAnalysis, now: datetime) -> list[int]:
    """Inside the caller's write transaction; returns the ids of the stories it began."""
    await store.stories.next_generation(db, now)
    story_ids = [await store.stories.new_story(db, now) for _ in found.founders]
    rows = [_numbered(r, story_ids) for r in found.rows]
    await store.stories.save_analysis(db, rows, now)
    await store.stories.set_copy_of(db, found.relinked)
    await store.stories.add_profile_matches(db, found.profile_matches, now)
    await store.stories.spread_topics(db, (r.story_id for r in rows if r.story_id is not None), now)
    log.info("stories: analysed %d reports, %d new stories, %d copies", len(found.rows), len(story_ids), found.copies)
    return story_ids


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
        generation = await store.stories.generation()
        outlets = registry(await store.outlets.extra())
        found, state = await _analyse(store, pending, outlets, threshold, window_seconds, generation)
        if not await snapshot.try_write():
            # Not stored: the state took in reports the database does not have, and is not kept.
            unstored = [-report_id for report_id in found.founders]
            yield AnalysisOverlay({r.report_id: _numbered(r, unstored) for r in found.rows}, found.relinked, found.members)
            return
        story_ids = await _save(store, snapshot.db, found, now or utcnow())
        yield None
    _keep(store, state, story_ids, generation + 1)  # the snapshot has committed
