"""Grouping reports into stories, one report at a time (single-pass clustering, as in topic detection
and tracking): a report joins the recent story whose centroid is most like it, or starts a new one.

Deterministic for a given arrival order; incremental (a new report costs a few sparse dot products,
candidate stories found through an inverted index); no model and no network."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from planwatch.stories.text import key_terms, lead, terms

TITLE_WEIGHT = 2  # a headline says what the event is; the lead says it again in more words
LEAD_WORDS = 70
CANDIDATE_TERMS = 12  # stories are looked up through the report's most distinctive terms
DEFAULT_THRESHOLD = 0.14  # tuned: bench/data/dev_clusters.jsonl events stay apart, the demo's sub-events too
DEFAULT_WINDOW_SECONDS = 3 * 24 * 3600  # "over a few days"
# A story stops taking reports a week after it began: a topic covered every day for a month would
# otherwise chain into one endless story as its centroid drifts.
MAX_STORY_SPAN_SECONDS = 7 * 24 * 3600


def report_terms(title: str, text: str) -> list[str]:
    """Headline terms twice, the lead's once, and names and numbers once more: who and what identify an event."""
    opening = lead(text, LEAD_WORDS)
    return terms(title) * TITLE_WEIGHT + terms(opening) + key_terms(title) + key_terms(opening)


def encode_terms(items: Iterable[str]) -> str:
    return " ".join(items)


def decode_terms(stored: str) -> list[str]:
    return stored.split() if stored else []


@dataclass(slots=True)
class _Story:
    centroid: dict[str, float] = field(default_factory=dict)
    norm2: float = 0.0
    first: float = math.inf
    last: float = -math.inf
    size: int = 0


class StoryIndex:
    def __init__(self, *, threshold: float = DEFAULT_THRESHOLD, window_seconds: float = DEFAULT_WINDOW_SECONDS) -> None:
        self.threshold = threshold
        self.window = window_seconds
        self.df: Counter[str] = Counter()
        self.docs = 0
        self.stories: dict[int, _Story] = {}
        self.postings: dict[str, set[int]] = {}

    def observe(self, doc_terms: Iterable[str]) -> None:
        """Count a document for the inverse document frequencies."""
        self.df.update(set(doc_terms))
        self.docs += 1

    def vector(self, doc_terms: list[str]) -> dict[str, float]:
        counts = Counter(doc_terms)
        n = self.docs + 1
        # Terms in (nearly) every report (boilerplate, the topic's own words) weigh (nearly) nothing.
        weights = {t: (1.0 + math.log(c)) * math.log((n + 1) / (self.df.get(t, 0) + 1)) for t, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {t: w / norm for t, w in weights.items()}

    def best(self, vec: dict[str, float], published: float) -> tuple[int | None, float]:
        """The most similar story within the time window, and the similarity."""
        top_terms = sorted(vec, key=lambda t: (-vec[t], t))[:CANDIDATE_TERMS]
        candidates: set[int] = set()
        for term in top_terms:
            candidates |= self.postings.get(term, set())
        best_id: int | None = None
        best_sim = 0.0
        for story_id in sorted(candidates):
            story = self.stories[story_id]
            if published < story.first - self.window or published > story.last + self.window:
                continue
            if published > story.first + MAX_STORY_SPAN_SECONDS:
                continue
            dot = sum(w * story.centroid.get(t, 0.0) for t, w in vec.items())
            sim = dot / math.sqrt(story.norm2) if story.norm2 else 0.0
            if sim > best_sim:
                best_id, best_sim = story_id, sim
        return best_id, best_sim

    def add(self, story_id: int, vec: dict[str, float], published: float) -> None:
        story = self.stories.setdefault(story_id, _Story())
        dot = sum(w * story.centroid.get(t, 0.0) for t, w in vec.items())
        story.norm2 += 2 * dot + sum(w * w for w in vec.values())
        for term, weight in vec.items():
            story.centroid[term] = story.centroid.get(term, 0.0) + weight
            self.postings.setdefault(term, set()).add(story_id)
        story.first = min(story.first, published)
        story.last = max(story.last, published)
        story.size += 1

    def assign(self, doc_terms: list[str], published: float) -> tuple[int | None, dict[str, float]]:
        """The story a new report joins (None: it starts one), and its vector for `add`."""
        self.observe(doc_terms)
        vec = self.vector(doc_terms)
        story_id, sim = self.best(vec, published)
        return (story_id if sim >= self.threshold else None), vec
