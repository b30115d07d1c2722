"""Sentences and terms for grouping, copy detection and summaries: rule-based, offline, fast.

No model, no downloaded data: a regex sentence splitter that knows news abbreviations, and content
words with a light suffix stemmer, which is what lexical similarity between news reports needs."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from functools import lru_cache

# Abbreviations after which a full stop does not end a sentence (lower-case, without the final dot).
_ABBREVIATIONS = frozenset(
    (
        "mr mrs ms dr prof gen lt col maj capt sgt adm gov sen rep pres st jr sr rev hon amb sec cmdr jan feb "
        "mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun inc ltd co corp bros dept est "
        "approx vs etc al fig no nos vol eds ed op cf ca u.s u.k u.n e.u u.s.a a.m p.m d.c e.g i.e"
    ).split()
)
_SENTENCE_END = re.compile(r"""(?<=[.!?…])["'”’»)\]]*\s+(?=["'“‘«(\[]?[A-Z0-9А-ЯЁ])""")
_WORD = re.compile(r"[^\W_]+(?:[-'’.][^\W_]+|,\d{3}(?!\d))*", re.UNICODE)
_NUMBER = re.compile(r"\d")

STOPWORDS = frozenset(
    (
        "a about above after again against all almost also although am among an and another any are around as "
        "at be became because been before being below between both but by can could did do does doing down "
        "during each either else ever every few for from further had has have having he her here hers herself "
        "him himself his how however i if in into is it its itself just least less like made make many may me "
        "might more most much must my myself near neither never no nor not now of off often on once one only "
        "or other others otherwise our ours ourselves out over own per perhaps rather same say says said "
        "saying she should since so some still such than that the their theirs them themselves then there "
        "these they this those though through thus to too toward towards under until up upon us very via was "
        "we were what whatever when where whether which while who whom whose why will with within without "
        "would yet you your yours yourself yourselves week weeks day days year years today yesterday tomorrow "
        "monday tuesday wednesday thursday friday saturday sunday told tell according report reports reported "
        "reportedly news new also mr mrs ms"
    ).split()
)


def split_sentences(text: str) -> list[str]:
    """Sentences of a plain-text report, paragraph breaks respected, abbreviations not split on."""
    sentences: list[str] = []
    for paragraph in text.split("\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        start = 0
        pieces: list[str] = []
        for match in _SENTENCE_END.finditer(paragraph):
            candidate = paragraph[start : match.start()].rstrip()
            last_word = candidate.rsplit(" ", 1)[-1].rstrip(".!?…\"'”’»)]").lower()
            if candidate.endswith(".") and (last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha())):
                continue  # "Gen. Smith", "U.S. officials", "J. Doe"
            pieces.append(paragraph[start : match.start()].strip())
            start = match.end()
        pieces.append(paragraph[start:].strip())
        sentences.extend(p for p in pieces if p)
    return sentences


def stem(word: str) -> str:
    """A light English suffix stripper: enough to meet 'proposals'/'proposal', 'denied'/'denies'."""
    if len(word) <= 4 or not word.isalpha() or word.endswith(("ss", "is", "us", "ics")):
        return word
    for suffix, replacement in (
        ("ies", "y"), ("ied", "y"), ("ing", ""), ("ness", ""), ("ments", "ment"), ("ers", "er"),
        ("ed", ""), ("es", "e"), ("s", ""),
    ):  # fmt: skip
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)] + replacement
            if suffix in ("ing", "ed") and len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # "stopped" -> "stop"
            return base
    return word


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def terms(text: str) -> list[str]:
    """Content terms: lower-cased, stop words dropped, lightly stemmed; numbers kept ("400,000" -> "400000")."""
    out: list[str] = []
    for word in _WORD.findall(text):
        term = _term(word)
        if term:
            out.append(term)
    return out


@lru_cache(maxsize=1 << 17)
def _term(word: str) -> str:
    """A word's term, "" for none: a report's words are mostly words seen before (cached)."""
    lowered = word.lower().replace("’", "'")
    if lowered.endswith("'s"):
        lowered = lowered[:-2]
    if _NUMBER.search(lowered):
        digits = lowered.replace(",", "")
        return digits if digits.replace(".", "").isdigit() else lowered
    if len(lowered) < 2 or lowered in STOPWORDS:
        return ""
    return DEMONYMS.get(lowered) or stem(lowered.replace("'", ""))


# Demonyms to their country, so "Russian envoy" and "Russia's envoy" share a term.
DEMONYMS = {
    "russian": "russia", "russians": "russia", "ukrainian": "ukraine", "ukrainians": "ukraine",
    "american": "us", "americans": "us", "u.s": "us", "usa": "us", "european": "europe", "europeans": "europe",
    "chinese": "china", "israeli": "israel", "israelis": "israel", "palestinian": "palestine", "iranian": "iran",
    "turkish": "turkey", "german": "germany", "french": "france", "british": "britain", "polish": "poland",
    "belarusian": "belarus", "qatari": "qatar", "saudi": "saudi", "indian": "india", "japanese": "japan",
}  # fmt: skip


def key_terms(text: str, common: frozenset[str] = frozenset()) -> list[str]:
    """Terms that name the event: proper names (capitalised, not sentence-initial) and numbers.

    `common`: words the report also writes in lower case. A title-case headline ("Microsoft Releases
    Critical Patch") capitalises ordinary words; one that the text also writes lower-case is no name."""
    out: list[str] = []
    sentence_start = True
    for word in _WORD.findall(text):
        if _NUMBER.search(word) or (
            word[:1].isupper() and not sentence_start and word.lower() not in STOPWORDS and word.lower() not in common
        ):
            term = _term(word)
            if term:
                out.append(term)
        sentence_start = word.endswith((".", "!", "?"))
    return out


def lowercase_words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text) if w.islower())


def concreteness(sentence: str) -> int:
    """Numbers and names in a sentence: the concrete claims a reader wants first."""
    tokens = _WORD.findall(sentence)
    numbers = sum(1 for t in tokens if _NUMBER.search(t))
    names = sum(1 for i, t in enumerate(tokens) if i > 0 and t[:1].isupper() and t.lower() not in STOPWORDS)
    return numbers * 2 + names


def shingles(text: str, size: int = 4) -> set[int]:
    """Hashes of overlapping word n-grams (crc32: stable across processes, unlike hash())."""
    tokens = [w.lower() for w in _WORD.findall(text)]
    if len(tokens) < size:
        return {zlib.crc32(" ".join(tokens).encode())} if tokens else set()
    return {zlib.crc32(" ".join(tokens[i : i + size]).encode()) for i in range(len(tokens) - size + 1)}


def containment(a: AbstractSet[int], b: AbstractSet[int]) -> float:
    """Share of the smaller set found in the larger: a syndicated copy with a line added still scores ~1."""
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return len(small & large) / len(small)


def normalize_title(title: str) -> str:
    return " ".join(w.lower() for w in _WORD.findall(title))


def lead(text: str, max_words: int = 80) -> str:
    """The first words of a report: where news puts its facts."""
    tokens = text.split()
    return " ".join(tokens[:max_words])


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
