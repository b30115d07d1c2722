"""Name keys across alphabets (planwatch.stories.anchors): one name's spellings meet, others do not."""

from __future__ import annotations

import pytest

from planwatch.stories.anchors import Script, anchor_key, anchor_keys, script
from planwatch.stories.text import key_terms


@pytest.mark.parametrize(
    "spellings",
    [
        ("Witkoff", "Уиткофф", "Уиткоффа", "Віткофф"),
        ("Zelensky", "Zelenskiy", "Zelenskyy", "Зеленский", "Зеленського"),
        ("Dmitriev", "Дмитриев", "Дмитрієв"),
        ("Peskov", "Песков", "Пескова"),
        ("Driscoll", "Дрисколл"),
        ("Crimea", "Крым"),
        ("28-point", "28"),
    ],
)
def test_the_spellings_of_one_name_share_a_key(spellings: tuple[str, ...]) -> None:
    keys = {anchor_key(word.lower()) for word in spellings}
    assert len(keys) == 1 and keys != {""}


def test_other_names_keep_other_keys() -> None:
    keys = [anchor_key(w) for w in ("witkoff", "dmitriev", "zelensky", "driscoll", "peskov", "putin", "trump", "rubio")]
    assert len(set(keys)) == len(keys)


def test_short_names_have_no_key() -> None:
    """Two consonants or fewer ("US", "NATO", "Kyiv") would meet far too many other names."""
    assert [anchor_key(w) for w in ("us", "nato", "kyiv", "сша")] == ["", "", "", ""]


def test_keys_of_a_report_in_cyrillic_meet_the_english_ones() -> None:
    ru = "В Кремле заявили, что Уиткофф и Дмитриев обсуждали план из 28 пунктов, сообщил Песков."
    en = "The Kremlin said Witkoff and Dmitriev discussed a 28-point plan, Peskov told reporters."
    shared = set(anchor_keys(key_terms(ru))) & set(anchor_keys(key_terms(en)))
    assert {anchor_key("witkoff"), anchor_key("dmitriev"), anchor_key("peskov"), "28"} <= shared


def test_the_script_of_a_report_is_the_alphabet_of_most_of_its_terms() -> None:
    assert script(["кремль", "песков", "axios"]) is Script.CYRILLIC
    assert script(["kremlin", "peskov", "28"]) is Script.LATIN
    assert script([]) is Script.LATIN
