"""Whether two sentences of different reports state one claim.

Precision first: a summary that merges "capped at 400,000" with "capped at 600,000", or a denial with
what it denies, misleads the reader; one that shows a paraphrase twice only repeats itself. So
vetoes come before any likeness: different figures (both sentences state quantities, none in
common), a denial against a statement, a non-confirmation against a statement, and two outlets'
non-confirmations (each is that outlet's own statement). Past them, a small logistic model over the pair's features
(weights in planwatch/data/claim_model.json, fitted by bench/fit_claim_model.py on labelled pairs:
see there for the data) says how likely the two are one claim.

The model sees the collection the pair is matched in (a topic's reports): a word every sentence uses
("plan", "Ukraine") weighs little, so "same words" means the same *specific* words."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from functools import lru_cache

from planwatch.claims.features import ClaimText, name_words, ordinary_words, read
from planwatch.resources import data_file
from planwatch.stories.outlets import OutletRegistry

SAME_CLAIM = 0.5  # the model's probability at or above which two sentences are one claim
MODEL_FILE = "claim_model.json"


class Veto(StrEnum):
    """Why two sentences are never one claim, whatever their words."""

    FIGURES = "different figures"
    DENIAL = "one denies what the other states"
    CONFIRMATION = "one could not confirm what the other states"
    EACH_OWN = "each outlet's non-confirmation is its own"


@dataclass(frozen=True, slots=True)
class PairFeatures:
    """What the model weighs, each in [0, 1]."""

    cosine: float  # TF-IDF cosine of the terms
    weighted_overlap: float  # IDF-weighted Jaccard of the term sets
    grams: float  # Jaccard of the content words' character 4-grams
    gram_containment: float  # share of the smaller sentence's grams in the other
    shared_names: float  # names in common, each by its rarity in the collection, up to two
    names_apart: float  # both name names, and none in common
    shared_figure: float  # a quantity in common, by its rarity in the collection
    one_figure: float  # one states a quantity, the other none
    polarity_apart: float  # one negates something, the other nothing

    @staticmethod
    def names() -> list[str]:
        return [f.name for f in fields(PairFeatures)]


_FEATURE_NAMES = tuple(PairFeatures.names())


@dataclass(frozen=True, slots=True)
class Judgement:
    same: bool
    probability: float
    veto: Veto | None
    features: PairFeatures


@dataclass(frozen=True, slots=True)
class Model:
    bias: float
    weights: dict[str, float]
    threshold: float = SAME_CLAIM

    def probability(self, features: PairFeatures) -> float:
        weights = self.weights
        z = self.bias + sum(weights.get(name, 0.0) * getattr(features, name) for name in _FEATURE_NAMES)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@lru_cache(maxsize=1)
def default_model() -> Model:
    raw = json.loads(data_file(MODEL_FILE).read_text(encoding="utf-8"))
    weights = {str(k): float(v) for k, v in raw["weights"].items()}
    return Model(float(raw["bias"]), weights, float(raw.get("threshold", SAME_CLAIM)))


def veto(a: ClaimText, b: ClaimText) -> Veto | None:
    if a.quantities and b.quantities and not a.quantities & b.quantities:
        return Veto.FIGURES
    if a.unconfirmed != b.unconfirmed:
        return Veto.CONFIRMATION
    if a.unconfirmed and b.unconfirmed:
        return Veto.EACH_OWN
    if a.denial != b.denial:
        return Veto.DENIAL
    return None


class ClaimMatcher:
    """Sentences of one collection (a topic's reports, a story), read once, compared in pairs."""

    def __init__(self, sentences: Iterable[str], *, model: Model | None = None, outlets: OutletRegistry | None = None) -> None:
        collection = list(dict.fromkeys(sentences))
        self.model = model or default_model()
        self._outlets = outlets
        self._names = name_words(collection)
        self._ordinary = ordinary_words(collection)
        self._read: dict[str, ClaimText] = {}
        self._weighed: dict[str, tuple[dict[str, float], float, float]] = {}  # idf weights, norm, sum
        df: Counter[str] = Counter()
        for sentence in collection:
            claim = self.read(sentence)
            df.update(claim.terms)
            df.update(f"name:{n}" for n in claim.names)
            df.update(f"figure:{q}" for q in claim.quantities)
        self._df = df
        self._docs = len(collection)

    def read(self, sentence: str) -> ClaimText:
        found = self._read.get(sentence)
        if found is None:
            found = self._read[sentence] = read(sentence, self._names, self._outlets, self._ordinary)
        return found

    def _idf(self, term: str) -> float:
        return math.log((self._docs + 1) / (self._df.get(term, 0) + 1)) + 1.0

    def _rarity(self, key: str) -> float:
        """In [0, 1]: 1 for a name or figure no other sentence has, ~0 for one nearly all have (the
        story's "28-point", its "Ukraine"): sharing it says little."""
        return math.log((self._docs + 1) / (self._df.get(key, 0) + 1)) / math.log(self._docs + 2)

    def _weights(self, claim: ClaimText) -> tuple[dict[str, float], float, float]:
        found = self._weighed.get(claim.text)
        if found is None:
            idf = {t: self._idf(t) for t in claim.terms}
            found = self._weighed[claim.text] = (idf, math.sqrt(sum(w * w for w in idf.values())), sum(idf.values()))
        return found

    def features(self, a: ClaimText, b: ClaimText) -> PairFeatures:
        shared_terms = a.terms & b.terms
        idf_a, norm_a, total_a = self._weights(a)
        idf_b, norm_b, total_b = self._weights(b)
        cosine = sum(idf_a[t] * idf_b[t] for t in shared_terms) / ((norm_a * norm_b) or 1.0)
        shared_weight = sum(idf_a[t] for t in shared_terms)
        union = (total_a + total_b - shared_weight) or 1.0
        overlap = shared_weight / union
        shared_grams = len(a.grams & b.grams)
        grams = shared_grams / (len(a.grams | b.grams) or 1)
        containment = shared_grams / (min(len(a.grams), len(b.grams)) or 1)
        shared = a.names & b.names
        shared_names = len(shared)
        names_weight = sum(self._rarity(f"name:{n}") for n in shared)
        figures = [self._rarity(f"figure:{q}") for q in a.quantities & b.quantities]
        return PairFeatures(
            cosine=cosine,
            weighted_overlap=overlap,
            grams=grams,
            gram_containment=containment,
            shared_names=min(names_weight, 2.0) / 2,
            names_apart=float(bool(a.names and b.names and not shared_names)),
            shared_figure=max(figures, default=0.0),
            one_figure=float(bool(a.quantities) != bool(b.quantities)),
            polarity_apart=float(a.negated != b.negated),
        )

    def judge(self, first: str, second: str) -> Judgement:
        a, b = self.read(first), self.read(second)
        features = self.features(a, b)
        probability = self.model.probability(features)
        found = veto(a, b)
        return Judgement(found is None and probability >= self.model.threshold, probability, found, features)

    def same(self, first: str, second: str) -> bool:
        return self.judge(first, second).same


def pair_features(collection: Sequence[str], pairs: Iterable[tuple[str, str]]) -> list[tuple[PairFeatures, Veto | None]]:
    """For fitting (bench/fit_claim_model.py): the features and veto of each pair in its collection."""
    matcher = ClaimMatcher(collection)
    out = []
    for first, second in pairs:
        a, b = matcher.read(first), matcher.read(second)
        out.append((matcher.features(a, b), veto(a, b)))
    return out
