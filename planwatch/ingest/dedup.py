"""Which stored report an incoming entry is, decided without touching the database.

A report is known under several keys: its canonical URL, its guid within the feed that sent it, and a
hash of its text within its outlet. An entry that matches any key is that report, so a story that
returns with a new guid, through another feed, with tracking parameters, or re-posted by its outlet
under a new URL is stored once. The same text under another outlet's URL is that outlet's own report
(a syndicated or re-posted copy: the story analysis marks it `copy_of` the original), so that the
outlet's reach is not lost. A feed that gives every item the same guid (it happens) has its guids
ignored for that batch.

`plan_batch` turns one feed's entries plus what the store already knows into a `BatchPlan` that the
store applies in a single transaction."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from planwatch.models import Entry

Key = tuple[str, str]  # (kind, key): ('url', canonical) | ('guid', 'feed_id:guid') | ('hash', 'outlet:sha1')

# Below this much text a content hash says too little ("Live updates", title-only items) to merge on.
MIN_TEXT_FOR_HASH = 80


def content_hash(title: str, text: str) -> str:
    normalized = " ".join(f"{title}\n{text}".lower().split())
    return hashlib.sha1(normalized.encode("utf-8"), usedforsecurity=False).hexdigest()


def repost_hash(title: str, text: str) -> str | None:
    """The key of a re-post: the same headline and the same text. Text alone is not enough: items of a
    feed often share boilerplate descriptions ("Subscribe to our newsletter ...")."""
    if len(" ".join(text.split())) < MIN_TEXT_FOR_HASH:
        return None
    return content_hash(title, text)


@dataclass(frozen=True, slots=True)
class Candidate:
    entry: Entry
    keys: tuple[Key, ...]
    content_hash: str


def candidates(feed_id: int, entries: list[Entry], outlet: str) -> list[Candidate]:
    """Keys for each entry (`outlet`: the feed's, for entries that do not name their own); guids shared
    by items with different links are not trusted."""
    links_per_guid: dict[str, set[str | None]] = {}
    for entry in entries:
        if entry.guid:
            links_per_guid.setdefault(entry.guid, set()).add(entry.url or entry.title)
    repeated = {guid for guid, links in links_per_guid.items() if len(links) > 1}
    out: list[Candidate] = []
    for entry in entries:
        keys: list[Key] = []
        if entry.url:
            keys.append(("url", entry.url))
        if entry.guid and entry.guid not in repeated:
            keys.append(("guid", f"{feed_id}:{entry.guid}"))
        body_hash = repost_hash(entry.title, entry.text)
        if body_hash:
            keys.append(("hash", f"{entry.outlet or outlet}:{body_hash}"))
        if not keys:
            # No link, no (trustworthy) guid, little text: the item is what it says, within its feed.
            keys.append(("hash", f"{feed_id}:{content_hash(entry.title, entry.text)}"))
        out.append(Candidate(entry, tuple(keys), content_hash(entry.title, entry.text)))
    return out


@dataclass(frozen=True, slots=True)
class Known:
    """What the store holds for a report that one of the batch's keys points at."""

    report_id: int
    content_hash: str
    title: str
    text: str
    valid_from: datetime  # when its current version was first seen
    source_hash: str | None  # what THIS feed last delivered for it; None if this feed never did


@dataclass(slots=True)
class BatchPlan:
    inserts: list[tuple[int, Candidate]] = field(default_factory=list)
    updates: list[tuple[Known, Candidate]] = field(default_factory=list)
    new_keys: list[tuple[str, str, int]] = field(default_factory=list)
    sources: list[tuple[int, Candidate]] = field(default_factory=list)  # (report_id, candidate) seen now
    unchanged: int = 0
    merged: int = 0  # known report, first time through this feed (another feed, a re-post)

    @property
    def touched_ids(self) -> list[int]:
        return [rid for rid, _ in self.inserts] + [known.report_id for known, _ in self.updates]


def plan_batch(cands: list[Candidate], key_owner: dict[Key, int], known: dict[int, Known], next_id: int) -> BatchPlan:
    """Decide, for each candidate in order, new / update / unchanged / merged.

    `key_owner` maps every key the store already has (among the batch's keys) to its report id;
    `known` holds those reports; ids for new reports are handed out from `next_id` up."""
    plan = BatchPlan()
    owner = dict(key_owner)
    seen_in_batch: Counter[int] = Counter()
    for cand in cands:
        report_id = next((owner[k] for k in cand.keys if k in owner), None)
        if report_id is None:
            report_id = next_id
            next_id += 1
            plan.inserts.append((report_id, cand))
            for kind, key in cand.keys:
                owner[(kind, key)] = report_id
                plan.new_keys.append((kind, key, report_id))
            plan.sources.append((report_id, cand))
            seen_in_batch[report_id] += 1
            continue
        # A known report (stored before, or earlier in this batch).
        for kind, key in cand.keys:
            if (kind, key) not in owner:
                owner[(kind, key)] = report_id
                plan.new_keys.append((kind, key, report_id))
        seen_in_batch[report_id] += 1
        if seen_in_batch[report_id] > 1:
            # The same report twice in one feed: the first occurrence speaks for it.
            plan.unchanged += 1
            continue
        plan.sources.append((report_id, cand))
        stored = known.get(report_id)
        if stored is None:
            plan.unchanged += 1  # inserted earlier in this batch
        elif stored.source_hash is None:
            plan.merged += 1
        elif stored.source_hash != cand.content_hash and stored.content_hash != cand.content_hash:
            plan.updates.append((stored, cand))
        else:
            plan.unchanged += 1
    return plan
