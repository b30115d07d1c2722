"""Summary points as claims (planwatch.claims.points, .attribution): origins and relays, labels that
count independent sources only, a denial that says what it denies, and disputed figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from planwatch.claims.attribution import Carrier, Role, merge, role_of
from planwatch.claims.points import independent_sources
from planwatch.stories.outlets import registry
from planwatch.stories.summarize import SourceDoc, summarize_reports

T0 = datetime(2025, 11, 19, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _role(sentence: str, outlet: str, copy_of: str | None = None) -> tuple[Role, str | None]:
    return role_of(sentence, outlet, copy_of_outlet=copy_of, independent=copy_of is None, outlets=registry())


def test_roles_of_a_sentence() -> None:
    assert _role("The FT reported that the plan would halve the army.", "The Guardian") == (Role.RELAY, "Financial Times")
    assert _role("A senior official told Reuters the plan had 28 points.", "Reuters") == (Role.ORIGIN, None)
    assert _role("The plan reportedly has 28 points.", "CNN") == (Role.RELAY, None)
    assert _role("Several outlets said the plan had 28 points.", "CNN") == (Role.RELAY, None)
    assert _role("The plan has 28 points, officials said.", "CNN") == (Role.ORIGIN, None)
    assert _role("The plan has 28 points, officials said.", "Yahoo News", "Associated Press") == (Role.COPY, "Associated Press")


def test_an_origin_anywhere_makes_an_origin_and_relays_credit_their_source() -> None:
    def c(outlet: str, role: Role, via: str | None, hours: int) -> Carrier:
        at = T0 + hours * HOUR
        return Carrier(outlet, f"https://{outlet.lower()}.example/{hours}", role, via, at, False, at)

    merged = merge([c("CNN", Role.RELAY, "Axios", 1), c("CNN", Role.ORIGIN, None, 3), c("BBC", Role.RELAY, "Axios", 2)])
    assert [(m.outlet, m.role) for m in merged] == [("BBC", Role.RELAY), ("CNN", Role.ORIGIN)]
    assert independent_sources(merged) == {"CNN", "Axios"}
    # Twenty relays of one scoop are one source; copies credit nobody.
    echoes = [c(f"Outlet{n}", Role.RELAY, "Axios", n) for n in range(20)] + [c("Yahoo", Role.COPY, "Outlet1", 30)]
    assert independent_sources(merge(echoes)) == {"Axios"}


def _doc(outlet: str, title: str, text: str, hours: int, *, published: bool = True, copy_of: str | None = None) -> SourceDoc:
    at = T0 + hours * HOUR
    return SourceDoc(title, text, outlet, f"https://{outlet.replace(' ', '').lower()}.example/{hours}", at + HOUR / 2,
                     copy_of is None, at if published else None, not published, copy_of)  # fmt: skip


DOCS = [
    _doc("Axios", "Envoys draft a 28-point plan",
         "US envoy Steve Witkoff and Kremlin envoy Kirill Dmitriev drafted a 28-point plan to end the war in Ukraine, "
         "officials told Axios. The plan would cap Ukraine's army at 600,000 troops, the officials said.", 0),
    _doc("The Guardian", "US and Russia drafting plan",
         "Steve Witkoff and Kirill Dmitriev have drafted a 28-point plan to end the war in Ukraine, Axios reported. "
         "The Financial Times reported that the plan would halve the size of Ukraine's army.", 2),
    _doc("Reuters", "Draft caps Ukraine's army at 600,000",
         "A draft US plan seen by Reuters would cap Ukraine's army at 600,000 troops and bar it from NATO. "
         "Witkoff and Dmitriev drafted the 28-point plan over several weeks, a US official told Reuters.", 4),
    _doc("TASS", "Kremlin: nothing new",
         "Kremlin spokesman Dmitry Peskov denied that Moscow and Washington had drafted any new plan, saying there "
         "was nothing new since the Anchorage summit. He dismissed the reports of a 28-point plan as speculation.", 5),
    _doc("Frontline Brief", "Round-up", "Steve Witkoff and Kirill Dmitriev drafted a 28-point plan to end the war "
         "in Ukraine, officials told Axios.", 6, published=False, copy_of="Axios"),
]  # fmt: skip


def test_points_attribute_label_and_time_claims() -> None:
    points = summarize_reports(DOCS)
    assert 3 <= len(points) <= 7
    texts = [p.text for p in points]
    assert len(texts) == len(set(texts))
    denials = [p for p in points if p.label == "denied"]
    assert len(denials) == 1 and "Peskov" in denials[0].text
    assert denials[0].denies is not None and "28-point" in denials[0].denies
    assert [s.outlet for s in denials[0].origins] == ["TASS"]
    for point in points:
        # Listed only where its own text carries it; the copy never an origin.
        assert "Frontline Brief" not in {s.outlet for s in point.origins}
        independent = {s.outlet for s in point.origins} | {s.via for s in point.relays if s.role == "relay" and s.via}
        if point.label == "corroborated":
            assert len(independent) >= 2
        # "since" is a publication time, never when the report was polled.
        if point.first_published_at is not None:
            assert point.first_published_at.minute == 0
    leak = next(p for p in points if "28-point" in p.text and p.label != "denied")
    assert leak.first_outlet == "Axios" and leak.first_published_at == T0


def test_different_figures_for_one_thing_are_one_disputed_point() -> None:
    points = summarize_reports(DOCS)
    army = [p for p in points if p.versions]
    assert len(army) == 1 and army[0].label == "disputed"
    values = {tuple(v.values) for v in army[0].versions}
    assert ("600,000",) in values and ("50%",) in values
    newest = [v for v in army[0].versions if v.newest]
    assert len(newest) == 1
    assert newest[0].first_published_at == max(v.first_published_at for v in army[0].versions if v.first_published_at)
    # No other point repeats a version's figure.
    assert not [p for p in points if p is not army[0] and ("600,000" in p.text or "halve" in p.text)]


def test_a_denial_with_a_figure_and_naive_times_do_not_break_a_summary() -> None:
    """A denial stating a figure is no version of a disputed figure; a caller's naive times are UTC."""
    docs = [
        _doc("Reuters", "Draft caps army", "A draft plan would cap Ukraine's army at 600,000 troops, officials said.", 0),
        _doc("Kyiv Post", "Kyiv rejects", "Kyiv called the claim baseless and said the plan would cap the army at 800,000.", 1),
        SourceDoc("Naive", "A draft plan would cap Ukraine's army at 600,000 troops, officials said in Kyiv.", "CNN",
                  "https://cnn.example/1", datetime(2025, 11, 19, 12), True, datetime(2025, 11, 19, 11)),
    ]  # fmt: skip
    points = summarize_reports(docs)
    assert points and all(v.origins or v.relays for p in points for v in p.versions)
    assert any(p.label == "denied" for p in points)


def test_a_relay_of_a_relay_credits_the_first_source_once() -> None:
    """BBC crediting the Guardian, which credits Axios: one source (Axios), not two."""

    def c(outlet: str, via: str, hours: int) -> Carrier:
        at = T0 + hours * HOUR
        return Carrier(outlet, None, Role.RELAY, via, at, False, at)

    assert independent_sources(merge([c("The Guardian", "Axios", 1), c("BBC", "The Guardian", 2)])) == {"Axios"}


def test_denials_and_disputes_survive_a_small_point_budget() -> None:
    points = summarize_reports(DOCS, max_points=2, min_points=1)
    assert len(points) <= 2
    assert {p.label for p in points} & {"denied", "disputed"}


def test_a_non_confirmation_says_what_it_could_not_confirm() -> None:
    cnbc = _doc("CNBC", "Plan reports swirl", "CNBC could not independently confirm that Witkoff and Dmitriev drafted "
                "the 28-point plan to end the war in Ukraine.", 3)  # fmt: skip
    points = summarize_reports([*DOCS, cnbc])
    unconfirmed = [p for p in points if p.label == "unconfirmed"]
    assert len(unconfirmed) == 1 and [s.outlet for s in unconfirmed[0].origins] == ["CNBC"]
    assert unconfirmed[0].unconfirms is not None and "28-point" in unconfirmed[0].unconfirms
