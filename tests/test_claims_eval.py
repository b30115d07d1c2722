"""bench/claims_eval.py: the scores it prints are computed right, and its ECB+ pairs mean what they say.

The ECB+ part reads the development half from ../shared at run time (skipped, saying why, without it)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.claims_eval import (
    MATCHERS,
    WEEK_DEV,
    BenchError,
    DataSet,
    EcbSample,
    Matcher,
    Pair,
    PairKind,
    annotated_sentences,
    best_threshold,
    ecb_pairs,
    plain,
    read_pairs,
    read_week,
    run,
    score,
)
from bench.ecbplus import load
from tests.conftest import shared_path


def test_scores_on_a_hand_made_example() -> None:
    s = score([True, True, False, True, False], [True, True, True, False, False])
    assert (s.tp, s.fp, s.fn, s.tn) == (2, 1, 1, 1)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(2 / 3)
    assert s.accuracy == pytest.approx(3 / 5)
    never = score([False, False], [True, False])  # nothing predicted: precision and F1 are 0, not an error
    assert (never.precision, never.recall, never.f1, never.accuracy) == (0.0, 0.0, 0.0, 0.5)


def test_threshold_is_the_best_f1_and_the_higher_of_equals() -> None:
    # cut 0.3 keeps 3 of 3 same pairs and 1 different one: F1 6/7, the best of the five cuts
    assert best_threshold([0.9, 0.8, 0.4, 0.3, 0.1], [True, True, False, True, False]) == 0.3
    # cuts 0.9 and 0.4 both give F1 2/3; precision first takes 0.9
    assert best_threshold([0.9, 0.6, 0.5, 0.4], [True, False, False, True]) == 0.9


def test_a_new_matcher_is_one_line_and_is_scored_per_kind() -> None:
    dev = DataSet(
        "dev",
        (
            Pair("Kyiv got the draft.", "Kyiv got the draft.", True, "copy"),
            Pair("Kyiv got the draft on Thursday.", "The draft reached Kyiv.", True, "paraphrase"),
            Pair("The army is capped at 600,000.", "The army is capped at 400,000.", False, "different number"),
            Pair("Putin welcomed the plan.", "Zelensky rejected the plan.", False, "different actor"),
        ),
    )
    exact = Matcher("exact", plain(lambda a, b: a == b))
    thresholds, (result,) = run([dev], [*MATCHERS, exact], dev)
    assert thresholds["exact"] == 1.0  # F1 2/3, as "all same" (cut 0) has: precision first
    assert thresholds["planwatch"] == 0.3  # its own, not tuned
    exact_scores = result.scores["exact"]
    assert (exact_scores.tp, exact_scores.fp, exact_scores.fn, exact_scores.tn) == (1, 0, 1, 2)
    assert (result.n, result.positives, result.majority) == (4, 2, 0.5)
    by_kind = {k.kind: k for k in result.by_kind}
    assert by_kind["copy"].accuracy["exact"] == 1.0
    assert by_kind["paraphrase"].accuracy["exact"] == 0.0
    assert by_kind["copy"].accuracy["planwatch"] == 1.0  # an identical sentence has cosine 1


def test_a_broken_pairs_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "claim_pairs.jsonl"
    path.write_text('{"a": "x", "b": "y", "same": true}\n{"a": "x", "b": "y"}\n', encoding="utf-8")
    with pytest.raises(BenchError, match=r"claim_pairs\.jsonl:2: not a claim pair"):
        read_pairs(path)


def test_the_week_is_matched_in_its_on_topic_reports() -> None:
    week = read_week(WEEK_DEV, "week_dev")
    assert len(week.pairs) == 300
    assert {p.context for p in week.pairs} == {"week"}
    collection = week.contexts["week"]
    assert len(collection) > 300
    assert not any("Hollinsford" in s for s in collection)  # a decoy report is not in the story's collection


@pytest.fixture(scope="module")
def ecb() -> tuple[Path, EcbSample]:
    directory = shared_path("corpus", "ecbplus-dev")
    return directory, ecb_pairs(annotated_sentences(load(directory), directory), size=400, seed=3)


def test_ecb_pairs_share_a_chain_exactly_when_positive(ecb: tuple[Path, EcbSample]) -> None:
    directory, sample = ecb
    with (directory / "ECBplus_coreference_sentences.csv").open(encoding="utf-8", newline="") as handle:
        listed = {(f"{r['Topic']}_{r['File']}", int(r["Sentence Number"])) for r in csv.DictReader(handle)}
    kinds = {kind: [p for p in sample.pairs if p.kind is kind] for kind in PairKind}
    assert len(sample.pairs) == 400
    assert all(kinds.values())
    assert len(kinds[PairKind.OTHER_TOPIC]) == 60  # EASY_SHARE of the sample
    for pair in sample.pairs:
        assert pair.a.doc != pair.b.doc
        assert {(pair.a.doc, pair.a.number), (pair.b.doc, pair.b.number)} <= listed
        assert pair.a.events and pair.b.events
        assert pair.same == bool(pair.a.events & pair.b.events)
        assert (pair.a.topic == pair.b.topic) == (pair.kind is not PairKind.OTHER_TOPIC)
        assert pair.a.topic % 2 == 1 and pair.b.topic % 2 == 1
    assert len({(p.a.doc, p.a.number, p.b.doc, p.b.number) for p in sample.pairs}) == 400


def test_ecb_sample_is_deterministic(ecb: tuple[Path, EcbSample]) -> None:
    directory, sample = ecb
    sentences = annotated_sentences(load(directory), directory)
    assert ecb_pairs(sentences, size=400, seed=3).pairs == sample.pairs
    assert ecb_pairs(sentences, size=400, seed=4).pairs != sample.pairs
