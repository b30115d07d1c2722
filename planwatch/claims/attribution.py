"""Who carries a claim, and how: origins, not echoes.

An outlet is an *origin* of a claim when its own sentence states it on its own reporting or sources
(a Reuters sentence citing "a senior official told Reuters" is Reuters' own). It is a *relay* when
its sentence credits another outlet ("the Financial Times reported…" in the Guardian is the FT's
claim, relayed by the Guardian) or unnamed "media reports"; a copy (a syndicated or reposted report)
relays its original. Only origins count towards `corroborated`: twenty outlets repeating one scoop
are one source."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from planwatch.stories.citations import extract_citations
from planwatch.stories.outlets import OutletRegistry

# "media reports", "reportedly", "according to reports": a relay of unnamed outlets.
_UNNAMED_REPORTS = re.compile(
    r"\b(?:(?:media|news|press|western|earlier|previous)\s+reports?|reportedly|according\s+to\s+(?:media\s+)?reports|"
    r"reports\s+(?:say|said|suggest\w*)|was\s+(?:first\s+)?reported|has\s+been\s+reported|"
    r"(?:several|other|many|some|western|international|foreign)\s+(?:outlets|media|news\s+outlets|newspapers))\b",
    re.I,
)


class Role(StrEnum):
    ORIGIN = "origin"
    RELAY = "relay"
    COPY = "copy"


_RANK = {Role.ORIGIN: 0, Role.RELAY: 1, Role.COPY: 2}


@dataclass(frozen=True, slots=True)
class Carrier:
    """One outlet carrying a claim: its role, whom it relays, and when its report was published."""

    outlet: str
    url: str | None
    role: Role
    via: str | None
    published_at: datetime | None
    estimated: bool  # the feed gave no date: published_at is when Planwatch first saw the report
    first_seen_at: datetime | None
    canonical: str = ""  # the outlet's registry name, as relays credit it ("BBC" for a feed named "BBC News")

    @property
    def name(self) -> str:
        return self.canonical or self.outlet


def role_of(
    sentence: str, outlet: str, *, copy_of_outlet: str | None, independent: bool, outlets: OutletRegistry
) -> tuple[Role, str | None]:
    """How the outlet whose report holds `sentence` carries what it says, and whom it relays."""
    if not independent:
        return Role.COPY, copy_of_outlet
    cited = extract_citations(sentence, own_outlet=outlet, outlets=outlets)
    if cited:
        return Role.RELAY, cited[0]
    if _UNNAMED_REPORTS.search(sentence):
        return Role.RELAY, None
    return Role.ORIGIN, None


def merge(carriers: list[Carrier]) -> list[Carrier]:
    """One entry an outlet: its strongest role (an origin anywhere makes it an origin) and, within
    it, its earliest report; ordered by time, then outlet."""
    best: dict[str, Carrier] = {}
    for c in carriers:
        known = best.get(c.outlet)
        if known is None or (_RANK[c.role], _key(c)) < (_RANK[known.role], _key(known)):
            best[c.outlet] = c
    return sorted(best.values(), key=lambda c: (_key(c), c.outlet))


def _key(c: Carrier) -> tuple[bool, datetime | float]:
    moment = c.published_at or c.first_seen_at
    return (moment is None, moment or 0.0)
