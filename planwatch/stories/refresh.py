"""Brings the story analysis up to date with the reports: called after each scheduler tick and before
every story query, so it only ever has the newest reports to look at.

For each report not yet analysed (oldest first): its terms, the outlets it cites, the story it
belongs to, and whether it copies an earlier report. A changed report is analysed again but keeps its
story. Everything for a batch is written in one transaction."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from planwatch.store import Store
from planwatch.store.stories import AnalysedReport
from planwatch.stories.citations import extract_citations
from planwatch.stories.grouping import (
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW_SECONDS,
    StoryIndex,
    decode_terms,
    encode_terms,
    report_terms,
)
from planwatch.stories.outlets import OutletRegistry, registry
from planwatch.stories.text import containment, normalize_title, shingles
from planwatch.timeutil import utcnow

log = logging.getLogger(__name__)

BATCH = 2_000
COPY_CONTAINMENT = 0.8  # share of the shorter text's 4-word shingles found in the other
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
    def __init__(self, window: list[AnalysedReport], threshold: float, window_seconds: float) -> None:
        self.index = StoryIndex(threshold=threshold, window_seconds=window_seconds)
        self.docs: dict[int, _Doc] = {}
        self.by_title: dict[str, list[int]] = {}
        # A sample of each text's shingles (1 in 4, by hash) -> the docs that have it: copies share many.
        self.by_shingle: dict[int, list[int]] = {}
        loaded = [(r, decode_terms(r.terms)) for r in window]
        for _, doc_terms in loaded:
            self.index.observe(doc_terms)
        for report, doc_terms in loaded:
            doc = _Doc(report.id, report.title, report.text, report.published_at.timestamp(), report.story_id, report.copy_of)
            self._remember(doc)
            if report.story_id is not None:
                self.index.add(report.story_id, self.index.vector(doc_terms), doc.published)

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
    store: Store,
    now: datetime,
    threshold: float,
    window_seconds: float,
    outlets: OutletRegistry,
) -> RefreshResult:
    """One batch, read and written in one transaction: two refreshes at once (a tick, a page view, another
    process) never analyse the same reports; the second finds them done."""
    rows: list[tuple[int, str, int | None, int | None, str, str]] = []
    relinked: list[tuple[int | None, int]] = []
    new_stories = copies = 0
    async with store.transaction() as db:
        pending = await store.stories.pending(BATCH)
        if not pending:
            return RefreshResult(0, 0, 0)
        oldest = min(p.published_at for p in pending)
        window = await store.stories.window(oldest - timedelta(seconds=window_seconds), [p.id for p in pending])
        state = _Refresher(window, threshold, window_seconds)
        previous = await store.stories.reports_by_id([p.id for p in pending if p.analysed])
        for report in pending:
            doc_terms = report_terms(report.title, report.text)
            cites = extract_citations(f"{report.title}\n{report.text}", own_outlet=report.outlet, outlets=outlets)
            if report.analysed and report.id in previous:  # a changed report keeps its story and copy status
                old = previous[report.id]
                rows.append((report.id, report.content_hash, old.story_id, old.copy_of, encode_terms(doc_terms),
                             json.dumps(cites)))  # fmt: skip
                continue
            published = report.published_at.timestamp()
            story_id, vec = state.index.assign(doc_terms, published)
            if story_id is None:
                story_id = await store.stories.new_story(db, now)
                new_stories += 1
            state.index.add(story_id, vec, published)
            doc = _Doc(report.id, report.title, report.text, published, story_id, None)
            original = state.original_of(doc)
            if original is not None and (original.published, original.id) > (doc.published, doc.id):
                # The copy arrived first: the earlier publication is the original, and its copies follow it.
                original.copy_of = doc.id
                relinked.append((doc.id, original.id))
                for other in state.docs.values():
                    if other.copy_of == original.id:
                        other.copy_of = doc.id
                        relinked.append((doc.id, other.id))
            elif original is not None:
                doc.copy_of = original.id
                copies += 1
            state._remember(doc)
            rows.append((report.id, report.content_hash, story_id, doc.copy_of, encode_terms(doc_terms), json.dumps(cites)))
        await store.stories.save_analysis(db, rows, now)
        # Relinks of reports analysed in this same batch are already in `rows` via their _Doc.
        in_batch = {r[0] for r in rows}
        final_rows = [(state.docs[rid].copy_of, rid) for rid in in_batch if rid in state.docs]
        await store.stories.set_copy_of(db, [c for c in relinked if c[1] not in in_batch] + final_rows)
    if rows:
        log.info("stories: analysed %d reports, %d new stories, %d copies", len(rows), new_stories, copies)
    return RefreshResult(len(rows), new_stories, copies)
