"""Adaptive tracking: a topic's profile learned from its seeds (query matches, pins), the drift
guards, and the moderator's corrections (`topics pin` / `topics exclude`), through a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from planwatch.services.topics import add_topic, exclude, explain, pin, profile
from planwatch.store import Store
from planwatch.stories.refresh import refresh_stories
from planwatch.timeutil import utcnow
from planwatch.topics.profile import MIN_SEEDS, PROFILE_TERMS, build_profiles
from tests.test_stories import _members, _report

SEEDS = [
    ("Dock strike halts Marrowby harbour", "Dock workers at Marrowby harbour walked out over pay, halting container "
     "traffic; the Harbour and Dock Workers Union said 4,300 members had joined the strike."),
    ("Marrowby strike: ships wait at anchor", "Container ships waited at anchor outside Marrowby harbour as the dock "
     "workers' strike went on, the port authority and the Harbour and Dock Workers Union said."),
    ("Port authority offers talks as Marrowby strike spreads", "The Marrowby port authority offered talks to the "
     "Harbour and Dock Workers Union as the strike by 4,300 dock workers spread to the grain terminal."),
]  # fmt: skip
# Days later, in other words: no "strike", no "walkout".
LATER = ("Marrowby dockers vote on port authority offer", "The Harbour and Dock Workers Union put the port "
         "authority's offer to its 4,300 Marrowby dock members, who have kept container traffic halted for a week.")  # fmt: skip
DECOY = ("Library reopens after roof repairs", "The city library reopened on Tuesday after a year of roof "
         "repairs, with a new reading room for children and longer weekend hours.")  # fmt: skip
BACKGROUND = [
    ("Central bank holds rates", "The central bank held its main rate, saying inflation was easing slowly."),
    ("Storm closes airports", "A winter storm closed two airports and cut power to thousands of homes."),
    ("Football club sacks coach", "The club sacked its coach after a sixth straight defeat in the league."),
]


async def _seeded(store: Store) -> None:
    await add_topic(store, "strike", "strike OR walkout")
    for n, (title, text) in enumerate(BACKGROUND):
        await _report(store, 20 + n, title, text, hours_ago=70 - n)
    for n, (title, text) in enumerate(SEEDS):
        await _report(store, 1 + n, title, text, hours_ago=60 - n * 6)
    await refresh_stories(store)


async def test_a_later_report_in_other_words_joins_by_the_topics_profile(store: Store) -> None:
    await _seeded(store)
    later = await _report(store, 9, *LATER, hours_ago=1)
    other = await _report(store, 10, *DECOY, hours_ago=1)
    await refresh_stories(store)
    members = await _members(store, "strike")
    assert members[later] == "profile" and other not in members
    why = await explain(store, "strike", later)
    assert why.profile_score is not None and why.profile_score >= 0.15 and "marrowby" in why.profile_terms
    assert "by the topic's profile: likeness" in why.line() and why.as_json()["matched_by"] == "profile"
    view = await profile(store, "strike")
    assert view.seeds == len(SEEDS) and "marrowby" in dict(view.terms)


async def test_profile_members_never_teach_the_profile(store: Store) -> None:
    """The drift guard: only seeds teach; a profile match is not a seed, so it cannot pull in a report
    that is like it but not like the seeds, and does not spread to its story."""
    await _seeded(store)
    later = await _report(store, 9, *LATER, hours_ago=2)
    await refresh_stories(store)
    assert (await _members(store, "strike"))[later] == "profile"
    assert (await profile(store, "strike")).seeds == len(SEEDS)
    topic = await store.topics.get("strike")
    seeds = await store.stories.topic_seeds(datetime(2000, 1, 1, tzinfo=UTC))
    assert later not in seeds and sum(topic.id in topics for topics in seeds.values()) == len(SEEDS)


async def test_a_topic_with_too_few_seeds_has_no_profile(store: Store) -> None:
    await add_topic(store, "strike", "strike OR walkout")
    for n, (title, text) in enumerate(SEEDS[: MIN_SEEDS - 1]):
        await _report(store, 1 + n, title, text, hours_ago=60 - n * 6)
    later = await _report(store, 9, *LATER, hours_ago=1)
    await refresh_stories(store)
    assert later not in await _members(store, "strike")
    view = await profile(store, "strike")
    assert view.terms == () and "has no profile yet" in view.lines()[0]


def test_the_profile_keeps_only_its_heaviest_terms() -> None:
    vectors = [{f"t{i}": 1.0 / (i + 1) for i in range(200)} for _ in range(MIN_SEEDS)]
    built = build_profiles({7: vectors})[7]
    assert len(built.weights) == PROFILE_TERMS and "t0" in built.weights and "t199" not in built.weights
    assert build_profiles({7: vectors[:1]}) == {}
    # One shared heavy word is not enough: a match needs several of the profile's terms.
    assert not built.likeness({"t0": 1.0}).matches(0.0)


async def test_exclude_is_final_and_pin_teaches(store: Store) -> None:
    """Excluded: the query match, the story it brought in and the profile all stop counting it, also
    after the topic's query changes; --undo lets its words count again. Pinned: a member whatever its
    words, and it brings its story in."""
    await _seeded(store)
    first = min(await _members(store, "strike"))
    gone = await exclude(store, "strike", first)
    assert gone.excluded and gone.matched_by is None and "a moderator excluded it" in gone.line()
    topic = await store.topics.get("strike")
    await store.topics.update(topic, query="strike OR walkout OR dock", now=utcnow())
    assert first not in await _members(store, "strike")
    back = await exclude(store, "strike", first, undo=True)
    assert back.matched_by == "query" and not back.excluded
    library = await _report(store, 11, *DECOY, hours_ago=1)
    await refresh_stories(store)
    pinned = await pin(store, "strike", library)
    assert pinned.matched_by == "pinned" and "a moderator pinned it" in pinned.line()
    assert library in (await profile(store, "strike")).pinned
    # A pin survives a query change; undoing it leaves the report to its words (which do not match).
    await store.topics.update(await store.topics.get("strike"), query="strike", now=utcnow())
    assert (await _members(store, "strike"))[library] == "pinned"
    assert (await pin(store, "strike", library, undo=True)).matched_by is None


async def test_corrections_refuse_unknown_reports_and_topics(store: Store) -> None:
    from planwatch.errors import NotFoundError, UsageError

    await add_topic(store, "strike", "strike")
    with pytest.raises(NotFoundError, match="no report #999"):
        await pin(store, "strike", 999)
    with pytest.raises(UsageError, match="is not a report id"):
        await exclude(store, "strike", 0)
    with pytest.raises(NotFoundError):
        await pin(store, "nope", 1)
