"""Sentences that are page furniture, not news: they never become a summary point.

Two ways of knowing them:
- learned: a sentence one outlet prints in several of its own reports about different things is
  its furniture ("Become a member of the Kyiv Independent community.", "Our Standards: The Thomson
  Reuters Trust Principles."). Copies repeat sentences too, but across outlets, and as one story;
- recognised: the shapes such text takes everywhere (social widgets, photo captions and credits,
  "Story highlights", "RELATED:", "Read also", newsletter and membership appeals, agency credits),
  for the outlet seen only once."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

REPEATS = 3  # an outlet's sentence in this many of its reports is its furniture

# Anchored: furniture is a line of its own ("Sign up for our newsletter."), while news may use the
# same words mid-sentence ("Kyiv will never become a member of NATO", "would not sign up to a deal").
_FURNITURE = re.compile(
    r"^(?:photo|photograph|image|picture|video|graphic|illustration|caption|image\s+caption|file\s+photo)\b\s*[:|,]"
    r"|^(?:related|read\s+(?:also|more)|see\s+also|more\s+on\s+this|watch|listen|advertisement|story\s+highlights|"
    r"key\s+points|what\s+you\s+need\s+to\s+know|editor'?s\s+note|correction|update)\s*[:|-]"
    r"|^(?:share\s+(?:this|on\b)|tweet\s+with\s+a\s+location|follow\s+us\b|click\s+here|sign\s+up\s+(?:for|to)\s+(?:our|the)\b|"
    r"subscribe\s+(?:to\s+our|for|now|today)|become\s+a\s+(?:member|subscriber|patron)\s+of\s+(?:the|our)\b|"
    r"support\s+(?:our|independent)\s+journalism|donate\s+(?:now|today)|you\s+can\s+share\s+this\s+story|"
    r"our\s+standards:|all\s+rights\s+reserved|copyright\s+(?:©|\d{4}))"
    r"|\b(?:newsletter\s*[.!]?$|trust\s+principles\.?$|contributed\s+to\s+this\s+report\.?$|all\s+rights\s+reserved\.?$)"
    r"|^(?-i:(?:Reporting|Editing|Writing)\s+by\s+[A-Z])|^©\s*\d{4}"
    r"|^читайте\s+також|^читайте\s+также|^фото\s*:",
    re.I,
)


def looks_like_furniture(sentence: str) -> bool:
    return bool(_FURNITURE.search(sentence.strip()))


def learned(sentences: Iterable[tuple[str | None, int, int | None, str]]) -> frozenset[str]:
    """From (outlet, report index, story, sentence): the sentences an outlet repeats in REPEATS of
    its reports, of two stories or more (three updates of one story may share a paragraph)."""
    reports: dict[tuple[str, str], set[int]] = defaultdict(set)
    stories: dict[tuple[str, str], set[int]] = defaultdict(set)
    for outlet, report, story, sentence in sentences:
        if outlet:
            key = (outlet, _norm(sentence))
            reports[key].add(report)
            stories[key].add(story if story is not None else -1 - report)
    return frozenset(text for (o, text), seen in reports.items() if len(seen) >= REPEATS and len(stories[(o, text)]) >= 2)


def furniture(sentences: Sequence[tuple[str | None, int, int | None, str]]) -> frozenset[str]:
    """The sentences (normalised) that are furniture, recognised or learned, among these."""
    repeated = learned(sentences)
    return frozenset(_norm(text) for (_, _, _, text) in sentences if looks_like_furniture(text)) | repeated


def is_furniture(sentence: str, known: frozenset[str]) -> bool:
    return _norm(sentence) in known or looks_like_furniture(sentence)


def _norm(sentence: str) -> str:
    return " ".join(sentence.lower().split())
