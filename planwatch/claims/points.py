"""Summary points as claims: each point is one claim, with the outlets that carry it split into
origins and relays, the time it was first published, and its label.

- Points are chosen from the summarizer's ranked sentences, a claim at a time: a sentence that
  states a claim already chosen (in any wording, planwatch.claims.match) is never a second point.
- A claim's carriers are every sentence of the collection the matcher calls the same claim (its
  members), each read for its role (attribution.py); `corroborated` needs two origins.
- A denial is a point of its own, labelled `denied`, saying what it denies (the claim it is most
  like past the denial veto); it is never also a corroborated twin of that claim.
- Sentences that give another figure for the same thing (the matcher's figures veto, otherwise
  alike) are versions of one `disputed` point, each with its origins and first time, the newest
  marked.
- "since" is the earliest publication time among the origins (first seen, marked estimated, only
  when a feed gave no date)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

from planwatch.claims.attribution import Carrier, Role, merge, role_of
from planwatch.claims.features import shown
from planwatch.claims.match import ClaimMatcher, Veto
from planwatch.stories.outlets import OutletRegistry, registry

Label = Literal["corroborated", "single-source", "denied", "unconfirmed", "disputed"]

DISPUTE_LIKENESS = 0.45  # model probability (past the figures veto) at which two figures are versions of one
MEMBERS_COMPARED = 6  # a claim's best sentences compared when looking for its versions or its denials
DISPUTE_SCAN = 80  # ranked sentences looked at for disputed figures besides the pool's claims
MAX_DISPUTES = 2  # disputed points that surface whatever their rank
MAX_VERSIONS = 4  # versions a disputed point lists, its own included
MAX_DENIALS = 2  # denials that surface whatever their rank (the Kremlin's, the State Department's)
SAME_POINT = 0.5  # model probability at which two sentences are too alike to be two points
ATTACH_LIKENESS = 0.3  # model probability (past the denial veto) at which a denial is about a claim
COMMON_SHARE = 0.3  # a term in more of the collection's sentences than this finds no candidates...
COMMON_FLOOR = 20  # ...unless it is in this few: a small collection is compared whole
W_ORIGINS = 0.3  # a point's rank gains this per doubling of its independent origins


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _utc(moment: datetime | None) -> datetime | None:
    """Times compare across reports: a naive one (a caller's, never the store's) is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


class Candidate(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def doc(self) -> int: ...
    @property
    def score(self) -> float: ...


class Doc(Protocol):
    """A report as the summarizer sees it (stories.summarize.SourceDoc)."""

    @property
    def outlet(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def first_seen_at(self) -> datetime | None: ...
    @property
    def published_at(self) -> datetime | None: ...
    @property
    def published_estimated(self) -> bool: ...
    @property
    def independent(self) -> bool: ...
    @property
    def copy_of_outlet(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class PointSource:
    outlet: str
    url: str | None
    first_seen_at: datetime | None
    published_at: datetime | None = None
    role: str = Role.ORIGIN.value  # origin | relay | copy
    via: str | None = None  # the outlet a relay or copy credits
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class Version:
    """One value of a disputed figure, with who says it and since when."""

    text: str
    values: list[str]
    origins: list[PointSource]
    relays: list[PointSource]
    first_published_at: datetime | None
    estimated: bool
    newest: bool = False


@dataclass(frozen=True, slots=True)
class Point:
    text: str
    label: Label
    sources: list[PointSource]  # every outlet carrying it: origins first, then relays and copies
    score: float
    origins: list[PointSource] = field(default_factory=list)
    relays: list[PointSource] = field(default_factory=list)
    first_published_at: datetime | None = None
    first_outlet: str | None = None
    estimated: bool = False
    denies: str | None = None  # for a denial: the claim it denies
    versions: list[Version] = field(default_factory=list)  # for a disputed point: each value
    source_count: int = 0  # independent sources: origins, and outlets relays credit (what labels count)
    unconfirms: str | None = None  # for a non-confirmation: the claim its outlet could not confirm


@dataclass(slots=True)
class _Claim:
    rep: int  # the sentence that states it best
    members: list[int]
    label: Label
    carriers: list[Carrier] = field(default_factory=list)
    versions: list[_Claim] = field(default_factory=list)
    denies: int | None = None
    unconfirms: int | None = None
    scanned: bool = False  # formed only to look for disputes: shown only if it has one


class ClaimPicker:
    """The claims of one collection of candidate sentences (a topic's leading stories)."""

    def __init__(
        self,
        sentences: Sequence[Candidate],
        docs: Sequence[Doc],
        outlets: OutletRegistry | None = None,
        kinds: dict[int, Label] | None = None,
    ) -> None:
        self.sentences = sentences
        self.kinds = kinds or {}  # sentence index -> "denied" / "unconfirmed" (stories.summarize)
        self.docs = docs
        self.outlets = outlets or registry()
        self.matcher = ClaimMatcher([s.text for s in sentences], outlets=self.outlets)
        self.read = [self.matcher.read(s.text) for s in sentences]
        df: dict[str, int] = {}
        for claim in self.read:
            for key in claim.terms | claim.names:
                df[key] = df.get(key, 0) + 1
        limit = max(COMMON_FLOOR, int(COMMON_SHARE * len(sentences)))
        self.postings: dict[str, list[int]] = {}
        self._near: dict[int, list[int]] = {}
        for index, claim in enumerate(self.read):
            for key in claim.terms | claim.names:
                if df[key] <= limit:
                    self.postings.setdefault(key, []).append(index)

    def _neighbours(self, index: int) -> list[int]:
        """Sentences sharing a not-too-common term or name with this one: the only ones compared."""
        cached = self._near.get(index)
        if cached is not None:
            return cached
        found: set[int] = set()
        claim = self.read[index]
        for key in claim.terms | claim.names:
            found.update(self.postings.get(key, ()))
        found.discard(index)
        self._near[index] = sorted(found)
        return self._near[index]

    def members(self, index: int) -> list[int]:
        """The sentences stating the claim `index` states. Denials of one thing by one side are one
        denial however they are worded ("no innovations", "no new proposals"): between two denials
        that share a name, a lower likeness is enough."""
        text = self.sentences[index].text
        mine = self.read[index]
        out = [index]
        for other in self._neighbours(index):
            theirs = self.read[other]
            if self.sentences[other].text == text:
                out.append(other)
                continue
            judged = self.matcher.judge(text, self.sentences[other].text)
            one_denial = self.kinds.get(index) == self.kinds.get(other) == "denied" and (
                self.sentences[index].doc == self.sentences[other].doc  # a report's denial, sentence after sentence
                or (mine.names & theirs.names and judged.veto is None and judged.probability >= ATTACH_LIKENESS)
            )
            if judged.same or one_denial:
                out.append(other)
        return out

    def alike(self, a: int, b: int) -> bool:
        """Too alike to be two points: past the vetoes, at a likeness below the one that makes two
        sentences one claim (a summary can afford to leave out a near-paraphrase, not to repeat one)."""
        judged = self.matcher.judge(self.sentences[a].text, self.sentences[b].text)
        return judged.veto is None and judged.probability >= SAME_POINT

    def carriers(self, members: Sequence[int]) -> list[Carrier]:
        found: list[Carrier] = []
        for index in members:
            doc = self.docs[self.sentences[index].doc]
            if not doc.outlet:
                continue
            canonical = self.outlets.canonical(doc.outlet) or doc.outlet
            if index in self.kinds and doc.independent:
                # "Peskov dismissed the Axios report": the denial is the outlet's own news, the
                # outlet it names is what is denied.
                role, via = Role.ORIGIN, None
            else:
                role, via = role_of(
                    self.sentences[index].text, canonical, copy_of_outlet=doc.copy_of_outlet, independent=doc.independent,
                    outlets=self.outlets,
                )  # fmt: skip
            published = _utc(doc.published_at or doc.first_seen_at)
            found.append(Carrier(doc.outlet, doc.url, role, via, published,
                                 doc.published_at is None or doc.published_estimated, _utc(doc.first_seen_at),
                                 canonical))  # fmt: skip
        return merge(found)

    def likeness(self, claim: _Claim, other: int, veto: Veto) -> float:
        """How like the claim (its best-alike stated sentence) a sentence is, when only `veto` keeps them apart."""
        best = 0.0
        text = self.sentences[other].text
        for member in claim.members[:MEMBERS_COMPARED]:
            judged = self.matcher.judge(self.sentences[member].text, text)
            if judged.veto is veto:
                best = max(best, judged.probability)
        return best

    def rival_figures(self, claim: _Claim) -> dict[frozenset[str], int]:
        """Other figures for what the claim's figure counts, the best sentence for each value:
        sentences only the figures veto keeps apart from the claim, that count the same thing (the
        words beside the figures meet)."""
        mine = self.read[claim.rep]
        if not mine.quantities or claim.label not in ("single-source", "corroborated"):
            return {}
        by_value: dict[frozenset[str], int] = {}
        for other in sorted({n for m in claim.members[:MEMBERS_COMPARED] for n in self._neighbours(m)}):
            theirs = self.read[other]
            if other in claim.members or other in self.kinds or not theirs.quantities or theirs.quantities & mine.quantities:
                continue
            if len(by_value) >= MAX_VERSIONS - 1 and not any(k & theirs.quantities for k in by_value):
                continue  # enough versions: a point lists the main ones, not every figure
            if not mine.figure_context & theirs.figure_context or theirs.denial or theirs.unconfirmed:
                continue
            if self.likeness(claim, other, Veto.FIGURES) >= DISPUTE_LIKENESS:
                # One version a value: "400,000" and "400,000, far below 900,000 now" say the same.
                key = next((k for k in by_value if k & theirs.quantities), theirs.quantities)
                best = by_value.get(key)
                if best is None or self.sentences[other].score > self.sentences[best].score:
                    by_value[key] = other
        return by_value

    def denied_claim(self, denial: _Claim, claims: Sequence[_Claim], veto: Veto = Veto.DENIAL) -> _Claim | None:
        """The claim a denial is most like past the denial veto: the claim it denies (with
        Veto.CONFIRMATION: the claim a non-confirmation does not confirm)."""
        best: _Claim | None = None
        top = ATTACH_LIKENESS
        for claim in claims:
            likeness = max((self.likeness(claim, m, veto) for m in denial.members[:MEMBERS_COMPARED]), default=0.0)
            if likeness >= top:
                best, top = claim, likeness
        return best


def pick(
    picker: ClaimPicker,
    ranked: Sequence[int],
    kinds: dict[int, Label],
    *,
    max_points: int,
    min_points: int,
    redundant: Callable[[int, int], bool],
) -> list[Point]:
    """Points from ranked sentence indexes. `kinds`: the sentences that are denials or
    non-confirmations (their label is that, whatever their outlets); the best of them surface
    whatever their rank, as do disputes. `redundant(a, b)`: the summarizer's own test that two
    sentences say one thing."""
    taken: set[int] = set()
    # Denials and non-confirmations surface whatever their rank: the best few, one claim each (a
    # report's denial in three sentences is one denial).
    special: list[_Claim] = []
    for kind, most in (("denied", MAX_DENIALS), ("unconfirmed", 1)):
        found = 0
        for index in ranked:
            if found < most and kinds.get(index) == kind and index not in taken:
                special.append(_claim(picker, index, kind, taken))
                found += 1
    claims: list[_Claim] = []
    limit = max(max_points - len(special), min_points)
    for index in ranked:
        if len(claims) >= 2 * limit:  # more claims than shown: their origins decide among them
            break
        if index in taken or index in kinds or any(redundant(index, c.rep) or picker.alike(index, c.rep) for c in claims):
            continue
        claims.append(_claim(picker, index, "single-source", taken))
    # Figures the pool does not hold may still be disputed: the ranked sentences that state one are
    # looked at too, so that a dispute in the window always surfaces.
    for index in ranked[:DISPUTE_SCAN]:
        if index not in taken and picker.read[index].quantities and index not in kinds:
            claim = _claim(picker, index, "single-source", taken)
            claim.scanned = True
            claims.append(claim)
    claims = _disputes(picker, sorted(claims, key=lambda c: -_rank(picker, c)), taken)
    disputed = [c for c in claims if c.versions][:MAX_DISPUTES]
    others = [c for c in claims if c not in disputed and not c.scanned]
    others.sort(key=lambda c: -_rank(picker, c))
    chosen = others[: max(limit - len(disputed), 1)] + disputed
    chosen.sort(key=lambda c: -_rank(picker, c))
    chosen += special
    for claim in chosen:
        if claim.label in ("denied", "unconfirmed"):  # what it is about: a claim shown, else one weighed
            veto = Veto.DENIAL if claim.label == "denied" else Veto.CONFIRMATION
            plain = [c for c in chosen if c.label not in ("denied", "unconfirmed")]
            target = picker.denied_claim(claim, plain, veto)
            target = target or picker.denied_claim(claim, [c for c in claims if c.label not in ("denied", "unconfirmed")], veto)
            if claim.label == "denied":
                claim.denies = target.rep if target else None
            else:
                claim.unconfirms = target.rep if target else None
    # Denials and disputes surface: what is cut, if anything, is the lowest-ranked other claim.
    while len(chosen) > max_points:
        plain = [c for c in chosen if c.label in ("single-source", "corroborated") and not c.versions]
        chosen.remove(plain[-1] if plain else chosen[-1])
    return [_point(picker, c) for c in chosen]


def _claim(picker: ClaimPicker, index: int, label: Label, taken: set[int]) -> _Claim:
    members = [m for m in picker.members(index) if m not in taken]
    claim = _Claim(index, members, label, picker.carriers(members))
    taken.update(members)
    return claim


def _disputes(picker: ClaimPicker, claims: list[_Claim], taken: set[int]) -> list[_Claim]:
    """Claims that give other figures for one thing become versions of one disputed claim (the best
    ranked keeps the lead); a rival figure no claim holds yet becomes a version of its own."""
    owner = {m: c for c in claims for m in c.members}
    absorbed: set[int] = set()  # reps of claims that became versions
    for claim in claims:
        if claim.rep in absorbed:
            continue
        for index in picker.rival_figures(claim).values():
            rival = owner.get(index)
            if rival is claim or (rival is not None and (rival.rep in absorbed or rival.versions)):
                continue
            if rival is None:
                if index in taken:  # a denial's or another point's sentence: not a version of this one
                    continue
                rival = _claim(picker, index, "single-source", taken)
                if not rival.carriers:
                    continue
                owner.update((m, rival) for m in rival.members)
            absorbed.add(rival.rep)
            claim.versions.append(rival)
    return [c for c in claims if c.rep not in absorbed]


def independent_sources(carriers: Sequence[Carrier]) -> set[str]:
    """The outlets a claim rests on: those stating it on their own reporting, and those that relays
    credit ("the FT reported…"). Relays and copies themselves never count, nor does an outlet
    credited by a relay when it only relays the claim itself (a chain: BBC crediting the Guardian,
    which credits Axios, is Axios)."""
    relaying = {c.name for c in carriers if c.role is not Role.ORIGIN}
    origins = {c.name for c in carriers if c.role is Role.ORIGIN}
    credited = {c.via for c in carriers if c.role is Role.RELAY and c.via and c.via not in relaying}
    return origins | credited


def _rank(picker: ClaimPicker, claim: _Claim) -> float:
    return picker.sentences[claim.rep].score + W_ORIGINS * math.log2(1 + len(independent_sources(claim.carriers)))


def _source(c: Carrier) -> PointSource:
    return PointSource(c.outlet, c.url, c.first_seen_at, c.published_at, c.role.value, c.via, c.estimated)


def _timing(carriers: Sequence[Carrier]) -> tuple[Carrier | None, bool]:
    """The claim's first publication among its sources: an origin's report, or a relay crediting a
    named outlet (that outlet had it by then at the latest); copies and unnamed relays only when
    nothing else carries it."""
    origins = [c for c in carriers if c.role is Role.ORIGIN or (c.role is Role.RELAY and c.via)] or list(carriers)
    timed = [c for c in origins if c.published_at is not None]
    first = min(timed, key=lambda c: (c.published_at or _EPOCH, c.outlet), default=None)
    return first, bool(first and first.estimated)


def _point(picker: ClaimPicker, claim: _Claim) -> Point:
    origins = [_source(c) for c in claim.carriers if c.role is Role.ORIGIN]
    relays = [_source(c) for c in claim.carriers if c.role is not Role.ORIGIN]
    first, estimated = _timing(claim.carriers)
    label = claim.label
    versions: list[Version] = []
    if claim.label in ("single-source", "corroborated"):
        label = "corroborated" if len(independent_sources(claim.carriers)) >= 2 else "single-source"
    if claim.versions:
        label = "disputed"
        versions = [_version(picker, c) for c in (claim, *claim.versions)]
        latest = max(
            range(len(versions)),
            key=lambda i: (versions[i].first_published_at is not None, versions[i].first_published_at or _EPOCH),
        )
        versions = [Version(v.text, v.values, v.origins, v.relays, v.first_published_at, v.estimated, i == latest)
                    for i, v in enumerate(versions)]  # fmt: skip
    denies = picker.sentences[claim.denies].text if claim.denies is not None else None
    unconfirms = picker.sentences[claim.unconfirms].text if claim.unconfirms is not None else None
    first_outlet = None if first is None else (first.outlet if first.role is Role.ORIGIN else first.via or first.outlet)
    return Point(
        picker.sentences[claim.rep].text, label, origins + relays, picker.sentences[claim.rep].score, origins, relays,
        first.published_at if first else None, first_outlet, estimated, denies, versions,
        len(independent_sources(claim.carriers)), unconfirms,
    )  # fmt: skip


def _version(picker: ClaimPicker, claim: _Claim) -> Version:
    first, estimated = _timing(claim.carriers)
    return Version(
        picker.sentences[claim.rep].text,
        sorted(shown(v) for v in picker.read[claim.rep].quantities),
        [_source(c) for c in claim.carriers if c.role is Role.ORIGIN],
        [_source(c) for c in claim.carriers if c.role is not Role.ORIGIN],
        first.published_at if first else None,
        estimated,
    )
