"""The default topic `ukraine-peace-plan` (migration 0002) on real reporting and on look-alikes.

Three real articles about the reported 28-point US-Russia plan (../shared/seeds, read at run time)
are served as RSS from three made-up outlets over loopback HTTP and polled by the real Poller; each
must land in the topic. Decoys (written for this test) that share words with the story but are not
about the plan must stay out, and paraphrases using other spellings (Kiev, Selenskyj, Umjerow,
"28 point") must get in."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

import pytest

from planwatch.config import Settings
from planwatch.ingest.poller import Poller, PollResult
from planwatch.models import Report
from planwatch.store import Store
from planwatch.timeutil import utcnow
from tests.conftest import FeedServer, rss, shared_path

TOPIC = "ukraine-peace-plan"
PUBLISHED = "Thu, 20 Nov 2025 12:00:00 GMT"
# (outlet name, made-up domain): one outlet per seed article.
OUTLETS = [
    ("Dnipro Evening Post", "dnipro-evening.example"),
    ("Alpine Wire", "alpine-wire.example"),
    ("Harbour Ledger", "harbour-ledger.example"),
]


def item(title: str, text: str, link: str) -> dict[str, str]:
    return {
        "title": escape(title),
        "link": escape(link),
        "guid": escape(link),
        "description": escape(text),
        "pubDate": PUBLISHED,
    }


def feed_body(outlet: str, domain: str, stories: Sequence[tuple[str, str]]) -> bytes:
    """One outlet's RSS 2.0 feed with the given (title, text) stories."""
    items = [item(title, text, f"https://{domain}/2025/11/20/story-{n}") for n, (title, text) in enumerate(stories)]
    return rss(items, title=escape(outlet), link=f"https://{domain}/")


async def poll(store: Store, settings: Settings) -> list[PollResult]:
    poller = Poller(store, settings)
    try:
        return await poller.poll_once()
    finally:
        await poller.close()


async def serve_and_poll(
    store: Store, settings: Settings, feed_server: FeedServer, feeds: Sequence[tuple[str, bytes]]
) -> list[Report]:
    """Serve each (path, body) feed, add it, poll once with the real Poller; the stored reports."""
    for path, body in feeds:
        await store.feeds.add(feed_server.static(path, body), name=None, interval_minutes=15, now=utcnow())
    results = await poll(store, settings)
    assert len(results) == len(feeds)
    for result in results:
        assert result.outcome == "new", result.line()
    return await store.reports.recent(limit=10)


async def test_the_three_seed_articles_from_three_outlets_all_match_the_default_topic(
    store: Store, settings: Settings, feed_server: FeedServer
) -> None:
    """Real reporting on the 28-point plan, served as RSS and polled over HTTP, lands in ukraine-peace-plan."""
    root = shared_path("seeds")
    seeds = sorted(root.glob("*.txt"))
    assert len(seeds) == 3
    topic = await store.topics.get(TOPIC)
    assert topic.query  # created by migration 0002

    feeds = []
    titles = []
    for number, (path, (outlet, domain)) in enumerate(zip(seeds, OUTLETS, strict=True)):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        first = next(n for n, line in enumerate(lines) if line.strip())
        title = lines[first].strip()
        body = "\n".join(lines[first + 1 :]).strip()
        titles.append(title)
        feeds.append((f"/seed-{number}.xml", feed_body(outlet, domain, [(title, body)])))

    reports = await serve_and_poll(store, settings, feed_server, feeds)

    assert len(reports) == 3
    assert sorted(r.title for r in reports) == sorted(titles)
    assert {r.outlet for r in reports} == {outlet for outlet, _ in OUTLETS}
    unmatched = [f"{r.outlet}: {r.title[:80]} -> {r.topics}" for r in reports if TOPIC not in r.topics]
    assert not unmatched, "seed articles missing the topic:\n" + "\n".join(unmatched)
    assert (await store.topics.match_counts()).get(topic.id) == 3


# Decoys: each shares vocabulary with the story (Ukraine, Russia, Kyiv, plan, peace, ceasefire) but is
# not about the plan. Written for this test.
DECOYS = {
    "grain-exports": (
        "Ukraine's grain shipments climb as Black Sea corridor holds",
        "Farmers shipped more wheat and maize through the ports around Odesa last month than in any month"
        " since the sea corridor opened, the agriculture ministry in Kyiv said on Tuesday. Traders pointed to"
        " calm weather and cheaper insurance for vessels. Exporters still fear Russian drone strikes on port"
        " silos, and the ministry plans to widen rail links to the Danube ports before the next harvest."
        " Egypt, Spain and Indonesia bought the largest shares.",
    ),
    "football-match": (
        "Ukraine edge Iceland to keep World Cup hopes alive",
        "A header from a substitute in stoppage time gave Ukraine a 2-1 win in Warsaw, where the national"
        " team has played its home games since the full-scale invasion. The coach said his game plan had"
        " been to press high and wait for tired legs. Ukraine now need a draw in their last qualifier to"
        " reach the play-offs; fans in Kyiv watched on big screens in the city centre.",
    ),
    "gaza-peace-plan": (
        "Gaza ceasefire holds as mediators push the next phase of the peace plan",
        "Egyptian and Qatari mediators met Israeli and Hamas negotiators in Cairo on Sunday to discuss the"
        " second phase of the US-backed peace plan for Gaza. The draft under discussion covers the release"
        " of the remaining hostages, more aid trucks through the Rafah crossing and an international force"
        " to keep order. Both sides accuse each other of breaking the ceasefire, but the truce has held.",
    ),
    "energy-truce": (
        "Moscow and Kyiv agree to stop hitting each other's power plants for 30 days",
        "Russia and Ukraine have each promised to stop attacking the other's energy infrastructure for a"
        " month, officials on both sides said after separate phone calls with Washington. The moratorium"
        " covers power stations, substations and gas pipelines. Engineers in Kharkiv hope the pause lets"
        " them restore heating before the frosts. Analysts noted that earlier truces collapsed within days"
        " and that a full ceasefire, let alone a lasting peace, remains far off.",
    ),
}


@pytest.mark.parametrize("name", sorted(DECOYS))
async def test_decoys_that_share_words_with_the_story_do_not_match(
    store: Store, settings: Settings, feed_server: FeedServer, name: str
) -> None:
    """Grain exports, football, the Gaza peace plan and an energy truce stay out of ukraine-peace-plan."""
    title, text = DECOYS[name]
    body = feed_body("Steppe Courier", "steppe-courier.example", [(title, text)])
    reports = await serve_and_poll(store, settings, feed_server, [("/decoy.xml", body)])
    assert [r.title for r in reports] == [title]
    assert TOPIC not in reports[0].topics, f"decoy {name!r} matched: {reports[0].topics}"


# Paraphrased plan stories, each carried into the topic by one spelling variant alone. Replacing the
# variant with a neutral phrase must lose the match, which shows the variant is what matched.
VARIANTS = {
    "Kiev": (
        "Kiev weighs a peace plan drafted in Washington",
        "Officials in Kiev are studying a peace plan written by American envoys that would require painful"
        " concessions, according to two people who have read it. The government has not said which of its"
        " points it could accept.",
        "the capital",
    ),
    "Selenskyj": (
        "Selenskyj rejects the core of the peace plan",
        "President Selenskyj told parliament he would not sign a peace plan that hands over land that the"
        " army still holds, but said his team would keep talking to the Americans about the other points.",
        "the president",
    ),
    "Umjerow": (
        "Umjerow leads Kyiv's delegation to Switzerland",
        "Rustem Umjerow, the security council secretary, flew to Switzerland on Sunday to go through the American"
        " document line by line with officials from Washington, Kyiv said. European advisers joined the"
        " second day of the meetings.",
        "the delegation head",
    ),
    "28 point": (
        "European capitals draft changes to the 28 point plan",
        "Governments in Berlin, Paris and London are preparing their own amendments to the 28 point plan"
        " that Washington handed to Ukraine last week, diplomats said, hoping to soften the limits it sets"
        " on the size of the army.",
        "new",
    ),
}


@pytest.mark.parametrize("spelling", sorted(VARIANTS))
async def test_paraphrased_plan_stories_with_variant_spellings_match(
    store: Store, settings: Settings, feed_server: FeedServer, spelling: str
) -> None:
    """Kiev, Selenskyj, Umjerow and "28 point plan" (no hyphen) are the same names to ukraine-peace-plan."""
    title, text, neutral = VARIANTS[spelling]
    control = (title.replace(spelling, neutral), text.replace(spelling, neutral))
    assert spelling not in control[0] + control[1]
    body = feed_body("Alpine Wire", "alpine-wire.example", [(title, text), control])
    reports = {r.title: r for r in await serve_and_poll(store, settings, feed_server, [("/variant.xml", body)])}
    assert set(reports) == {title, control[0]}
    assert TOPIC in reports[title].topics, f"the {spelling!r} story did not match: {reports[title].topics}"
    assert TOPIC not in reports[control[0]].topics, f"the control without {spelling!r} matched too"
