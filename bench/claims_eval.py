"""Claim matching on sentence pairs: are two sentences of different reports the same claim?

    .venv/bin/python bench/claims_eval.py [--json] [--size 2000] [--seed 0] [--no-ecbplus] [--dir ../shared/corpus/ecbplus-dev]

Prints precision, recall, F1 and accuracy of each matcher, beside the share of "same" pairs (the
accuracy of always answering "same claim") and the majority rate, on:

- week_dev: bench/data/week_dev/claim_pairs.jsonl, 300 pairs written for this project (development
  data: thresholds are chosen here), with a breakdown by the pair's `why` (paraphrase, copy, different
  number, negation, ...) so later work sees which kinds fail;
- check: bench/data/week_check/claim_pairs.jsonl when present, an independent held-back set; scored
  with the thresholds chosen on week_dev, never used to choose one;
- ecbplus: sentence pairs from the ECB+ development half (bench/ecbplus.py, read at run time);
  ecb-unfit: those of its pairs within topics numbered 3 mod 4, which the claim model was not
  fitted on (bench/fit_claim_model.py fits on topics 1 mod 4 and week_dev).

Matchers:

- claims: the claim layer's matcher (planwatch/claims/match.py): vetoes, then a logistic model over
  TF-IDF cosine, IDF-weighted overlap, character 4-grams, names, figures and polarity; its threshold
  is the model's own (chosen when it was fitted: precision 0.95 on week_dev's pairs as a summary
  meets them, most of them two claims); claims-f1 is the same model at its best-F1 cut on week_dev's
  labelled pairs, an operating point comparable with Jaccard's.
- planwatch: the matcher before the claim layer. summarize.py decided it inline: another outlet's
  sentence supported a point when the TF-IDF cosine of the two was at least 0.3 (BEFORE_CLAIMS), and
  the same cosine against REDUNDANT, also 0.3, called two points one. This bench calls the pieces
  that remain, not a copy: `_vectorize` over `_Sentence`s of the collection the pair is matched in,
  then `_cos` of the pair against BEFORE_CLAIMS. The collection sets the TF-IDF
  weights (a word common in it weighs little), so it is the one a summary weighs: `summary_docs`
  hands `summarize_reports` the reports of a topic's leading stories, whose `_candidates` (first 8
  sentences of a report, 8 to 55 words) are vectorized together. Here: the candidates of the on-topic
  reports in the week's reports.jsonl (the pairs' sentences alone when there is none), of the topic's
  documents for ECB+ (of the whole half for a pair across topics), plus the pair sentences not among
  them. Not reproduced: a pair sentence outside the candidate filter is scored all the same (today
  it would support no point), and same-report or copy exclusions do not arise in a pair.
- jaccard: the word-overlap baseline the issue asks for: Jaccard similarity of the two sentences'
  sets of content words (lower-cased words, Planwatch's stop words dropped, no stemming), same
  claim at or above a threshold chosen on week_dev by best F1 (ties: the higher, precision first).

A new matcher is one line in MATCHERS: `Matcher("name", plain(fn))` for any `fn(a: str, b: str) ->
float | bool` (its threshold is then chosen on week_dev; pass `threshold=` to fix it), or a
`prepare` that first sees every sentence of the collection a pair is matched in, as the TF-IDF one does.

ECB+ pairs: a sentence is used only when it is listed in ECBplus_coreference_sentences.csv and
mentions at least one cross-document action chain. The list is the corpus authors' "gold standard"
selection: outside it, mentions were annotated only now and then, so a sentence about the seminal
event often carries no chain or one chain of several, and a pair of such sentences sharing none is
not reliably a different happening (without the restriction, same-topic pairs from one gold event
that share no chain rise from 3,264 to 14,667). Positives: two sentences of different documents
sharing a chain (any one: a sentence mentions several happenings, so "same claim" is read here as
"states one same happening", looser than week_dev's). Hard negatives: sentences of different
documents of one topic (same kind of event) sharing none. Easy negatives: sentences of different
topics. Positives and hard negatives are sampled in their natural ratio among same-topic pairs; easy
ones make a fixed EASY_SHARE of the sample, since their natural share (nearly all pairs) would only
measure that unrelated sentences are told apart. Sampling is seeded; the balance is printed."""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ecbplus import DEFAULT_DIR, Document, load
from planwatch.claims.match import ClaimMatcher, default_model
from planwatch.stories import summarize
from planwatch.stories.text import STOPWORDS, words

DATA = Path(__file__).resolve().parent / "data"
WEEK_DEV = DATA / "week_dev" / "claim_pairs.jsonl"
WEEK_CHECK = DATA / "week_check" / "claim_pairs.jsonl"
SELECTED_SENTENCES = "ECBplus_coreference_sentences.csv"
ECB_SIZE = 2000
EASY_SHARE = 0.15
ALL_TOPICS = "all"

# The summarizer's "same claim" before the claim layer: its TF-IDF cosine at or above 0.3.
BEFORE_CLAIMS = 0.3
Scorer = Callable[[str, str], float]  # a bool-valued function fits too (True >= 1 > False)
Prepare = Callable[[Sequence[str]], Scorer]


class BenchError(Exception):
    """A problem with the input data, told in one line."""


@dataclass(frozen=True, slots=True)
class Pair:
    a: str
    b: str
    same: bool
    why: str  # the kind of pair: week_dev's `why`, or an ECB+ PairKind
    context: str = ""  # key of the collection (a topic's reports) the pair is matched in


@dataclass(frozen=True, slots=True)
class DataSet:
    name: str
    pairs: tuple[Pair, ...]
    # Sentences of each collection a pair can be matched in, beside the pairs' own sentences.
    contexts: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    # Sees every sentence of a collection (its pairs' and its reports') before scoring its pairs.
    prepare: Prepare
    threshold: float | None = None  # same claim when score >= threshold; None: best F1 on week_dev


def plain(scorer: Scorer) -> Prepare:
    """A pair function that needs no collection, as a Matcher's `prepare`."""
    return lambda _sentences: scorer


def planwatch_cosine(sentences: Sequence[str]) -> Scorer:
    """summarize.py's own TF-IDF vectors (weighted over `sentences`, as over a summary's candidates) and cosine."""
    items = [summarize._Sentence(text, 0, 0) for text in sentences]  # a repeated sentence counts again, as in a story
    summarize._vectorize(items)
    vectors = {item.text: item.vec for item in items}
    return lambda a, b: summarize._cos(vectors[a], vectors[b])


def content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in (w.lower() for w in words(text)) if w not in STOPWORDS)


def jaccard(a: str, b: str) -> float:
    left, right = content_words(a), content_words(b)
    union = left | right
    return len(left & right) / len(union) if union else 0.0


def claim_model(sentences: Sequence[str]) -> Scorer:
    """The claim layer's matcher (planwatch.claims.match): the model's probability, 0 when a veto
    decides the pair; same claim at the model's own threshold."""
    matcher = ClaimMatcher(sentences)

    def scorer(a: str, b: str) -> float:
        judged = matcher.judge(a, b)
        return 0.0 if judged.veto is not None else judged.probability

    return scorer


MATCHERS: tuple[Matcher, ...] = (
    Matcher("claims", claim_model, default_model().threshold),
    # The same model at its best-F1 cut on week_dev: how it ranks pairs, beside Jaccard's best cut.
    Matcher("claims-f1", claim_model),
    Matcher("planwatch", planwatch_cosine, BEFORE_CLAIMS),
    Matcher("jaccard", plain(jaccard)),
)


# --- scoring ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scores:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / total if total else 0.0


def score(predicted: Sequence[bool], gold: Sequence[bool]) -> Scores:
    counts = {(p, g): 0 for p in (True, False) for g in (True, False)}
    for p, g in zip(predicted, gold, strict=True):
        counts[(p, g)] += 1
    return Scores(tp=counts[(True, True)], fp=counts[(True, False)], fn=counts[(False, True)], tn=counts[(False, False)])


def best_threshold(values: Sequence[float], gold: Sequence[bool]) -> float:
    """The cut (same when value >= cut) with the best F1; of equals the highest, precision first."""
    candidates = sorted(set(values), reverse=True)
    if not candidates:
        raise BenchError("no pairs to choose a threshold on")
    return max(candidates, key=lambda t: score([v >= t for v in values], gold).f1)  # max keeps the first: highest


def matcher_values(matcher: Matcher, data: DataSet) -> list[float]:
    groups: dict[str, list[int]] = {}
    for index, pair in enumerate(data.pairs):
        groups.setdefault(pair.context, []).append(index)
    values = [0.0] * len(data.pairs)
    for context, indexes in groups.items():
        collection = data.contexts.get(context, ())
        known = set(collection)
        # Each pair sentence once, unless its report is already in the collection.
        own = [s for s in dict.fromkeys(s for i in indexes for s in (data.pairs[i].a, data.pairs[i].b)) if s not in known]
        scorer = matcher.prepare([*collection, *own])
        for i in indexes:
            values[i] = float(scorer(data.pairs[i].a, data.pairs[i].b))
    return values


@dataclass(frozen=True, slots=True)
class KindRow:
    kind: str
    n: int
    same: bool
    accuracy: dict[str, float]  # matcher name -> accuracy on the pairs of this kind


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    n: int
    positives: int
    scores: dict[str, Scores]
    by_kind: list[KindRow]

    @property
    def positive_share(self) -> float:
        return self.positives / self.n if self.n else 0.0

    @property
    def majority(self) -> float:
        return max(self.positive_share, 1 - self.positive_share)


def evaluate(data: DataSet, predictions: dict[str, list[bool]]) -> Result:
    gold = [pair.same for pair in data.pairs]
    kinds: dict[tuple[str, bool], list[int]] = {}
    for index, pair in enumerate(data.pairs):
        kinds.setdefault((pair.why, pair.same), []).append(index)
    rows = [
        KindRow(
            why,
            len(indexes),
            same,
            {m: score([p[i] for i in indexes], [same] * len(indexes)).accuracy for m, p in predictions.items()},
        )
        for (why, same), indexes in sorted(kinds.items(), key=lambda item: (not item[0][1], -len(item[1]), item[0][0]))
    ]
    return Result(data.name, len(gold), sum(gold), {m: score(p, gold) for m, p in predictions.items()}, rows)


def run(datasets: Sequence[DataSet], matchers: Sequence[Matcher], tune_on: DataSet) -> tuple[dict[str, float], list[Result]]:
    """Thresholds (fixed, or chosen on `tune_on`), then every matcher on every data set."""
    thresholds: dict[str, float] = {}
    for matcher in matchers:
        if matcher.threshold is not None:
            thresholds[matcher.name] = matcher.threshold
        else:
            thresholds[matcher.name] = best_threshold(matcher_values(matcher, tune_on), [p.same for p in tune_on.pairs])
    results = []
    for data in datasets:
        predictions = {m.name: [v >= thresholds[m.name] for v in matcher_values(m, data)] for m in matchers}
        results.append(evaluate(data, predictions))
    return thresholds, results


# --- data ------------------------------------------------------------------------------------------


def candidate_sentences(documents: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The sentences summarize_reports weighs for these (title, text) reports."""
    return tuple(s.text for s in summarize._candidates([summarize.SourceDoc(title, text) for title, text in documents]))


def read_pairs(path: Path, context: str = "") -> tuple[Pair, ...]:
    pairs = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchError(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            pair = Pair(str(row["a"]), str(row["b"]), bool(row["same"]), str(row.get("why") or "-"), context)
        except (ValueError, KeyError, TypeError) as exc:
            raise BenchError(f"{path}:{number}: not a claim pair ({type(exc).__name__}: {exc})") from exc
        if not isinstance(row["same"], bool):
            raise BenchError(f"{path}:{number}: `same` must be true or false, not {row['same']!r}")
        pairs.append(pair)
    if not pairs:
        raise BenchError(f"{path}: no pairs")
    return tuple(pairs)


def read_week(path: Path, name: str) -> DataSet:
    """A week's labelled pairs, matched in the collection of its on-topic reports when reports.jsonl is beside them."""
    reports = path.parent / "reports.jsonl"
    if not reports.exists():
        return DataSet(name, read_pairs(path))
    try:
        lines = reports.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchError(f"cannot read {reports}: {exc}") from exc
    documents = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if (row.get("gold") or {}).get("on_topic") is False:
                continue  # a decoy is not in the story's collection
            documents.append((str(row["title"]), "\n".join([row.get("summary") or "", *(row.get("paragraphs") or [])])))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BenchError(f"{reports}:{number}: not a report ({type(exc).__name__}: {exc})") from exc
    return DataSet(name, read_pairs(path, "week"), {"week": candidate_sentences(documents)})


class PairKind(StrEnum):
    SHARED = "shared chain"
    SAME_TOPIC = "same topic, no shared chain"
    OTHER_TOPIC = "other topic"


@dataclass(frozen=True, slots=True)
class EcbSentence:
    doc: str
    topic: int
    number: int
    text: str
    events: frozenset[str]  # cross-document action chain ids


@dataclass(frozen=True, slots=True)
class EcbPair:
    a: EcbSentence
    b: EcbSentence
    kind: PairKind

    @property
    def same(self) -> bool:
        return self.kind is PairKind.SHARED


@dataclass(frozen=True, slots=True)
class EcbSample:
    pairs: list[EcbPair]
    sentences: int
    documents: int
    pool: dict[PairKind, int]  # same-topic pairs available of each kind


def annotated_sentences(docs: Iterable[Document], directory: Path) -> list[EcbSentence]:
    """Sentences in the corpus authors' fully annotated selection that mention a cross-document action chain."""
    path = directory / SELECTED_SENTENCES
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            selected = {(f"{row['Topic']}_{row['File']}", int(row["Sentence Number"])) for row in csv.DictReader(handle)}
    except (OSError, KeyError, ValueError) as exc:
        raise BenchError(f"cannot read the annotated-sentence list {path}: {exc}") from exc
    return [
        EcbSentence(doc.name, doc.topic, s.number, s.text, s.events)
        for doc in docs
        for s in doc.sentences
        if s.events and (doc.name, s.number) in selected
    ]


def ecb_pairs(sentences: Sequence[EcbSentence], size: int = ECB_SIZE, seed: int = 0, easy_share: float = EASY_SHARE) -> EcbSample:
    """A seeded sample of `size` pairs (fewer if the pool is smaller) from sentences of different documents."""
    by_topic: dict[int, list[EcbSentence]] = {}
    for s in sentences:
        by_topic.setdefault(s.topic, []).append(s)
    shared: list[EcbPair] = []
    same_topic: list[EcbPair] = []
    for topic in sorted(by_topic):
        for a, b in itertools.combinations(by_topic[topic], 2):
            if a.doc != b.doc:
                kind = PairKind.SHARED if a.events & b.events else PairKind.SAME_TOPIC
                (shared if kind is PairKind.SHARED else same_topic).append(EcbPair(a, b, kind))
    rng = random.Random(seed)
    n_easy = round(size * easy_share) if len(by_topic) > 1 else 0
    rest = size - n_easy
    pool = len(shared) + len(same_topic)
    n_shared = min(len(shared), round(rest * len(shared) / pool)) if pool else 0
    n_same_topic = min(len(same_topic), rest - n_shared)
    chosen = rng.sample(shared, n_shared) + rng.sample(same_topic, n_same_topic)
    easy: dict[tuple[str, int, str, int], EcbPair] = {}
    attempts = 0
    while len(easy) < n_easy and attempts < 100 * size:
        attempts += 1
        a, b = sorted(rng.sample(sentences, 2), key=lambda s: (s.doc, s.number))
        if a.topic != b.topic:
            easy.setdefault((a.doc, a.number, b.doc, b.number), EcbPair(a, b, PairKind.OTHER_TOPIC))
    documents = len({s.doc for s in sentences})
    return EcbSample(
        chosen + list(easy.values()),
        len(sentences),
        documents,
        {PairKind.SHARED: len(shared), PairKind.SAME_TOPIC: len(same_topic)},
    )


def ecb_dataset(sample: EcbSample, docs: Iterable[Document]) -> DataSet:
    """Pairs matched in their topic's reports, as a summary weighs a topic's stories together. A pair
    across topics never meets in one summary: it is matched in the whole half's reports."""
    by_topic: dict[int, tuple[str, ...]] = {}
    for doc in docs:
        by_topic[doc.topic] = by_topic.get(doc.topic, ()) + candidate_sentences([(doc.title, doc.text)])
    contexts = {str(topic): sentences for topic, sentences in by_topic.items()}
    contexts[ALL_TOPICS] = tuple(s for sentences in by_topic.values() for s in sentences)
    pairs = tuple(
        Pair(p.a.text, p.b.text, p.same, p.kind.value, str(p.a.topic) if p.a.topic == p.b.topic else ALL_TOPICS)
        for p in sample.pairs
    )
    return DataSet("ecbplus", pairs, contexts)


# --- output ----------------------------------------------------------------------------------------


def to_json(thresholds: dict[str, float], results: Sequence[Result], ecb: EcbSample | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "thresholds": thresholds,
        "tuned_on": "week_dev",
        "tuned": sorted(m.name for m in MATCHERS if m.threshold is None),
        "datasets": [
            {
                "name": r.name,
                "n": r.n,
                "positives": r.positives,
                "positive_share": r.positive_share,
                "majority": r.majority,
                "matchers": {
                    m: {
                        "precision": s.precision,
                        "recall": s.recall,
                        "f1": s.f1,
                        "accuracy": s.accuracy,
                        "tp": s.tp,
                        "fp": s.fp,
                        "fn": s.fn,
                        "tn": s.tn,
                    }
                    for m, s in r.scores.items()
                },
                "by_kind": [{"kind": k.kind, "n": k.n, "same": k.same, "accuracy": k.accuracy} for k in r.by_kind],
            }
            for r in results
        ],
    }
    if ecb is not None:
        out["ecbplus"] = {
            "sentences": ecb.sentences,
            "documents": ecb.documents,
            "pool": {kind.value: n for kind, n in ecb.pool.items()},
        }
    return out


def print_table(thresholds: dict[str, float], results: Sequence[Result], ecb: EcbSample | None) -> None:
    names = list(thresholds)
    fixed = {m.name for m in MATCHERS if m.threshold is not None}
    print(
        "thresholds: "
        + ", ".join(f"{m} {t:.3f} ({'its own' if m in fixed else 'best F1 on week_dev'})" for m, t in thresholds.items())
    )
    if ecb is not None:
        kinds = {kind: sum(1 for p in ecb.pairs if p.kind is kind) for kind in PairKind}
        print(f"ecbplus: {len(ecb.pairs)} pairs from {ecb.sentences} annotated sentences of {ecb.documents} documents: "
              + ", ".join(f"{n} {kind.value}" for kind, n in kinds.items())
              + f" (same-topic pool {ecb.pool[PairKind.SHARED]} / {ecb.pool[PairKind.SAME_TOPIC]})")  # fmt: skip
    print()
    width = max(len(n) for n in names)
    print(f"{'data set':<10} {'n':>5} {'same':>6} {'major':>6}  {'matcher':<{width}}  {'P':>5} {'R':>5} {'F1':>5} {'acc':>5}")
    for r in results:
        for i, m in enumerate(names):
            s = r.scores[m]
            head = f"{r.name:<10} {r.n:>5} {r.positive_share:>6.3f} {r.majority:>6.3f}" if i == 0 else " " * 30
            print(f"{head}  {m:<{width}}  {s.precision:>5.3f} {s.recall:>5.3f} {s.f1:>5.3f} {s.accuracy:>5.3f}")
    for r in results:
        print(f"\n{r.name}: accuracy by kind of pair")
        kind_width = max(len(k.kind) for k in r.by_kind)
        print(f"{'kind':<{kind_width}} {'n':>5} {'same':>5}  " + "  ".join(f"{m:>{max(len(m), 5)}}" for m in names))
        for k in r.by_kind:
            cells = "  ".join(f"{k.accuracy[m]:>{max(len(m), 5)}.3f}" for m in names)
            print(f"{k.kind:<{kind_width}} {k.n:>5} {'yes' if k.same else 'no':>5}  {cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the ECB+ development half")
    parser.add_argument("--no-ecbplus", action="store_true", help="score the week's pairs only")
    parser.add_argument("--size", type=int, default=ECB_SIZE, help="ECB+ pairs to sample")
    parser.add_argument("--seed", type=int, default=0, help="seed of the ECB+ sample")
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error("--size must be at least 1")
    try:
        dev = read_week(WEEK_DEV, "week_dev")
        datasets = [dev]
        if WEEK_CHECK.exists():
            datasets.append(read_week(WEEK_CHECK, "check"))
        ecb = None
        if not args.no_ecbplus:
            if not args.dir.is_dir():
                raise BenchError(f"ECB+ development half not found at {args.dir} (pass --no-ecbplus to score the week only)")
            docs = load(args.dir)
            ecb = ecb_pairs(annotated_sentences(docs, args.dir), args.size, args.seed)
            whole = ecb_dataset(ecb, docs)
            datasets.append(whole)
            # The claim model was fitted on topics 1 mod 4 (bench/fit_claim_model.py): the others' pairs apart.
            unseen = tuple(p for p in whole.pairs if p.context != ALL_TOPICS and int(p.context) % 4 == 3)
            datasets.append(DataSet("ecb-unfit", unseen, whole.contexts))
        thresholds, results = run(datasets, MATCHERS, dev)
    except BenchError as exc:
        print(f"claims_eval: {exc}", file=sys.stderr)
        return 1
    try:
        if args.json:
            print(json.dumps(to_json(thresholds, results, ecb), indent=2))
        else:
            print_table(thresholds, results, ecb)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
