"""Grouping reports into stories, one report at a time (single-pass clustering, as in topic detection
and tracking): a report joins the recent story most like it, or starts a new one.

A story is one event: a happening with its actors, place and time. So "most like it" is more than
bag-of-words cosine:
- the headline and lead weigh most (news puts the event there), and the names and numbers in them
  are compared again on their own: the same kind of event with other people or places scores lower;
- time decays the likeness: a report a day after a story's latest has to say more to join it than
  one an hour after, which keeps the day-four talks apart from the day-one leak that every report
  recaps, while a story reported every day stays one;
- a dateline year that the story's datelines never name is a veto in all but name (the earthquake
  of 4 August 2013 is not the earthquake of 2008);
- an explicit link counts: a report that cites an outlet whose report is in the story (a denial of
  "the Axios report") gets a bonus towards that story, and so does a reaction (a denial, a refusal
  to comment) towards a story several outlets carried before it;
- names meet across alphabets (anchors.py): a Russian report of an English story is compared by its
  names and numbers, since no word of it is in the story.

Deterministic for a given arrival order; incremental (a new report costs a few sparse dot products,
candidate stories found through an inverted index); no model and no network. Tuned on ECB+'s
development half and bench/data/week_dev (bench/grouping_eval.py, bench/tracking_eval.py)."""

from __future__ import annotations

import bisect
import math
import operator
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from planwatch.stories.anchors import Script, anchor_keys, script
from planwatch.stories.text import key_terms, lead, lowercase_words, terms

TITLE_WEIGHT = 2  # a headline says what the event is; the lead says it again in more words
LEAD_WORDS = 70
CANDIDATE_TERMS = 12  # stories are looked up through the report's most distinctive terms
COMMON_TERM_STORIES = 300  # a term in more live stories than this finds no candidates by itself
DEFAULT_THRESHOLD = 0.20
NAME_WEIGHT = 0.3  # share of the likeness that comes from names and numbers alone
DECAY_DAYS = 2.0  # likeness falls by 1/e for each two days since the story's latest report
OTHER_YEAR = 0.5  # the likeness kept when the lead names years and the story names others
NO_SHARED_NAME = 0.25  # the likeness kept when report and story both name names, and none in common
CITED_BONUS = 0.2  # added when the report cites an outlet that reported in the story
REACTION_BONUS = 0.2  # added when the report's headline or lead reacts (a denial) to a story before it
REACTION_LEAD_WORDS = 40
REACTION_MIN_LIKENESS = 0.08
REACTION_MIN_OUTLETS = 3
DEFAULT_WINDOW_SECONDS = 3 * 24 * 3600  # "over a few days"
# A story stops taking reports a week after it began: a topic covered every day for a month would
# otherwise chain into one endless story as its centroid drifts.
MAX_STORY_SPAN_SECONDS = 7 * 24 * 3600
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_YEAR = re.compile(r"\b(?:19[5-9]\d|20\d\d)\b")
# The year of a full date ("September 18th, 2013", "4 August 2013"): a dateline's, the event's own.
# A bare year is usually background ("the highest since 2008", "models sold in 2021").
_DATED_YEAR = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?)\s+((?:19|20)\d\d)\b"
)
_SECTION = " | "  # between the stored sections; no term holds a "|"
# A reaction to news already out: a denial, a dismissal, a refusal to comment. Its own words are few
# ("nothing new since Anchorage") and its link to the story it answers is the point of it.
_REACTION = re.compile(
    r"\b(?:den(?:y|ies|ied|ying)|dismiss(?:es|ed|ing)?|brush(?:es|ed|ing)?\s+off|downplay(?:s|ed|ing)?|"
    r"rebuff(?:s|ed|ing)?|refut(?:e|es|ed|ing)|reject(?:s|ed|ing)?|nothing\s+(?:new|has\s+changed)|"
    r"no\s+(?:innovations|consultations|official\s+(?:text|information))|"
    r"(?:declin(?:e|es|ed|ing)|refus(?:e|es|ed|ing))\s+to\s+comment|(?:won't|will\s+not)\s+comment|no\s+comment|"
    r"stays?\s+silent|unconstructive|not\s+true|fake|false)\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class ReportFeatures:
    """What grouping compares, kept with the analysis so that a later refresh need not re-read texts."""

    words: list[str]  # headline twice, the lead once, names and numbers once more
    names: list[str]  # names and numbers of the headline and lead
    years: frozenset[str]  # years in the headline (a dateline) and of full dates in the lead


def report_features(title: str, text: str) -> ReportFeatures:
    opening = lead(text, LEAD_WORDS)
    common = lowercase_words(f"{title}\n{text}")
    names = key_terms(title, common) + key_terms(opening, common)
    words = terms(title) * TITLE_WEIGHT + terms(opening) + names
    return ReportFeatures(words, names, frozenset(_YEAR.findall(title) + _DATED_YEAR.findall(opening)))


def reacts(title: str, text: str) -> bool:
    """Whether the headline or lead reacts to news already reported (see _REACTION)."""
    return bool(_REACTION.search(title) or _REACTION.search(lead(text, REACTION_LEAD_WORDS)))


def report_terms(title: str, text: str) -> list[str]:
    return report_features(title, text).words


def encode_features(features: ReportFeatures) -> str:
    return _SECTION.join((" ".join(features.words), " ".join(features.names), " ".join(sorted(features.years))))


def decode_features(stored: str) -> ReportFeatures:
    """Stored features; an analysis stored before names and years were kept has words only."""
    parts = stored.split(_SECTION) if stored else []
    words, names, years = ([p.split() for p in parts] + [[], [], []])[:3]
    return ReportFeatures(words, names, frozenset(years))


# Weights are integers, in millionths: sums of them are exact in any order, so a story's centroid is
# the same whether it was built report by report in a running process or read back in one go after a
# restart, and taking an expired report out of it leaves exactly what adding the others would.
SCALE = 1_000_000
Vector = dict[str, int]


@dataclass(frozen=True, slots=True)
class Vectors:
    words: Vector
    names: Vector
    years: frozenset[str]
    anchors: Vector = field(default_factory=dict)  # the names keyed across alphabets (anchors.py)
    script: Script = field(init=False, compare=False)  # derived: the alphabet of the words

    def __post_init__(self) -> None:
        object.__setattr__(self, "script", script(self.words))


def encode_vectors(vec: Vectors) -> str:
    """As stored with the analysis: the weights a report had when it arrived (see StoryIndex)."""
    return _SECTION.join(
        (
            " ".join(f"{t}:{w}" for t, w in vec.words.items()),
            " ".join(f"{t}:{w}" for t, w in vec.names.items()),
            " ".join(sorted(vec.years)),
            " ".join(f"{k}:{w}" for k, w in vec.anchors.items()),
        )
    )


def decode_vectors(stored: str) -> Vectors | None:
    """None for an analysis stored before weights were kept (migration 0011). Weights stored before
    anchors were kept have none: such a report meets others in its own alphabet only."""
    if not stored:
        return None
    words, names, years, keys = [*stored.split(_SECTION), "", "", "", ""][:4]
    return Vectors(_pairs(words), _pairs(names), frozenset(years.split()), _pairs(keys))


def _pairs(section: str) -> Vector:
    out: Vector = {}
    for item in section.split():
        term, _, weight = item.rpartition(":")
        out[term] = int(weight)
    return out


@dataclass(slots=True)
class _Centroid:
    weights: Vector = field(default_factory=dict)
    norm2: int = 0

    def add(self, vec: Vector, sign: int = 1) -> None:
        self.norm2 += 2 * sign * self.dot(vec) + sum(w * w for w in vec.values())
        weights = self.weights
        for term, weight in vec.items():
            weights[term] = weights.get(term, 0) + sign * weight

    def forget(self, term: str) -> None:
        """A term no report of the story has any more (its weight is then exactly 0)."""
        self.weights.pop(term, None)

    def dot(self, vec: Vector) -> int:
        weights = self.weights
        # The shared terms are found in C (a key view intersection): most of a report's terms are not
        # in a given story.
        shared = vec.keys() & weights.keys()
        return sum(map(operator.mul, map(vec.__getitem__, shared), map(weights.__getitem__, shared)))

    def cosine(self, vec: Vector) -> float:
        return self.dot(vec) / (SCALE * math.sqrt(self.norm2)) if self.norm2 > 0 else 0.0


@dataclass(slots=True)
class _Story:
    words: _Centroid = field(default_factory=_Centroid)
    names: _Centroid = field(default_factory=_Centroid)
    anchors: _Centroid = field(default_factory=_Centroid)
    scripts: Counter[Script] = field(default_factory=Counter)
    # term (and name key by alphabet, see _anchor_posting) -> reports of the story that have it
    terms: Counter[str] = field(default_factory=Counter)
    years: Counter[str] = field(default_factory=Counter)
    outlets: Counter[str] = field(default_factory=Counter)
    times: list[float] = field(default_factory=list)  # publication times, sorted

    @property
    def first(self) -> float:
        return self.times[0] if self.times else math.inf

    @property
    def last(self) -> float:
        return self.times[-1] if self.times else -math.inf

    @property
    def size(self) -> int:
        return len(self.times)

    def written_in(self, alphabet: Script) -> bool:
        """Whether at least half of the story's reports are in `alphabet`: its words can be compared."""
        return 2 * self.scripts[alphabet] >= self.size


@dataclass(frozen=True, slots=True)
class Likeness:
    """How much a report is like a story, and what made it so (for tests and explanations)."""

    story_id: int
    words: float
    names: float
    decay: float
    other_year: bool
    cited: bool
    anchors: float = -1.0
    reaction: bool = False

    @property
    def score(self) -> float:
        return _score(self.words, self.names, self.decay, self.other_year, self.cited, self.anchors, self.reaction)


def _score(
    words: float, names: float, decay: float, other_year: bool, cited: bool, anchors: float = -1.0, reaction: bool = False
) -> float:
    """names: -1 when the report or the story names no names (the names part then does not count);
    anchors: the names' likeness across alphabets, -1 when report and story are in one alphabet."""
    base = (1 - NAME_WEIGHT) * words + NAME_WEIGHT * names if names >= 0 else words
    base *= NO_SHARED_NAME if names == 0.0 else 1.0
    # In another alphabet the words cannot meet; the people, places and figures still can.
    base = max(base, anchors)
    base *= OTHER_YEAR if other_year else 1.0
    return (base + (CITED_BONUS if cited else 0.0) + (REACTION_BONUS if reaction else 0.0)) * decay


def _weigh(items: list[str], df: Counter[str], docs: int) -> Vector:
    counts = Counter(items)
    n = docs + 1
    # Terms in (nearly) every report (boilerplate, the topic's own words) weigh (nearly) nothing.
    weights = {t: (1.0 + math.log(c)) * math.log((n + 1) / (df.get(t, 0) + 1)) for t, c in counts.items()}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {t: round(w / norm * SCALE) for t, w in weights.items()}


def _anchor_posting(alphabet: Script, key: str) -> str:
    """A story's name key in one alphabet, as a posting: "@" is in no term, so it meets no word."""
    return f"@{alphabet}:{key}"


class StoryIndex:
    """The stories of the window, with the document frequencies their weights come from.

    A report's vectors are weighed once, with the frequencies of the reports before it (incremental
    IDF, as topic detection and tracking systems do), and kept: the refresh stores them with the
    analysis, so the index read back after a restart is the one the running process had."""

    def __init__(self, *, threshold: float = DEFAULT_THRESHOLD, window_seconds: float = DEFAULT_WINDOW_SECONDS) -> None:
        self.threshold = threshold
        self.window = window_seconds
        self.df: Counter[str] = Counter()
        self.name_df: Counter[str] = Counter()
        self.anchor_df: Counter[str] = Counter()
        self.docs = 0
        self.stories: dict[int, _Story] = {}
        self.postings: dict[str, set[int]] = {}

    def observe(self, features: ReportFeatures) -> None:
        """Count a document for the inverse document frequencies."""
        self.df.update(set(features.words))
        self.name_df.update(set(features.names))
        self.anchor_df.update(set(anchor_keys(features.names)))
        self.docs += 1

    def count(self, vec: Vectors, sign: int = 1) -> None:
        """observe() from a report's vectors (their terms are its distinct features); -1 forgets it."""
        for counter, items in ((self.df, vec.words), (self.name_df, vec.names), (self.anchor_df, vec.anchors)):
            for term in items:
                left = counter[term] + sign
                if left > 0:
                    counter[term] = left
                else:
                    del counter[term]
        self.docs += sign

    def vectors(self, features: ReportFeatures) -> Vectors:
        return Vectors(
            _weigh(features.words, self.df, self.docs),
            _weigh(features.names, self.name_df, self.docs),
            features.years,
            _weigh(anchor_keys(features.names), self.anchor_df, self.docs),
        )

    def likeness(
        self, story_id: int, vec: Vectors, published: float, cites: Iterable[str] = (), reaction: bool = False
    ) -> Likeness:
        return Likeness(story_id, *self._parts(self.stories[story_id], vec, published, cites, reaction))

    @staticmethod
    def _parts(
        story: _Story, vec: Vectors, published: float, cites: Iterable[str], reaction: bool = False
    ) -> tuple[float, float, float, bool, bool, float, bool]:
        names = story.names.cosine(vec.names) if vec.names and story.names.norm2 > 0 else -1.0
        gap_days = max(0.0, published - story.last) / 86400 if story.size else 0.0
        across = -1.0 if story.written_in(vec.script) else story.anchors.cosine(vec.anchors)
        words = story.words.cosine(vec.words)
        return (
            words,
            names,
            math.exp(-gap_days / DECAY_DAYS),
            bool(vec.years and story.years and not vec.years.intersection(story.years)),
            any(outlet in story.outlets for outlet in cites),
            across,
            # A reaction answers news already out (reported by several outlets), names some of its
            # people, places or figures, and shares some of its words besides.
            reaction
            and story.first < published
            and len(story.outlets) >= REACTION_MIN_OUTLETS
            and max(names, across) > 0
            and max(words, across) >= REACTION_MIN_LIKENESS,
        )

    def candidates(self, vec: Vectors) -> set[int]:
        """Stories sharing one of the report's heaviest terms. A term that hundreds of stories have
        (a country, "talks") weighs little and would make every story a candidate: its stories are
        reached through the report's rarer terms, or, when it has none, the latest few."""
        known = sorted((t for t in vec.words if t in self.postings), key=lambda t: (-vec.words[t], t))[:CANDIDATE_TERMS]
        found: set[int] = set()
        common: list[str] = []
        for term in known:
            stories = self.postings[term]
            if len(stories) > COMMON_TERM_STORIES:
                common.append(term)
            else:
                found |= stories
        if not found and common:
            rarest = min(common, key=lambda t: (len(self.postings[t]), t))
            found = set(sorted(self.postings[rarest])[-COMMON_TERM_STORIES:])
        # Stories in other alphabets, through the names they share (a Russian report of the leak).
        heaviest = sorted(vec.anchors, key=lambda k: (-vec.anchors[k], k))[:CANDIDATE_TERMS]
        for alphabet in Script:
            if alphabet != vec.script:
                for key in heaviest:
                    stories = self.postings.get(_anchor_posting(alphabet, key), set())
                    if len(stories) <= COMMON_TERM_STORIES:
                        found |= stories
        return found

    def best(self, vec: Vectors, published: float, cites: Iterable[str] = (), reaction: bool = False) -> Likeness | None:
        """The most similar story within the time window."""
        cited = frozenset(cites)
        found: int | None = None
        top = -math.inf
        for story_id in sorted(self.candidates(vec)):
            story = self.stories[story_id]
            first, last = story.times[0], story.times[-1]
            if published < first - self.window or published > last + self.window:
                continue
            if published > first + MAX_STORY_SPAN_SECONDS:
                continue
            score = _score(*self._parts(story, vec, published, cited, reaction))
            if score > top:
                found, top = story_id, score
        return None if found is None else self.likeness(found, vec, published, cited, reaction)

    def add(self, story_id: int, vec: Vectors, published: float, outlet: str | None = None) -> None:
        story = self.stories.setdefault(story_id, _Story())
        story.words.add(vec.words)
        story.names.add(vec.names)
        story.anchors.add(vec.anchors)
        story.scripts[vec.script] += 1
        story.years.update(vec.years)
        if outlet:
            story.outlets[outlet] += 1
        for term in (*vec.words, *(_anchor_posting(vec.script, k) for k in vec.anchors)):
            if story.terms[term] == 0:
                self.postings.setdefault(term, set()).add(story_id)
            story.terms[term] += 1
        bisect.insort(story.times, published)

    def remove(self, story_id: int, vec: Vectors, published: float, outlet: str | None = None) -> None:
        """Undo add(): a report leaving the window, or changed and about to be added again."""
        story = self.stories[story_id]
        story.words.add(vec.words, -1)
        story.names.add(vec.names, -1)
        story.anchors.add(vec.anchors, -1)
        story.scripts[vec.script] -= 1
        story.years.subtract(vec.years)
        story.years = +story.years
        if outlet:
            story.outlets[outlet] -= 1
            story.outlets = +story.outlets
        for term in (*vec.words, *(_anchor_posting(vec.script, k) for k in vec.anchors)):
            story.terms[term] -= 1
            if story.terms[term] <= 0:
                del story.terms[term]
                story.words.forget(term)
                stories = self.postings[term]
                stories.discard(story_id)
                if not stories:
                    del self.postings[term]
        for term in vec.names:
            if story.names.weights.get(term) == 0:
                story.names.forget(term)
        for key in vec.anchors:
            if story.anchors.weights.get(key) == 0:
                story.anchors.forget(key)
        del story.times[bisect.bisect_left(story.times, published)]
        if not story.times:
            del self.stories[story_id]

    def renumber(self, ids: dict[int, int]) -> None:
        """Stories numbered provisionally while a batch was analysed get the ids the database gave."""
        for old, new in ids.items():
            story = self.stories.pop(old, None)
            if story is None:
                continue
            self.stories[new] = story
            for term in story.terms:
                stories = self.postings[term]
                stories.discard(old)
                stories.add(new)

    def assign(
        self, features: ReportFeatures, published: float, cites: Iterable[str] = (), reaction: bool = False
    ) -> tuple[int | None, Vectors]:
        """The story a new report joins (None: it starts one), and its vectors for `add`.
        `reaction`: the report reacts to news already out (reacts())."""
        self.observe(features)
        vec = self.vectors(features)
        like = self.best(vec, published, cites, reaction)
        return (like.story_id if like is not None and like.score >= self.threshold else None), vec
