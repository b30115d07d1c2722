"""Which outlets a report cites: "according to Axios", "the FT reported", "told Reuters".

Precision first. An outlet name counts only inside a construction that attributes reporting to it;
a name in passing, a staff member ("a Reuters photographer"), an outlet that could not confirm
something, a name inside a quoted title, and the reporting outlet itself are not citations."""

from __future__ import annotations

import re

from planwatch.stories.outlets import OutletRegistry, registry

_THE = r"(?:the\s+|The\s+)?"
_QUOTE_OPEN = "\"“‘«'"
_QUOTE_CLOSE = "\"”’»'"

# What stands just before a cited outlet. Descriptors may sit between ("according to the state
# news agency TASS"): up to four lower-case words.
_DESCRIPTORS = r"(?:[a-z][\w-]*\s+){0,4}"
_BEFORE = re.compile(
    r"(?:"
    r"according\s+to\s*" + _THE + _DESCRIPTORS + r"|"
    r"(?:first|initially|originally|earlier|previously|exclusively|also|as)?\s*"
    r"(?:reported|revealed|highlighted|disclosed|corroborated|confirmed|published|broken|obtained|quoted|cited|"
    r"seen|detailed|described|flagged|spotted|uncovered)\s+(?:first\s+)?(?:by|in)\s+(?:both\s+|either\s+)?|"
    r"citing\s+(?:(?:a|an|the)\s+(?:\w+\s+)?(?:report|story|article|investigation)\s+(?:by|from|in)\s+)?|"
    r"(?:told|telling)\s+(?:a|an|the)?\s*|"
    r"(?:said|speaking|spoke|talking|talked)(?:\s+anonymously|\s+on\s+condition\s+of\s+anonymity)?\s+to\s+|"
    r"(?:interview|interviews|conversation|op-ed|column|statement)\s+(?:with|to|for|in)\s+|"
    r"(?:a|an|the)\s+(?:\w+\s+)?(?:report|story|article|investigation|analysis|account|assessment)\s+(?:by|from|in)\s+|"
    r"(?:analysts?|experts?|researchers?)\s+(?:at|from|with)\s+|"
    r"reporting\s+by\s+|reports\s+(?:by|from|in)\s+|"
    r"as\s+(?:first\s+)?(?:reported|noted|revealed)\s+(?:by|in)\s+"
    r")" + _THE + r"[\"“‘«]?$",
    re.I,
)
# A list continues a citation: "according to Axios, the FT and Reuters", "including the FT and Reuters".
_LIST_LINK = re.compile(r"^\s*(?:,|,?\s+and|,?\s+as\s+well\s+as|,?\s+or|&)\s*" + _THE + r"$", re.I)
_INCLUDING = re.compile(r"(?:including|such\s+as|among\s+them|notably)\s*" + _THE + r"$", re.I)
# What follows a cited outlet.
_ADVERBS = (
    r"(?:(?:has|had|have|both|also|first|initially|earlier|previously|exclusively|later|since|separately"
    r"|originally|subsequently)\s+)*"
)
_AFTER = re.compile(
    r"^[\"”’»]?(?:'s|’s|'|’)?(?:\s+(?:in|from|of)\s+[A-Z][\w.-]*)?,?\s+"
    r"(?:"
    r"(?:was\s+(?:the\s+)?first\s+to\s+)?" + _ADVERBS + r""
    r"(?:reported|reports|reporting|revealed|reveals|wrote|writes|disclosed|discloses|broke\s+the\s+news|"
    r"learned|learnt|obtained|published|quoted|quotes|cited|cites|said,\s+citing|says,\s+citing|"
    r"detailed|described|report\s+that|reports\s+that)\b"
    r"|(?:concluded|concludes|assessed|assesses|warned|warns|estimated|estimates|argued|argues)\s+that\b"
    r"|(?:experts?|analysts?|researchers?)\s+(?:argue|argued|say|said|warn|warned|wrote|concluded|assess|assessed)\b"
    r"|citing\b"
    r"|which\s+(?:first\s+|also\s+)?(?:reported|revealed|obtained|broke|published)\b"
    r"|(?:report|reporting|story|article|investigation|scoop|account|analysis|exclusive)\s+"
    r"(?:said|says|stated|claimed|claims|suggested|suggests|showed|shows|found|finds|noted|notes|added|detailed|described)\b"
    r")",
)
# "in an Axios report", "an Axios interview": the outlet's own piece is the source.
_IN_PIECE_BEFORE = re.compile(r"\b(?:in|from|to)\s+(?:a|an|the)\s+(?:\w+\s+)?$", re.I)
_PIECE_AFTER = re.compile(r"^\s+(?:report|story|article|interview|investigation|analysis|exclusive|scoop|podcast)\b")
# Larger names that contain an outlet's: the bank, the square, the exam, the charity.
_LONGER_NAME = re.compile(
    r"^\s+(?:Capital|Markets|Square|Physics|Calculus|Institute|Philanthropies|Foundation|Center|Centre|Symphony|"
    r"Orchestra|Bank|Angels|Terminal|Tower|Building|Arena|Stadium|Prize|Awards?|Group\s+(?:Inc|plc))\b"
)
_POSSESSIVE_REPORT = re.compile(
    r"^(?:'s|’s|'|’)\s+(?:\w+\s+)?(?:report|reporting|story|article|investigation|scoop|account|analysis)\b"
    r"(?!\s+(?:was|is|has\s+been)\s+(?:denied|dismissed|rejected|disputed))"
)
_NEGATIVE_AFTER = re.compile(
    r"^[\"”’»]?,?\s+(?:"
    r"(?:could|can|did|does|has|had|was|were)\s*(?:not|n't|’t)\s+(?:been\s+able\s+to\s+|able\s+to\s+)?"
    r"(?:independently\s+)?(?:confirm|verify|corroborate|immediately\s+confirm|immediately\s+verify|see)|"
    r"(?:was|were|is)\s+unable\s+to|noted\s+its\s+inability|said\s+it\s+could\s+not|"
    r"(?:reporter|photographer|correspondent|journalist|cameraman|editor|crew|staff|team)s?\b"
    r")",
    re.I,
)
_STAFF_AFTER = re.compile(r"^\s+(?:reporter|photographer|correspondent|journalist|cameraman|editor|crew)s?\b", re.I)
_TOLD_STAFF = re.compile(r"(?:told|telling|to)\s+(?:a|an|the)\s*$", re.I)
_PERSON_BEFORE = re.compile(r"(?:Michael|Mike|Mr\.?|Mayor)\s+$")


def _inside_quoted_title(text: str, start: int, end: int) -> bool:
    """A mention inside quotation marks that hold more than the name: a headline or a title."""
    before = text[max(0, start - 120) : start]
    opened = max(before.rfind(q) for q in _QUOTE_OPEN)
    if opened < 0:
        return False
    inner_before = before[opened + 1 :]
    if any(q in inner_before for q in _QUOTE_CLOSE):
        return False
    after = text[end : end + 120]
    closes = [i for i in (after.find(q) for q in _QUOTE_CLOSE) if i >= 0]
    if not closes:
        return False
    inner_after = after[: min(closes)]
    return bool(inner_before.strip() or inner_after.strip())


def _verdict(text: str, start: int, end: int) -> bool | None:
    """True: cited; False: explicitly not (a trap); None: no construction either way."""
    before = text[max(0, start - 80) : start]
    after = text[end : end + 80]
    if _NEGATIVE_AFTER.match(after) and not (_STAFF_AFTER.match(after) and _TOLD_STAFF.search(before)):
        return False
    if _PERSON_BEFORE.search(before) or _LONGER_NAME.match(after) or _inside_quoted_title(text, start, end):
        return False
    if _BEFORE.search(before) or (_INCLUDING.search(before) and _reporting_context(text, start)):
        return True
    if _AFTER.match(after) or _POSSESSIVE_REPORT.match(after):
        return True
    if _IN_PIECE_BEFORE.search(before) and _PIECE_AFTER.match(after):
        return True
    return None


def extract_citations(text: str, *, own_outlet: str | None = None, outlets: OutletRegistry | None = None) -> list[str]:
    """Canonical names of the outlets `text` cites, in order of first citation, without duplicates."""
    if not text:
        return []
    reg = outlets or registry()
    own = reg.canonical(own_outlet)
    mentions = reg.mentions(text)
    verdicts = [_verdict(text, m.start(), m.end()) for m in mentions]
    # Lists share their verb: "according to Axios, the FT and Reuters" (forwards),
    # "the Post and the Times both reported" (backwards).
    for i in range(1, len(mentions)):
        if verdicts[i] is None and verdicts[i - 1] and _LIST_LINK.match(text[mentions[i - 1].end() : mentions[i].start()]):
            verdicts[i] = True
    for i in range(len(mentions) - 2, -1, -1):
        if verdicts[i] is None and verdicts[i + 1] and _LIST_LINK.match(text[mentions[i].end() : mentions[i + 1].start()]):
            verdicts[i] = True
    cited: list[str] = []
    for match, verdict in zip(mentions, verdicts, strict=True):
        name = reg.canonical(match.group(0))
        if verdict and name and name != own and name not in cited:
            cited.append(name)
    return cited


_REPORTING_WORDS = re.compile(
    r"\b(?:report\w*|media|outlets?|press|newspapers?|publications?|coverage|corroborat\w*|confirm\w*|sources?)\b",
    re.I,
)


def _reporting_context(text: str, start: int) -> bool:
    """ "including X" cites X only when the list is of outlets reporting something."""
    return bool(_REPORTING_WORDS.search(text[max(0, start - 160) : start]))
