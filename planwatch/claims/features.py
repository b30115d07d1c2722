"""A sentence as claim matching sees it.

Two sentences state the same claim when they share what happened, to whom and how much; word overlap
alone misses paraphrases ("halve its army" / "cut to roughly half its size") and merges different
claims that share the story's words ("capped at 400,000" / "capped at 600,000"). So a sentence is
read for:
- its content terms (stemmed) and the character 4-grams of its content words, which meet across
  inflection and spelling ("demilitarised" / "demilitarized");
- its names, keyed across alphabets and transliterations (stories.anchors), outlets left out (who
  reports a claim is not what the claim is about);
- its quantities ("400,000", "400k", "half", "28-point"), dates and years left out;
- its polarity (a negation or a denial) and whether it is a non-confirmation ("could not confirm")."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from planwatch.stories.anchors import Script, anchor_key, script
from planwatch.stories.outlets import OutletRegistry, registry
from planwatch.stories.text import STOPWORDS, _term, stem, terms, words

GRAM = 4

_QUANTITY = re.compile(
    r"(?<![\w.-])(?<![A-Za-z]-)(\$|€|£)?(\d{1,3}(?:[,\s]\d{3})+|\d+(?:\.\d+)?)\s*(%|percent|per\s+cent|k\b|thousand|million|m\b|mn\b|"
    r"billion|bn\b|b\b)?",
    re.I,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(rf"\b{_MONTH}\s+\d{{1,2}}\b|\b\d{{1,2}}\s+{_MONTH}|\b\d{{1,2}}:\d{{2}}\b|\b(?:19|20)\d\d\b", re.I)
_ORDINAL = re.compile(
    r"\b\d+(?:st|nd|rd|th)\b|\b(?:resolution|article|section|chapter|paragraph|flight|no\.|number|route|gate|unit)\s+\d+",
    re.I,
)  # ordinals and designations: "the 21st", "Resolution 2803" name things, they do not count them
_SCALE = {"k": 1e3, "thousand": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9}
# Words that state a quantity ("halve", "a third"), as the figure a number would give.
_QUANTITY_WORDS = {
    "half": "50%", "halve": "50%", "halved": "50%", "halving": "50%", "halves": "50%",
    "third": "33%", "quarter": "25%", "double": "200%", "doubled": "200%", "triple": "300%",
}  # fmt: skip
# Spelled-out numbers from ten up ("nineteen points"); "two senators" is a count, not a figure.
_NUMBER_WORDS = dict(
    zip(
        "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty".split(),
        range(10, 21),
        strict=True,
    )
)
MIN_FIGURE = 10  # bare numbers below it ("two sources", "3 people") are counts, not the claim's figures
_NEGATION = re.compile(r"\b(?:not|no|never|nothing|none|neither|nor|without|не|нет|ні)\b|n['’]t\b", re.I)
# A denial: it states that another claim is wrong, so it is never that claim.
_DENIAL = re.compile(
    r"\b(?:den(?:y|ies|ied|ying)|dismiss(?:es|ed|ing)?|reject(?:s|ed|ing)?|refut(?:e|es|ed|ing)|rebuff(?:s|ed)?|"
    r"false|fake|untrue|nothing\s+new|no\s+[«\"“']?(?:new|innovations)|brush\w*\s+aside|play\w*\s+down|downplay\w*|"
    r"опроверг\w*|спростува\w*)\b",
    re.I,
)
_UNCONFIRMED = re.compile(
    r"\b(?:could|can|did|was|were|has|have)\s*(?:not|n't|’t)\s+(?:been\s+)?(?:able\s+to\s+)?"
    r"(?:independently\s+|immediately\s+)?(?:confirm|verify|corroborate)\w*|\bunable\s+to\s+(?:independently\s+)?"
    r"(?:confirm|verify)|\bunverified\b|\bnot\s+(?:been\s+)?(?:independently\s+)?(?:confirmed|verified)\b",
    re.I,
)


# Words news uses for one thing or one act, folded to the first of their group (after stemming):
# the predicate of a claim ("cap" / "limit" / "ceiling") is how paraphrases differ most.
_SYNONYM_GROUPS = (
    "army military troop force armed soldier",
    "cap limit ceiling restrict restriction",
    "cut reduce reduction shrink slash trim",
    "cede surrender withdraw withdrawal relinquish abandon yield",
    "plan framework proposal draft document blueprint text initiative",
    "say tell state told claim assert",
    "agree accept endorse approve",
    "reject refuse dismiss deny denial rebuff",
    "meet meeting talk talks negotiation negotiate hold",
    "deadline ultimatum",
    "recognise recognize recognition acknowledge",
    "territory land region area",
    "ban bar prohibit exclude",
    "join membership entry accession",
    "sanction restriction penalty",
    "election vote ballot poll",
    "asset fund money",
    "freeze frozen",
    "guarantee assurance",
    "official source",
    "secret secretly quiet quietly covert",
    "war conflict fighting",
    "end stop halt",
    "visit trip travel",
    "send dispatch",
    "president leader",
    "propose suggest offer",
    "receive get obtain",
    "hand deliver give present",
    "progress advance",
    "productive constructive",
)
_SYNONYMS = {stem(word): group.split()[0] for group in _SYNONYM_GROUPS for word in group.split()}


@dataclass(frozen=True, slots=True)
class ClaimText:
    text: str
    terms: frozenset[str]
    grams: frozenset[str]
    names: frozenset[str]  # anchor keys of the names, outlets left out
    quantities: frozenset[str]
    figure_context: frozenset[str]  # terms beside the figures: what they count ("army", "point")
    negated: bool
    denial: bool
    unconfirmed: bool
    script: Script


def quantities(text: str) -> frozenset[str]:
    """The figures a sentence states, normalised ("400,000" = "400k" = "400000"; "half" = "50%")."""
    plain = _ORDINAL.sub(" ", _DATE.sub(" ", text))
    found: set[str] = set()
    for match in _QUANTITY.finditer(plain):
        digits, unit = match.group(2), (match.group(3) or "").lower()
        value = float(re.sub(r"[,\s]", "", digits))
        if unit in ("%", "percent") or unit.startswith("per"):
            found.add(f"{value:g}%")
        elif unit or value >= MIN_FIGURE or match.group(1):
            found.add(f"{value * _SCALE.get(unit, 1):g}")
    for word in words(plain.lower()):
        if word in _QUANTITY_WORDS:
            found.add(_QUANTITY_WORDS[word])
        elif word in _NUMBER_WORDS:
            found.add(str(_NUMBER_WORDS[word]))
        elif "-" in word and word.split("-", 1)[0] in _NUMBER_WORDS:  # "nineteen-point"
            found.add(str(_NUMBER_WORDS[word.split("-", 1)[0]]))
    return frozenset(found)


# Predicates of a change, not what is counted: "cut the army by half" and "cut the plan to 19 points"
# are about different things.
_NOT_CONTEXT = frozenset({"cut", "cap", "say", "plan", "roughly", "nearly", "almost", "around", "least", "current", "now"})
CONTEXT_WORDS = 5


def figure_context(text: str) -> frozenset[str]:
    """The terms within CONTEXT_WORDS of each figure (and a figure's own unit: the "point" of
    "28-point"), names and hedges left out, so that two figures are compared only when they count
    the same thing."""
    tokens = words(text)
    figures = [
        i for i, token in enumerate(tokens)
        if any(c.isdigit() for c in token) or token.lower() in _QUANTITY_WORDS or token.lower().split("-", 1)[0] in _NUMBER_WORDS
    ]  # fmt: skip
    if not figures:
        return frozenset()
    folded = [
        "" if any(c.isdigit() for c in t) or t[:1].isupper() else _SYNONYMS.get(term, term) if (term := _term(t)) else ""
        for t in tokens
    ]  # names are who and where, not what is counted ("Ukraine's army": the army)
    out: set[str] = set()
    for index in figures:
        lowered = tokens[index].lower()
        if "-" in lowered:
            unit = stem(lowered.rsplit("-", 1)[1])
            out.add(_SYNONYMS.get(unit, unit))
        out.update(folded[max(0, index - CONTEXT_WORDS) : index + CONTEXT_WORDS + 1])
    out.discard("")
    return frozenset(out - _NOT_CONTEXT)


def shown(value: str) -> str:
    """A normalised figure as a reader writes it: "600000" -> "600,000", "1e+11" -> "100,000,000,000"."""
    if value.endswith("%"):
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number:,.0f}" if number == int(number) else f"{number:,}"


def _grams(content: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for word in content:
        padded = f" {word} "
        out.update(padded[i : i + GRAM] for i in range(max(1, len(padded) - GRAM + 1)))
    return frozenset(out)


@lru_cache(maxsize=1 << 14)
def _name_key(word: str) -> str:
    lowered = word.lower().replace("’", "'")
    if lowered.endswith("'s"):
        lowered = lowered[:-2]
    return anchor_key(stem(lowered))


def names(
    text: str,
    name_words: frozenset[str] = frozenset(),
    outlets: OutletRegistry | None = None,
    ordinary: frozenset[str] = frozenset(),
) -> frozenset[str]:
    """Capitalised words that are not sentence-initial, or that `name_words` knows as names (seen
    capitalised mid-sentence elsewhere), minus outlets and minus `ordinary` words (written lower-case
    elsewhere in the collection: the "Security Council Secretary" of a title); as anchor keys, so
    that spellings meet."""
    known = outlets or registry()
    spans = [(m.start(), m.end()) for m in known.mentions(text)]
    out: set[str] = set()
    for index, match in enumerate(re.finditer(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", text)):
        word = match.group()
        if not word[:1].isupper() or word.lower() in STOPWORDS or word.lower() in ordinary:
            continue
        if index == 0 and word.lower() not in name_words:
            continue
        if any(start <= match.start() < end for start, end in spans):
            continue
        key = _name_key(word)
        if key:
            out.add(key)
    return frozenset(out)


def read(
    text: str,
    name_words: frozenset[str] = frozenset(),
    outlets: OutletRegistry | None = None,
    ordinary: frozenset[str] = frozenset(),
) -> ClaimText:
    content = [w.lower() for w in words(text) if w.lower() not in STOPWORDS and not any(c.isdigit() for c in w)]
    found = frozenset(_SYNONYMS.get(t, t) for t in terms(text))
    return ClaimText(
        text=text,
        terms=found,
        grams=_grams(content),
        names=names(text, name_words, outlets, ordinary),
        quantities=quantities(text),
        figure_context=figure_context(text),
        negated=bool(_NEGATION.search(text)),
        denial=bool(_DENIAL.search(text)),
        unconfirmed=bool(_UNCONFIRMED.search(text)),
        script=script(found),
    )


def ordinary_words(sentences: Iterable[str]) -> frozenset[str]:
    """Words written lower-case somewhere in the collection: capitalised, they are titles, not names."""
    return frozenset(w for sentence in sentences for w in words(sentence) if w.islower())


def name_words(sentences: Iterable[str]) -> frozenset[str]:
    """Words written capitalised in the middle of a sentence somewhere in the collection: names."""
    out: set[str] = set()
    for sentence in sentences:
        for index, word in enumerate(words(sentence)):
            if index and word[:1].isupper() and word.lower() not in STOPWORDS:
                out.add(word.lower())
    return frozenset(out)
