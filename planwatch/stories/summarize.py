"""Extractive summaries: the key sentences across many reports, each with the outlets that say it.

A sentence scores for being central to what the reports say (similarity to the centroid), for being
said by many documents (support), for standing early in its report (news puts facts in the lead),
and for being concrete (numbers, names). Points are then taken greedily, skipping any sentence too
like one already taken. Denials and "could not confirm" statements are found by their wording and
surfaced as points of their own. Nothing is generated: every point is a sentence from a report."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from planwatch.claims.points import ClaimPicker, Label, Point, PointSource, pick
from planwatch.stories.boilerplate import furniture, is_furniture
from planwatch.stories.outlets import OutletRegistry
from planwatch.stories.text import concreteness, split_sentences, terms, words

__all__ = ["Label", "Point", "PointSource", "SourceDoc", "summarize_reports", "summarize_texts"]

LEAD_SENTENCES = 8  # sentences of each report considered (plus its headline when it has no text)
MIN_WORDS, MAX_WORDS = 8, 55
REDUNDANT = 0.3  # cosine above which a sentence says what a chosen one already says
# Weights of a sentence's score (tuned on bench/data/dev_clusters.jsonl; see bench/summary_eval.py).
W_CENTROID, W_SUPPORT, W_POSITION, W_CONCRETE = 0.9, 1.2, 0.2, 0.12
POSITION_DECAY = 0.4
NEAR_DUPLICATE = 0.5  # cosine above which two sentences are one point whatever the claim matcher says

_DENIAL = re.compile(
    r"\b(?:denied|denies|deny|denying|dismissed|dismisses|rejected|rejects|refuted|refutes|"
    r"categorically|disputed|disputes)\b.{0,120}\b(?:report\w*|plan\w*|proposal\w*|claim\w*|allegation\w*|"
    r"innovation\w*|talks|negotiat\w*|existence|deal\w*|story|stories|leak\w*)\b"
    r"|\b(?:there\s+(?:are|were|had\s+been|have\s+been)|said|says)\s+no\s+[«\"“']?(?:new\s+)?(?:proposals|plans?|innovations)\b"
    r"|\bno\s+(?:new\s+[«\"“']?(?:proposals|plans?|innovations)|[«\"“']?innovations)\b"
    r"|\b(?:brush\w*\s+aside|play\w*\s+down|downplay\w*)\b.{0,80}\b(?:report\w*|plan\w*|claim\w*|leak\w*|framework\w*)\b"
    r"|\b(?:fake|false|fabricat\w+|not\s+true|baseless|hoax)\b"
    r"|\bnothing\s+new\b|\bno\s+consultations\b",
    re.I,
)
# "if Kyiv rejected the plan": a condition, not a denial.
_CONDITIONAL = re.compile(r"\b(?:if|unless|should|whether)\s+(?:\w+\s+){0,3}$", re.I)
_UNCONFIRMED = re.compile(
    r"\b(?:could|can|did|was|were|has|have)\s*(?:not|n't|’t)\s+(?:been\s+)?(?:able\s+to\s+)?"
    r"(?:independently\s+|immediately\s+|publicly\s+)?(?:confirm|verify|corroborate)\w*"
    r"|\bunable\s+to\s+(?:independently\s+)?(?:confirm|verify)\b|\binability\s+to\s+(?:independently\s+)?confirm"
    r"|\bunverified\b|\bnot\s+(?:been\s+)?(?:independently\s+)?(?:confirmed|verified)\b"
    r"|\brefrained\s+from\s+(?:explicitly\s+)?confirming\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class SourceDoc:
    """One report as the summarizer sees it. `outlet` None: an unknown outlet (evaluation)."""

    title: str
    text: str
    outlet: str | None = None
    url: str | None = None
    first_seen_at: datetime | None = None
    independent: bool = True  # False for a copy of another report: it supports nothing on its own
    published_at: datetime | None = None  # the feed's date; None: it gave none
    published_estimated: bool = False
    copy_of_outlet: str | None = None  # for a copy: its original's outlet, whom it relays
    story_id: int | None = None


@dataclass(slots=True)
class _Sentence:
    text: str
    doc: int
    position: int
    vec: dict[str, float] = field(default_factory=dict)
    score: float = 0.0


def _classify(text: str) -> Label | None:
    if _UNCONFIRMED.search(text):
        return "unconfirmed"
    match = _DENIAL.search(text)
    if match and not _CONDITIONAL.search(text[max(0, match.start() - 40) : match.start()]):
        return "denied"
    return None


def _candidates(docs: Sequence[SourceDoc]) -> list[_Sentence]:
    """The first sentences of each report, page furniture (widgets, credits, appeals, an outlet's
    repeated footer: stories/boilerplate.py) left out."""
    split = [split_sentences(doc.text) if doc.text else [] for doc in docs]
    known = furniture([(doc.outlet, i, doc.story_id, s) for i, (doc, ss) in enumerate(zip(docs, split, strict=True)) for s in ss])
    out: list[_Sentence] = []
    for index, doc in enumerate(docs):
        sentences = [s for s in split[index] if not is_furniture(s, known)][:LEAD_SENTENCES]
        if not sentences and doc.title:
            sentences = [doc.title]  # a headline-only report still says something
        for position, sentence in enumerate(sentences):
            count = len(words(sentence))
            if MIN_WORDS <= count <= MAX_WORDS or (len(sentences) == 1 and count >= 4):
                out.append(_Sentence(sentence, index, position))
    return out


def _vectorize(sentences: list[_Sentence]) -> None:
    tokenized = [terms(s.text) for s in sentences]
    df: Counter[str] = Counter()
    for tokens in tokenized:
        df.update(set(tokens))
    n = len(sentences) + 1
    for sentence, tokens in zip(sentences, tokenized, strict=True):
        counts = Counter(tokens)
        weights = {t: (1 + math.log(c)) * math.log(n / df[t] + 1.0) for t, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        sentence.vec = {t: w / norm for t, w in weights.items()}


def _cos(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


def _score(sentences: list[_Sentence], docs: Sequence[SourceDoc]) -> None:
    """Centrality, cross-document support, lead position and concreteness, in one number."""
    doc_vecs: dict[int, dict[str, float]] = {}
    for s in sentences:
        vec = doc_vecs.setdefault(s.doc, {})
        for t, w in s.vec.items():
            vec[t] = vec.get(t, 0.0) + w
    for vec in doc_vecs.values():
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        for t in vec:
            vec[t] /= norm
    centroid: dict[str, float] = {}
    for vec in doc_vecs.values():
        for t, w in vec.items():
            centroid[t] = centroid.get(t, 0.0) + w
    norm = math.sqrt(sum(w * w for w in centroid.values())) or 1.0
    centroid = {t: w / norm for t, w in centroid.items()}
    independent_docs = [d for d in doc_vecs if docs[d].independent]
    others = max(len(independent_docs) - 1, 1)
    for s in sentences:
        support = sum(_cos(s.vec, doc_vecs[d]) for d in independent_docs if d != s.doc) / others
        position = 1.0 / (1.0 + POSITION_DECAY * s.position)
        concrete = min(concreteness(s.text), 6) / 6
        s.score = W_CENTROID * _cos(s.vec, centroid) + W_SUPPORT * support + W_POSITION * position + W_CONCRETE * concrete
        if s.text.rstrip().endswith("?"):
            s.score *= 0.5
        if not docs[s.doc].independent:
            s.score *= 0.8


def summarize_texts(documents: Sequence[tuple[str, str]], max_words: int = 250) -> str:
    """The evaluation entry point: (title, text) documents of unknown outlets to a summary of at
    most `max_words` words, most important sentence first."""
    docs = [SourceDoc(title, text) for title, text in documents]
    sentences = _candidates(docs)
    if not sentences:
        return ""
    _vectorize(sentences)
    _score(sentences, docs)
    ranked = sorted(sentences, key=lambda s: (-s.score, s.doc, s.position))
    used = 0
    chosen: list[_Sentence] = []
    for sentence in ranked:
        if used >= max_words:
            break
        if any(_cos(sentence.vec, c.vec) >= REDUNDANT for c in chosen):
            continue
        chosen.append(sentence)
        used += len(sentence.text.split())
    # Most important first: a reader (or a budget) that stops early keeps the best of it.
    return " ".join(" ".join(s.text for s in chosen).split()[:max_words])


def summarize_reports(
    docs: Sequence[SourceDoc], *, max_points: int = 7, min_points: int = 3, outlets: OutletRegistry | None = None
) -> list[Point]:
    """3 to 7 points, one claim each, with origins, relays, labels and times (planwatch.claims.points);
    denials and unconfirmed statements always surface."""
    sentences = _candidates(docs)
    if not sentences:
        return []
    _vectorize(sentences)
    _score(sentences, docs)
    order = sorted(range(len(sentences)), key=lambda i: (-sentences[i].score, sentences[i].doc, sentences[i].position))
    kinds: dict[int, Label] = {}
    for index, sentence in enumerate(sentences):
        kind = _classify(sentence.text)
        if kind is not None:
            kinds[index] = kind

    def redundant(a: int, b: int) -> bool:
        return _cos(sentences[a].vec, sentences[b].vec) >= NEAR_DUPLICATE

    picker = ClaimPicker(sentences, docs, outlets, kinds=kinds)
    return pick(picker, order, kinds, max_points=max_points, min_points=min_points, redundant=redundant)
