"""Story grouping on the development half of ECB+: BCubed precision, recall and F1 over events.

    .venv/bin/python bench/grouping_eval.py [--seeds 5] [--dir ../shared/corpus/ecbplus-dev]

The documents arrive one at a time in a shuffled order (ECB+ has no dates; several seeded orders,
since single-pass grouping depends on the order) and go through Planwatch's own grouping, as reports
from a poll would. Beside it, the baseline the issue names: TF-IDF and average-link agglomerative
clustering (scikit-learn), its threshold tuned on this same half, so the baseline's figure here is
optimistic. These are development figures; the held-out half is scored elsewhere."""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ecbplus import DEFAULT_DIR, Document, load
from planwatch.stories.grouping import StoryIndex, reacts, report_features


def bcubed(predicted: Sequence[object], gold: Sequence[object]) -> tuple[float, float, float]:
    """BCubed (Bagga & Baldwin 1998): per item, the share of its cluster in its event and of its event in its cluster."""
    pairs = Counter(zip(predicted, gold, strict=True))
    sizes_p = Counter(predicted)
    sizes_g = Counter(gold)
    n = len(gold)
    precision = sum(count * count / sizes_p[p] for (p, _), count in pairs.items()) / n
    recall = sum(count * count / sizes_g[g] for (_, g), count in pairs.items()) / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def planwatch_groups(docs: Sequence[Document]) -> list[int]:
    """Planwatch's single-pass grouping, one document at a time, all on one day (ECB+ has no dates)."""
    index = StoryIndex()
    labels: list[int] = []
    next_id = 0
    for doc in docs:
        story_id, vec = index.assign(report_features(doc.title, doc.text), 0.0, (), reacts(doc.title, doc.text))
        if story_id is None:
            story_id, next_id = next_id, next_id + 1
        index.add(story_id, vec, 0.0)
        labels.append(story_id)
    return labels


def baseline_groups(docs: Sequence[Document], threshold: float) -> list[int]:
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform([f"{d.title}\n{d.text}" for d in docs])
    model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold)
    return [int(x) for x in model.fit_predict(matrix.toarray())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--seeds", type=int, default=5, help="shuffled arrival orders to average over")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    docs = load(args.dir)
    print(f"ECB+ development half: {len(docs)} documents, {len({d.topic for d in docs})} topics, "
          f"{len({d.event for d in docs})} events")  # fmt: skip

    scores = []
    started = time.perf_counter()
    for seed in range(args.seeds):
        order = list(docs)
        random.Random(seed).shuffle(order)
        scores.append(bcubed(planwatch_groups(order), [d.event for d in order]))
    elapsed = (time.perf_counter() - started) / args.seeds
    p, r, f = (statistics.mean(s[i] for s in scores) for i in range(3))
    worst = min(s[2] for s in scores)
    print(f"planwatch   P {p:.3f}  R {r:.3f}  F1 {f:.3f}  (mean of {args.seeds} orders, worst F1 {worst:.3f}; "
          f"{elapsed * 1000 / len(docs):.2f} ms a document)")  # fmt: skip

    if not args.no_baseline:
        gold = [d.event for d in docs]
        best = max(
            ((t, bcubed(baseline_groups(docs, t), gold)) for t in [x / 100 for x in range(50, 100, 2)]),
            key=lambda item: item[1][2],
        )
        t, (bp, br, bf) = best
        print(f"baseline    P {bp:.3f}  R {br:.3f}  F1 {bf:.3f}  (TF-IDF + average link, threshold {t:.2f} tuned on this half)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
