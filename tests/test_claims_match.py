"""The claim matcher (planwatch.claims): one claim in other words joins; other figures, a denial and
another outlet's non-confirmation never do, whatever the words."""

from __future__ import annotations

import json

from planwatch.claims.features import quantities, read
from planwatch.claims.match import MODEL_FILE, ClaimMatcher, PairFeatures, Veto, default_model
from planwatch.resources import data_file

# A collection as a summary sees it: the topic's words are common, so sharing them says little.
COLLECTION = [
    "A draft US plan would cap Ukraine's army at 600,000 troops, according to a copy seen by Reuters.",
    "The document sets a ceiling of 600,000 on the size of Ukraine's military.",
    "A source said the draft would limit Ukraine's army to 400,000.",
    "The plan would halve the size of Ukraine's armed forces, the Financial Times reported.",
    "The Kremlin denied that any new plan had been drafted with Washington.",
    "Envoys Steve Witkoff and Kirill Dmitriev drafted the 28-point plan over several weeks.",
    "Reuters could not independently confirm the details of the plan.",
    "CNBC has not independently confirmed the full text of the plan.",
    "Ukraine's grain exports fell for a third week, traders said.",
    "Zelensky said Ukraine faced one of the most difficult moments in its history.",
]


def matcher() -> ClaimMatcher:
    return ClaimMatcher(COLLECTION)


def test_one_figure_in_other_words_is_one_claim() -> None:
    judged = matcher().judge(COLLECTION[0], COLLECTION[1])
    assert judged.same and judged.veto is None


def test_other_figures_for_the_same_thing_are_never_one_claim() -> None:
    judged = matcher().judge(COLLECTION[0], COLLECTION[2])
    assert not judged.same and judged.veto is Veto.FIGURES
    # "halve" is a figure too: 50% is not 600,000
    assert matcher().judge(COLLECTION[3], COLLECTION[0]).veto is Veto.FIGURES


def test_a_denial_is_never_the_claim_it_denies() -> None:
    claim = "Witkoff and Dmitriev drafted a new plan with Washington and Moscow."
    judged = ClaimMatcher([*COLLECTION, claim]).judge(COLLECTION[4], claim)
    assert not judged.same and judged.veto is Veto.DENIAL


def test_each_outlets_non_confirmation_is_its_own() -> None:
    judged = matcher().judge(COLLECTION[6], COLLECTION[7])
    assert not judged.same and judged.veto is Veto.EACH_OWN
    assert matcher().judge(COLLECTION[6], COLLECTION[0]).veto is Veto.CONFIRMATION


def test_unrelated_sentences_are_not_one_claim() -> None:
    assert not matcher().same(COLLECTION[8], COLLECTION[9])
    assert not matcher().same(COLLECTION[5], COLLECTION[9])


def test_quantities_are_normalised_and_dates_and_counts_left_out() -> None:
    assert quantities("capped at 400,000") == quantities("capped at 400k") == quantities("capped at 400 000")
    assert quantities("the army would be halved") == quantities("cut by 50%") == frozenset({"50%"})
    assert quantities("$100bn of frozen assets") == frozenset({"1e+11"})
    assert quantities("On Nov. 19, 2025, two senators spoke at 10:30") == frozenset()
    # Model names, ordinals and designations name things; they do not count them.
    assert quantities("F-16 jets, S-400 systems, COVID-19, the 21st century, Resolution 2803") == frozenset()
    assert quantities("a 28-point plan") == frozenset({"28"}) and quantities("nineteen points") == frozenset({"19"})


def test_names_meet_across_alphabets_and_outlets_are_not_names() -> None:
    english = read("On Thursday envoy Witkoff met Dmitriev, Reuters said.")
    russian = read("В четверг спецпосланник Уиткофф встретился с Дмитриевым.")
    assert english.names & russian.names and len(english.names & russian.names) == 2
    assert not any(key in english.names for key in read("He told Reuters and Axios.").names)


def test_the_shipped_model_weighs_every_feature() -> None:
    raw = json.loads(data_file(MODEL_FILE).read_text(encoding="utf-8"))
    assert set(raw["weights"]) == set(PairFeatures.names())
    assert raw["fitted_by"] == "bench/fit_claim_model.py"
    assert 0.0 < default_model().threshold < 1.0
