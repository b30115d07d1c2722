"""Fit the claim matcher's logistic model and write planwatch/data/claim_model.json.

    .venv/bin/python bench/fit_claim_model.py [--dir ../shared/corpus/ecbplus-dev] [--check]

Data (nothing held out is used):
- bench/data/week_dev/claim_pairs.jsonl: 300 sentence pairs of the labelled development week,
  written for this project, matched in the collection of the week's on-topic reports;
- bench/data/week_dev/claims.jsonl: pairs of its gold claims' mention sentences, as a summary meets
  them: one claim in two reports (same), two claims of one event (different, three for each same);
- ECB+ development half, read at run time from ../shared (never copied): pairs of annotated
  sentences of the topics numbered 1 mod 4 (1, 5, 9, ...), matched in their topic's reports. The
  topics numbered 3 mod 4 stay out of fitting, so bench/claims_eval.py can score the model on
  development topics it has not seen.

Pairs that a veto already decides (different figures, opposite polarity, a non-confirmation) are
left out: the model only ever sees pairs past the vetoes. Logistic regression with an L2 penalty,
plain batch gradient descent from zero weights, each class weighing half (deterministic: the same
data gives the same weights). The threshold is the lowest probability at which precision on the
week's pairs (labelled and mention pairs) reaches PRECISION (precision first: two claims merged mislead, one claim shown twice
only repeats); ECB+ pairs are fitted on but do not set it, since ECB+ calls two sentences "same"
when they mention one event, a looser thing than stating one claim.
--check prints the figures and leaves the file alone."""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.claims_eval import WEEK_DEV, DataSet, Pair, annotated_sentences, ecb_dataset, ecb_pairs, read_week
from bench.ecbplus import DEFAULT_DIR, load
from planwatch.claims.match import MODEL_FILE, PairFeatures, pair_features
from planwatch.resources import data_file

PRECISION = 0.95
L2 = 0.001
STEPS = 4000
RATE = 4.0
FIT_TOPICS = 1  # ECB+ topics t with t % 4 == FIT_TOPICS are fitted on


def mention_pairs(week: DataSet, claims_file: Path, seed: int = 3) -> DataSet:
    """Pairs as a summary meets them: mention sentences of one gold claim in two reports (same),
    and of two claims of one event (different: the story's own words, other claims), from the
    week's claims.jsonl, three different pairs for each same one, in the week's collection."""
    rows = [json.loads(line) for line in claims_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    mentions = {r["id"]: [(m["report"], m["sentence"]) for m in r["mentions"]] for r in rows}
    event_of = {r["id"]: r["event"] for r in rows}
    same = sorted({(a[1], b[1]) for c in mentions.values() for a in c for b in c if a[0] < b[0] and a[1] != b[1]})
    different = sorted({
        (a[1], b[1]) for c in mentions for d in mentions if c < d and event_of[c] == event_of[d]
        for a in mentions[c][:6] for b in mentions[d][:6] if a[0] != b[0]
    })  # fmt: skip
    rng = random.Random(seed)
    same = rng.sample(same, min(len(same), 400))
    different = rng.sample(different, min(len(different), 3 * len(same)))
    pairs = tuple(Pair(a, b, True, "same claim", "week") for a, b in same) + tuple(
        Pair(a, b, False, "same event, other claim", "week") for a, b in different
    )
    return DataSet("week_dev mentions", pairs, week.contexts)


def fit_topic(topic: int) -> bool:
    return topic % 4 == FIT_TOPICS


def examples(data: DataSet) -> tuple[list[list[float]], list[bool]]:
    """Feature rows and labels of a data set's pairs that no veto decides."""
    groups: dict[str, list[int]] = {}
    for index, pair in enumerate(data.pairs):
        groups.setdefault(pair.context, []).append(index)
    rows: list[list[float]] = []
    labels: list[bool] = []
    for context, indexes in groups.items():
        collection = list(data.contexts.get(context, ()))
        own = [s for i in indexes for s in (data.pairs[i].a, data.pairs[i].b)]
        found = pair_features([*collection, *own], [(data.pairs[i].a, data.pairs[i].b) for i in indexes])
        for i, (features, veto) in zip(indexes, found, strict=True):
            if veto is None:
                rows.append([float(v) for v in (getattr(features, n) for n in PairFeatures.names())])
                labels.append(data.pairs[i].same)
    return rows, labels


def train(rows: Sequence[Sequence[float]], labels: Sequence[bool]) -> tuple[float, list[float]]:
    width = len(rows[0])
    weights = [0.0] * width
    bias = 0.0
    n = len(rows)
    # Each class weighs half: the sets hold more "different" pairs than "same" ones.
    positives = sum(labels)
    share = {True: n / (2 * positives), False: n / (2 * (n - positives))}
    for _ in range(STEPS):
        grad = [0.0] * width
        grad_bias = 0.0
        for row, label in zip(rows, labels, strict=True):
            z = bias + sum(w * x for w, x in zip(weights, row, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            error = (p - float(label)) * share[label]
            grad_bias += error
            for j, x in enumerate(row):
                grad[j] += error * x
        bias -= RATE * grad_bias / n
        weights = [w - RATE * (g / n + L2 * w) for w, g in zip(weights, grad, strict=True)]
    return bias, weights


def probabilities(bias: float, weights: Sequence[float], rows: Sequence[Sequence[float]]) -> list[float]:
    return [1.0 / (1.0 + math.exp(-(bias + sum(w * x for w, x in zip(weights, row, strict=True))))) for row in rows]


def threshold_for(values: Sequence[float], labels: Sequence[bool], precision: float = PRECISION) -> float:
    """The lowest cut at which precision reaches `precision` (the highest-precision cut if none does)."""
    best = (0.0, 1.0)
    for cut in sorted(set(values)):
        chosen = [label for value, label in zip(values, labels, strict=True) if value >= cut]
        if not chosen:
            continue
        p = sum(chosen) / len(chosen)
        if p >= precision:
            return cut
        best = max(best, (p, cut))
    return best[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the ECB+ development half")
    parser.add_argument("--check", action="store_true", help="print the fit, do not write the model")
    args = parser.parse_args(argv)
    week = read_week(WEEK_DEV, "week_dev")
    docs = [d for d in load(args.dir) if fit_topic(d.topic)]
    ecb = ecb_dataset(ecb_pairs(annotated_sentences(docs, args.dir), seed=1), docs)
    week_rows, week_labels = examples(week)
    mention_rows, mention_labels = examples(mention_pairs(week, WEEK_DEV.parent / "claims.jsonl"))
    ecb_rows, ecb_labels = examples(ecb)
    rows, labels = week_rows + mention_rows + ecb_rows, week_labels + mention_labels + ecb_labels
    bias, weights = train(rows, labels)
    tuning_rows, tuning_labels = week_rows + mention_rows, week_labels + mention_labels
    cut = threshold_for(probabilities(bias, weights, tuning_rows), tuning_labels)
    model = {
        "bias": round(bias, 6),
        "weights": {name: round(w, 6) for name, w in zip(PairFeatures.names(), weights, strict=True)},
        "threshold": round(cut, 6),
        "fitted_by": "bench/fit_claim_model.py",
        "data": f"week_dev claim_pairs.jsonl ({len(week_labels)} pairs past the vetoes) + week_dev claims.jsonl mention "
        f"pairs ({len(mention_labels)}) + ECB+ dev topics 1 mod 4 ({len(ecb_labels)} pairs past the vetoes, seed 1)",
    }
    print(json.dumps(model, indent=2))
    if not args.check:
        data_file(MODEL_FILE).write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {data_file(MODEL_FILE)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
