"""Story grouping's anchors and vetoes, one rule at a time, through the real StoryIndex."""

from __future__ import annotations

from planwatch.stories.grouping import (
    StoryIndex,
    decode_features,
    decode_vectors,
    encode_features,
    encode_vectors,
    reacts,
    report_features,
)

HOUR = 3600.0
DAY = 24 * HOUR


class Stream:
    """Reports arriving one at a time, as refresh feeds them to the index."""

    def __init__(self) -> None:
        self.index = StoryIndex()
        self.next_id = 1

    def add(self, title: str, text: str, at: float, *, outlet: str | None = None, cites: tuple[str, ...] = ()) -> int:
        story, vec = self.index.assign(report_features(title, text), at, cites)
        if story is None:
            story, self.next_id = self.next_id, self.next_id + 1
        self.index.add(story, vec, at, outlet)
        return story


QUAKE = (
    "A powerful earthquake struck {place} on Monday, killing at least {dead} people and toppling buildings, "
    "officials said. The quake had a magnitude of {mag}, the geological survey said, and rescuers were "
    "searching collapsed homes for survivors through the night."
)


def _quake(place: str, dead: int, magnitude: str) -> str:
    """One wording for every quake: only the place and the numbers tell two quakes apart."""
    return QUAKE.format(place=place, dead=dead, mag=magnitude)


def _background(stream: Stream) -> None:
    """Other news, so that the words every quake report uses are common and names carry the weight."""
    for n, title in enumerate(
        ["Central bank holds rates", "Parliament passes budget", "Storm closes airports", "Court rules on strike",
         "Football club sacks coach", "Vaccine approved for children"]
    ):  # fmt: skip
        stream.add(title, f"{title} after a long debate, officials said on the day of the announcement.", n * HOUR)


def test_the_same_kind_of_event_with_other_places_and_numbers_stays_apart() -> None:
    stream = Stream()
    _background(stream)
    first = [
        stream.add(f"Quake kills {d} in Orvieto", _quake("Orvieto province", d, "6.1"), 10 * HOUR + n)
        for n, d in enumerate((12, 14))
    ]
    other = stream.add("Quake kills 300 in Halmara", _quake("Halmara", 300, "7.4"), 11 * HOUR)
    assert len(set(first)) == 1 and other != first[0]


def test_the_same_event_in_other_words_joins() -> None:
    stream = Stream()
    _background(stream)
    a = stream.add("Quake kills 12 in Orvieto province", _quake("Orvieto province", 12, "6.1"), 10 * HOUR)
    b = stream.add(
        "Orvieto rescuers dig through rubble after 6.1 quake",
        "Rescue teams in Orvieto province worked through the night after Monday's magnitude 6.1 earthquake, "
        "which officials say killed 12 people.",
        12 * HOUR,
    )
    assert a == b


def test_time_decays_likeness_from_a_storys_latest_report() -> None:
    """A near repeat an hour later joins; the same words after five quiet days start a new story;
    a story reported every day stays one (the decay runs from its latest report, not its first)."""
    title, text = (
        "Envoys meet on the harbour treaty in Varna",
        "Envoys from both sides met in Varna to discuss the harbour treaty.",
    )
    stream = Stream()
    _background(stream)
    daily = [stream.add(title, text, 10 * HOUR + day * DAY) for day in range(4)]
    assert len(set(daily)) == 1
    later = stream.add(title, text, 10 * HOUR + 8.5 * DAY)
    assert later != daily[0]


def test_a_dateline_year_the_story_never_names_counts_against_it() -> None:
    stream = Stream()
    _background(stream)
    body = "Microsoft released an emergency patch for Internet Explorer to fix a flaw attackers were exploiting."
    story = stream.add("December 17, 2008: Microsoft patches Internet Explorer", body, 10 * HOUR)
    index = stream.index
    later = index.likeness(
        story, index.vectors(report_features("September 18, 2013: Microsoft patches Internet Explorer", body)), 10 * HOUR
    )
    same = index.likeness(
        story, index.vectors(report_features("December 18, 2008: Microsoft patches Internet Explorer", body)), 10 * HOUR
    )
    assert later.other_year and not same.other_year and later.score < 0.6 * same.score
    # A bare year in the lead is background, not the event's date.
    assert report_features("Rates rise", "Rates rose to the highest level since 2008.").years == frozenset()


def test_citing_an_outlet_in_a_story_pulls_a_report_into_it() -> None:
    """A terse denial of 'the Axios report' joins the story Axios reported in when it cites Axios."""
    leak = (
        "Axios: envoys drafted a 28-point Ukraine plan",
        "Envoys Steve Witkoff and Kirill Dmitriev drafted a 28-point plan to end the war in Ukraine, officials told Axios.",
    )
    denial = ("Kremlin: nothing new since Anchorage",
              "The Kremlin said there was nothing new on Ukraine since the Anchorage summit and dismissed the plan.")  # fmt: skip
    for cites, joins in (((), False), (("Axios",), True)):
        stream = Stream()
        _background(stream)
        story = stream.add(*leak, 10 * HOUR, outlet="Axios")
        assert (stream.add(*denial, 14 * HOUR, cites=cites) == story) is joins


def test_features_round_trip_and_an_old_analysis_reads_as_words_only() -> None:
    features = report_features("September 18, 2013: Microsoft patches IE", "Microsoft shipped the fix on Wednesday.")
    assert decode_features(encode_features(features)) == features
    old = decode_features("microsoft patch ie")
    assert old.words == ["microsoft", "patch", "ie"] and old.names == [] and old.years == frozenset()


LEAK = (
    "Witkoff and Dmitriev draft 28-point Ukraine plan",
    "Envoy Steve Witkoff and Kremlin envoy Kirill Dmitriev have drafted a 28-point plan to end the war in "
    "Ukraine, officials said; Kremlin spokesman Dmitry Peskov declined to comment.",
)


def test_a_report_in_another_alphabet_joins_its_story_by_names_and_numbers() -> None:
    """No word of the Russian report is in the English story: its names and the 28 bring it in."""
    stream = Stream()
    _background(stream)
    story = stream.add(*LEAK, 10 * HOUR, outlet="Axios")
    russian = ("Уиткофф и Дмитриев подготовили план из 28 пунктов",
               "Спецпосланник Стивен Уиткофф и Кирилл Дмитриев подготовили план из 28 пунктов, "
               "сообщил источник; Дмитрий Песков отказался от комментариев.")  # fmt: skip
    assert stream.add(*russian, 12 * HOUR, outlet="RIA Novosti") == story
    # ...and an English report arriving after it still joins on words: the story is mostly English.
    assert stream.add(*LEAK, 13 * HOUR, outlet="Reuters") == story


def test_a_report_in_another_alphabet_about_other_people_stays_apart() -> None:
    stream = Stream()
    _background(stream)
    story = stream.add(*LEAK, 10 * HOUR, outlet="Axios")
    other = ("Шахтёр обыграл Динамо в Кубке Украины",
             "Футболисты Шахтёра обыграли Динамо со счётом 3:1, два гола забил Кевин Келсі, сообщает пресс-служба.")  # fmt: skip
    assert stream.add(*other, 12 * HOUR) != story


def test_vectors_round_trip_and_older_ones_have_no_name_keys() -> None:
    index = StoryIndex()
    features = report_features(*LEAK)
    index.observe(features)
    vec = index.vectors(features)
    assert vec.anchors and decode_vectors(encode_vectors(vec)) == vec
    old = decode_vectors("plan:700000 witkoff:714143 | witkoff:1000000 | 2025")
    assert old is not None and old.anchors == {} and old.names == {"witkoff": 1_000_000}


DENIAL = ("Moscow: nothing has changed since Anchorage",
          "The positions agreed at the Anchorage summit still stand, Peskov said on Wednesday, dismissing "
          "claims of a new Ukraine plan as speculation.")  # fmt: skip


def test_a_reaction_joins_the_story_it_answers() -> None:
    """A denial shares few words with the leak (its point is the link): reacting to news that several
    outlets carried pulls it in; the same words as news of their own, or before the story, or after
    a single outlet's report, do not."""
    assert reacts(*DENIAL) and not reacts("Envoys draft a plan", "Two envoys drafted a 28-point plan, officials said.")

    def leak(outlets: tuple[str, ...]) -> tuple[Stream, int]:
        stream = Stream()
        _background(stream)
        stories = {stream.add(*LEAK, 10 * HOUR + n, outlet=outlet) for n, outlet in enumerate(outlets)}
        assert len(stories) == 1
        return stream, stories.pop()

    for reaction, outlets, joins in (
        (False, ("Axios", "Reuters", "FT"), False),
        (True, ("Axios", "Reuters", "FT"), True),
        (True, ("Axios",), False),  # one outlet's scoop is not yet news a denial answers
    ):
        stream, story = leak(outlets)
        found, _ = stream.index.assign(report_features(*DENIAL), 12 * HOUR, (), reaction)
        assert (found == story) is joins, (reaction, outlets)
    # No story before it: a reaction has nothing to answer.
    stream, story = leak(("Axios", "Reuters", "FT"))
    like = stream.index.likeness(story, stream.index.vectors(report_features(*DENIAL)), 9 * HOUR, (), True)
    assert not like.reaction


def test_a_reaction_to_other_news_stays_apart() -> None:
    """The bonus needs a shared name and some likeness besides: a council denying that its housing plan
    was drafted in secret is no Kremlin denial."""
    stream = Stream()
    _background(stream)
    story = {stream.add(*LEAK, 10 * HOUR + n, outlet=o) for n, o in enumerate(("Axios", "Reuters", "FT"))}.pop()
    council = ("Council denies housing plan was drafted in secret",
               "The council rejected claims that its housing plan was drafted behind closed doors.")  # fmt: skip
    found, _ = stream.index.assign(report_features(*council), 12 * HOUR, (), reacts(*council))
    assert reacts(*council) and found != story
