"""Watched topics: create (with a backfill over stored reports), edit, remove, list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from planwatch.errors import NotFoundError, UsageError
from planwatch.models import MatchedBy, Report, Topic
from planwatch.store import Store
from planwatch.store.topics import Followers
from planwatch.timeutil import utcnow
from planwatch.topics.profile import MIN_SEEDS, top_terms
from planwatch.topics.query import query_terms

GLOBAL_SCOPE = "global"
DEFAULT_TOPIC = "ukraine-peace-plan"
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
MAX_DESCRIPTION = 300  # what Discord's /topic takes, and what fits an embed line


def check_name(name: str) -> str:
    name = name.strip().lower()
    if not _SLUG.match(name):
        raise UsageError(f"invalid topic name {name!r}: use 1-32 lower-case letters, digits and dashes, e.g. ukraine-peace-plan")
    return name


def check_description(description: str) -> str:
    """Refused, not cut: a description cut mid-word would reach readers as the operator never wrote it."""
    text = description.strip()
    if len(text) > MAX_DESCRIPTION:
        raise UsageError(f"the description is {len(text)} characters; at most {MAX_DESCRIPTION}, please")
    return text


def parse_aliases(specs: list[str] | None) -> list[list[str]]:
    """'kyiv|kiev' -> ['kyiv', 'kiev']; each spec is one group of spellings."""
    groups: list[list[str]] = []
    for spec in specs or []:
        group = [part.strip() for part in spec.split("|") if part.strip()]
        if len(group) < 2:
            raise UsageError(f"invalid alias {spec!r}: give two or more spellings separated by |, e.g. kyiv|kiev")
        groups.append(group)
    return groups


async def add_topic(
    store: Store,
    name: str,
    query: str,
    *,
    description: str = "",
    aliases: list[list[str]] | None = None,
    scope: str = GLOBAL_SCOPE,
) -> tuple[Topic, int]:
    return await store.topics.add(
        scope=scope,
        name=check_name(name),
        query=query.strip(),
        description=check_description(description),
        aliases=aliases or [],
        now=utcnow(),
    )


async def edit_topic(
    store: Store,
    name: str,
    *,
    query: str | None = None,
    description: str | None = None,
    aliases: list[list[str]] | None = None,
    scope: str = GLOBAL_SCOPE,
) -> tuple[Topic, int]:
    """A topic's query, description or aliases changed; the stored reports are matched again at once
    (the default topic's query is data like any other: a moderator may rewrite it)."""
    if query is None and description is None and aliases is None:
        raise UsageError("give a new --query, --description or --alias")
    topic = await store.topics.get(name.strip().lower(), scope)
    return await store.topics.update(
        topic,
        query=query.strip() if query is not None else None,
        description=check_description(description) if description is not None else None,
        aliases=aliases,
        now=utcnow(),
    )


async def remove_topic(store: Store, name: str, scope: str = GLOBAL_SCOPE, *, force: bool = False) -> Followers:
    """Refused while subscribers or alert channels follow the topic, unless forced: their digests and
    alerts would lose it without a word. Returns who followed it."""
    topic = await store.topics.get(name.strip().lower(), scope)
    followers = await store.topics.followers(topic)
    if followers.count and not force:
        raise UsageError(f"topic {topic.name} is followed by {followers.describe()}; --force removes it anyway")
    await store.topics.remove(topic.name, scope)
    return followers


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a report is, or is not, one of a topic's: what `topics explain` prints."""

    topic: str
    report_id: int
    outlet: str
    title: str
    matched_by: MatchedBy | None  # None: not the topic's
    terms_found: tuple[str, ...]  # the query's terms that the report contains
    story_id: int | None
    via_report: int | None  # the story's query-matched (or pinned) report that brought this one in
    excluded: bool = False  # a moderator excluded it (`topics exclude`)
    profile_score: float | None = None  # a profile match's likeness to the topic's profile
    profile_terms: tuple[str, ...] = ()  # the profile terms it shares, heaviest first

    def line(self) -> str:
        head = f"report #{self.report_id} ({self.outlet}: {self.title})"
        found = ", ".join(self.terms_found) or "none"
        if self.matched_by == "query":
            return f"{head} is in {self.topic}: its own words match the query (terms found: {found})"
        if self.matched_by == "story":
            return (f"{head} is in {self.topic} by its story #{self.story_id}: report #{self.via_report} of that "
                    f"story matches the query (this report's terms found: {found})")  # fmt: skip
        if self.matched_by == "profile":
            shared = ", ".join(self.profile_terms) or "nothing"
            return (f"{head} is in {self.topic} by the topic's profile: likeness {self.profile_score or 0:.2f} to what "
                    f"the query matched, sharing {shared} (query terms found: {found})")  # fmt: skip
        if self.matched_by == "pinned":
            return f"{head} is in {self.topic}: a moderator pinned it (query terms found: {found})"
        if self.excluded:
            return f"{head} is not in {self.topic}: a moderator excluded it (`topics exclude --undo` lets it back)"
        story = f"story #{self.story_id}" if self.story_id is not None else "no story yet"
        return (f"{head} is not in {self.topic}: its words do not match the query (terms found: {found}), "
                f"{story} holds no report that does, and it is not like enough the topic's profile")  # fmt: skip

    def as_json(self) -> dict[str, object]:
        return {"topic": self.topic, "report_id": self.report_id, "outlet": self.outlet, "title": self.title,
                "member": self.matched_by is not None, "matched_by": self.matched_by,
                "terms_found": list(self.terms_found), "story_id": self.story_id, "via_report": self.via_report,
                "excluded": self.excluded, "profile_score": self.profile_score,
                "profile_terms": list(self.profile_terms)}  # fmt: skip


async def _report_of(store: Store, report_id: int) -> Report:
    if not 1 <= report_id < 1 << 63:
        raise UsageError(f"{report_id} is not a report id: `planwatch articles` lists them with their ids")
    report = await store.reports.get(report_id)
    if report is None:
        raise NotFoundError(f"no report #{report_id}: `planwatch articles` lists them with their ids")
    return report


async def explain(store: Store, name: str, report_id: int, scope: str = GLOBAL_SCOPE) -> Explanation:
    topic = await store.topics.get(name, scope)
    report = await _report_of(store, report_id)
    member = await store.topics.membership(topic.id, report_id)
    found = await store.topics.terms_in_report(query_terms(topic.query, topic.aliases), report_id)
    analysed = (await store.stories.reports_by_id([report_id])).get(report_id)
    story_id = analysed.story_id if analysed is not None else None
    via = await store.topics.query_match_in_story(topic.id, story_id) if member.matched_by == "story" and story_id else None
    evidence = member.evidence or {}
    score = evidence.get("score")
    shared = evidence.get("shared")
    return Explanation(
        topic.name, report_id, report.outlet, report.title, member.matched_by, tuple(found), story_id, via,
        excluded=member.excluded,
        profile_score=float(score) if isinstance(score, int | float) else None,
        profile_terms=tuple(str(t) for t in shared) if isinstance(shared, list) else (),
    )  # fmt: skip


Correction = Literal["pin", "exclude"]


async def correct(
    store: Store, name: str, report_id: int, action: Correction, *, undo: bool = False, scope: str = GLOBAL_SCOPE
) -> Explanation:
    """A moderator's correction. pin: the report is the topic's whatever its words (and teaches its
    profile); exclude: it leaves the topic for good (query, story and profile alike), with the story
    members only it brought in. `undo` of either: it is the topic's again only if its words or story
    say so. Returns what `topics explain` says of it afterwards."""
    topic = await store.topics.get(name, scope)
    await _report_of(store, report_id)
    if undo:
        await store.topics.unpin(topic, report_id, utcnow())
    elif action == "pin":
        await store.topics.pin(topic, report_id, utcnow())
    else:
        await store.topics.exclude(topic, report_id, utcnow())
    return await explain(store, name, report_id, scope)


async def pin(store: Store, name: str, report_id: int, *, undo: bool = False) -> Explanation:
    return await correct(store, name, report_id, "pin", undo=undo)


async def exclude(store: Store, name: str, report_id: int, *, undo: bool = False) -> Explanation:
    return await correct(store, name, report_id, "exclude", undo=undo)


@dataclass(frozen=True, slots=True)
class ProfileView:
    """What a topic has learned: `topics profile` prints it; pins and exclusions are how it is changed."""

    topic: str
    seeds: int  # query matches and pins in the window that taught it
    terms: tuple[tuple[str, float], ...]  # heaviest first
    pinned: tuple[int, ...]
    excluded: tuple[int, ...]

    def lines(self) -> list[str]:
        if not self.terms:
            head = f"{self.topic} has no profile yet: it learns once {MIN_SEEDS} reports in the window match its query"
        else:
            head = f"{self.topic}: profile learned from {self.seeds} reports that match its query or were pinned"
        out = [head]
        if self.terms:
            out.append("  terms: " + ", ".join(f"{t} {w:.2f}" for t, w in self.terms))
        out.append("  pinned: " + (", ".join(f"#{r}" for r in self.pinned) or "none"))
        out.append("  excluded: " + (", ".join(f"#{r}" for r in self.excluded) or "none"))
        return out

    def as_json(self) -> dict[str, object]:
        return {"topic": self.topic, "seeds": self.seeds, "terms": [{"term": t, "weight": round(w, 4)} for t, w in self.terms],
                "pinned": list(self.pinned), "excluded": list(self.excluded)}  # fmt: skip


async def profile(store: Store, name: str, scope: str = GLOBAL_SCOPE, *, count: int = 25) -> ProfileView:
    from planwatch.stories.refresh import current_profiles

    topic = await store.topics.get(name, scope)
    learned = (await current_profiles(store)).get(topic.id)
    pinned, excluded = await store.topics.corrections(topic.id)
    terms = tuple(top_terms(learned, count)) if learned is not None else ()
    return ProfileView(topic.name, learned.seeds if learned is not None else 0, terms, pinned, excluded)
