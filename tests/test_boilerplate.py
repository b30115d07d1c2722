"""Page furniture never becomes a summary point (planwatch.stories.boilerplate)."""

from __future__ import annotations

from planwatch.stories.boilerplate import furniture, is_furniture, looks_like_furniture
from planwatch.stories.summarize import SourceDoc, summarize_reports


def test_widgets_credits_and_appeals_are_recognised() -> None:
    for line in (
        "Photo: Office of the President of Ukraine",
        "Image caption, Zelensky addressed the nation on Friday",
        "RELATED: What we know about the plan",
        "Read also: Kyiv rejects the draft",
        "Story highlights: the plan has 28 points",
        "Tweet with a location",
        "You can share this story on social media:",
        "Become a member of the Kyiv Independent community.",
        "Sign up for our morning newsletter.",
        "Associated Press writers in Kyiv contributed to this report.",
        "Our Standards: The Thomson Reuters Trust Principles.",
        "Читайте також: Зеленський звернувся до нації",
    ):
        assert looks_like_furniture(line), line
    for line in (
        "The plan would cap Ukraine's army at 600,000 troops, officials said.",
        "Photographs of the meeting were released by the Kremlin on Tuesday.",
        "Reuters reported that the plan had 28 points.",
        # The furniture's words, inside news.
        "Ukraine will never become a member of NATO under the plan, the draft says.",
        "Kyiv does not share this assessment, the foreign ministry said.",
        "Zelensky said he would not sign up to a deal that cedes land.",
        "According to reporting by the Financial Times, the army would be halved.",
    ):
        assert not looks_like_furniture(line), line


def test_an_outlets_repeated_sentence_across_stories_is_learned() -> None:
    footer = "The Steppe Courier is read in forty countries every week."
    rows = [("Steppe Courier", n, n, footer) for n in range(3)] + [("Steppe Courier", 3, 3, "The army would be halved.")]
    assert is_furniture(footer, furniture(rows))
    # Three updates of one story may share a paragraph: that is the story, not furniture.
    same_story = [("Steppe Courier", n, 7, footer) for n in range(3)]
    assert not is_furniture(footer, furniture(same_story))
    # Different outlets repeating a sentence are copies, not furniture.
    copies = [(f"Outlet {n}", n, n, footer) for n in range(4)]
    assert not is_furniture(footer, furniture(copies))


def test_furniture_never_becomes_a_point() -> None:
    member = "Become a member of the Kyiv Independent community and support our reporting today."
    docs = [
        SourceDoc(
            f"Report {n}",
            f"{member} The draft plan would cap Ukraine's army at 600,000 troops, officials told reporters on day {n}. "
            f"Envoys Witkoff and Dmitriev wrote the 28-point plan over several weeks, officials said on day {n}.",
            "The Kyiv Independent" if n % 2 else "Reuters", f"https://example.com/{n}", story_id=n,
        )
        for n in range(4)
    ]  # fmt: skip
    points = summarize_reports(docs)
    assert points and not any("member" in p.text for p in points)
