"""Names that meet across alphabets: Уиткофф is Witkoff, Зеленський is Zelensky.

A Russian or Ukrainian report of the leak shares no word with the English reports of it, so word
likeness cannot put it in their story, and the topic's query, written in English, cannot match it
either: it is lost twice. What it does share is its people, places and figures. Each name term is
reduced to a crude phonetic key (transliterated to Latin, spelling variants folded, vowels and the
letters transliterations disagree on dropped, first three consonants kept), so that the spellings of
one name in several alphabets and transliteration schemes meet, and numbers stay as they are.

The keys collide more than names do ("Smith" and "Smyth", "Moscow" and "Muskie"), so grouping uses
them only between reports of different alphabets, where nothing better is there to compare."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache

KEY_CONSONANTS = 3
_NUMBER = re.compile(r"\d[\d.]*")

# Russian and Ukrainian letters as English-language news transliterates them.
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "e", "є": "ye", "ж": "zh",
    "з": "z", "и": "i", "і": "i", "ї": "yi", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
_TRANSLIT = str.maketrans(_CYRILLIC)
# Letters that transliterations render as vowels or drop ("Witkoff" / "Уиткофф" -> "uitkoff";
# "Zelenskyy" / "Зеленський" / "Selenskyj"): keeping them would keep the spellings apart.
_SOFT = frozenset("aeiouywhj'")


class Script(StrEnum):
    LATIN = "latin"
    CYRILLIC = "cyrillic"
    OTHER = "other"


def _script_of_char(char: str) -> Script | None:
    if not char.isalpha():
        return None
    code = ord(char)
    if code < 0x250:
        return Script.LATIN
    if 0x400 <= code < 0x530:
        return Script.CYRILLIC
    return Script.OTHER


def script(terms: Iterable[str]) -> Script:
    """The alphabet most of a report's terms are written in (Latin when it has no letters)."""
    counts = {s: 0 for s in Script}
    for term in terms:
        found = _script_of_char(term[:1]) if term else None
        if found is not None:
            counts[found] += 1
    return max(Script, key=lambda s: (counts[s], s == Script.LATIN))


@lru_cache(maxsize=1 << 15)
def anchor_key(term: str) -> str:
    """A name term's phonetic key, "" when it is too short to mean anything; a number is its own key."""
    number = _NUMBER.match(term)
    if number:  # "28-point" and "28 пунктов" share the 28
        return number.group()
    latin = term.lower().translate(_TRANSLIT)
    if latin[:1] == "v":  # Ukrainian writes W as В: "Віткофф"
        latin = latin[1:]
    latin = latin.replace("ph", "f").replace("ck", "k").replace("q", "k").replace("x", "ks")
    # c is s before e, i, y ("Vance", "Вэнс") and k elsewhere ("Crimea", "Крым")
    latin = "".join(("s" if latin[i + 1 : i + 2] in ("e", "i", "y") else "k") if c == "c" else c for i, c in enumerate(latin))
    out: list[str] = []
    for c in latin:
        if c in _SOFT or not c.isalpha():
            continue
        if not out or out[-1] != c:
            out.append(c)
        if len(out) == KEY_CONSONANTS:
            return "".join(out)
    return ""


def anchor_keys(names: Iterable[str]) -> list[str]:
    """The keys of a report's name terms (repeats kept: they weigh as the names do)."""
    return [key for name in names if (key := anchor_key(name))]
