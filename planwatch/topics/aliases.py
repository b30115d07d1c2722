"""Spelling variants that outlets use for the same name; a query term in a group matches them all.

Transliteration differs between languages and house styles (Zelensky, Zelenskyy, Selenskyj), and
Kyiv/Kiev splits outlets by editorial policy: a topic must not miss a report over a spelling."""

from __future__ import annotations

BUILTIN_ALIASES: tuple[tuple[str, ...], ...] = (
    ("kyiv", "kiev", "kiew"),
    ("zelensky", "zelenskyy", "zelenskyi", "zelenskiy", "zelenski", "selenskyj", "selenskyi", "zelenskij"),
    ("umerov", "umjerow", "umerow"),
    ("28-point", "28 point", "28-punkte", "28-punkt", "twenty-eight-point", "twenty-eight point"),
    ("donbas", "donbass"),
    ("luhansk", "lugansk"),
    ("donetsk", "donezk"),
    ("kharkiv", "kharkov", "charkiw"),
    ("odesa", "odessa"),
    ("zaporizhzhia", "zaporizhia", "zaporizhzhya", "zaporozhye", "saporischschja"),
    ("dmitriev", "dmitriyev", "dmitrijew"),
    ("peskov", "peskow"),
    ("yermak", "jermak"),
    ("kyslytsia", "kyslytsya"),
)


def alias_key(term: str) -> str:
    return " ".join(term.lower().replace("-", " ").split())


def alias_index(extra: list[list[str]] | None = None) -> dict[str, tuple[str, ...]]:
    """term key -> every variant of its group (built-in groups merged with a topic's own)."""
    index: dict[str, set[str]] = {}
    for group in [*BUILTIN_ALIASES, *(extra or [])]:
        members = {m.strip() for m in group if m.strip()}
        merged = set(members)
        for member in members:
            merged |= index.get(alias_key(member), set())
        for member in merged:
            index[alias_key(member)] = merged
    return {key: tuple(sorted(group)) for key, group in index.items()}
