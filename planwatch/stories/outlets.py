"""Outlets that reports cite, with the names they go by: a curated built-in list, extended by the
outlets an operator adds (`planwatch outlets add NAME --alias A`, stored in the database).

Aliases match case-sensitively, as proper names are written: "FT" is the Financial Times, "ft" is feet."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Outlet:
    name: str
    aliases: tuple[str, ...] = ()


BUILTIN: tuple[Outlet, ...] = (
    Outlet("Axios"),
    Outlet("Financial Times", ("FT",)),
    Outlet("Reuters", ("Thomson Reuters",)),
    Outlet("Associated Press", ("AP", "The Associated Press")),
    Outlet("Agence France-Presse", ("AFP", "Agence France Presse")),
    Outlet("CNBC"),
    Outlet("Politico", ("POLITICO", "Politico Europe")),
    Outlet("Bloomberg", ("Bloomberg News",)),
    Outlet("TASS", ("Tass",)),
    Outlet("RIA Novosti", ("RIA",)),
    Outlet("Interfax", ("Interfax-Ukraine",)),
    Outlet("Kyiv Independent", ("The Kyiv Independent",)),
    Outlet("The Kyiv Post", ("Kyiv Post",)),
    Outlet("Ukrainska Pravda", ("Ukrainian Pravda",)),
    Outlet("Suspilne"),
    Outlet("Ukrinform"),
    Outlet("Institute for the Study of War", ("ISW",)),
    Outlet("The Telegraph", ("Telegraph", "The Daily Telegraph", "Daily Telegraph")),
    Outlet("The Times", ("Times of London",)),
    Outlet("BBC", ("BBC News", "the BBC")),
    Outlet("CNN"),
    Outlet("The New York Times", ("New York Times", "NYT", "the Times of New York")),
    Outlet("The Washington Post", ("Washington Post",)),
    Outlet("The Wall Street Journal", ("Wall Street Journal", "WSJ")),
    Outlet("The Guardian", ("Guardian",)),
    Outlet(
        "Al Jazeera",
    ),
    Outlet(
        "Kommersant",
    ),
    Outlet(
        "Izvestia",
    ),
    Outlet(
        "Vedomosti",
    ),
    Outlet(
        "RBC",
    ),
    Outlet(
        "Meduza",
    ),
    Outlet("The Moscow Times", ("Moscow Times",)),
    Outlet(
        "Novaya Gazeta",
    ),
    Outlet("NBC News", ("NBC",)),
    Outlet("CBS News", ("CBS",)),
    Outlet(
        "ABC News",
    ),
    Outlet(
        "Fox News",
    ),
    Outlet(
        "Sky News",
    ),
    Outlet("The Economist", ("Economist",)),
    Outlet("Der Spiegel", ("Spiegel",)),
    Outlet(
        "Le Monde",
    ),
    Outlet(
        "Bild",
    ),
    Outlet(
        "Newsweek",
    ),
    Outlet("Deutsche Welle", ("DW",)),
    Outlet(
        "France 24",
    ),
    Outlet("Radio Free Europe/Radio Liberty", ("RFE/RL", "Radio Liberty", "Radio Free Europe")),
    Outlet(
        "The Atlantic",
    ),
    Outlet(
        "The Hill",
    ),
    Outlet(
        "Semafor",
    ),
    Outlet(
        "Punchbowl News",
    ),
    Outlet("Kyodo", ("Kyodo News",)),
    Outlet(
        "Xinhua",
    ),
    Outlet("Anadolu", ("Anadolu Agency",)),
    Outlet(
        "Euronews",
    ),
    Outlet(
        "Bellingcat",
    ),
)


class OutletRegistry:
    """Finds outlet names in text and maps any alias to the canonical name."""

    def __init__(self, outlets: tuple[Outlet, ...]) -> None:
        self.outlets = outlets
        self._canonical: dict[str, str] = {}
        for outlet in outlets:
            for alias in (outlet.name, *outlet.aliases):
                self._canonical[alias] = outlet.name
                self._canonical[alias.lower()] = outlet.name
                if alias.lower().startswith("the "):
                    self._canonical[alias[4:].lower()] = outlet.name
        names = sorted({a for o in outlets for a in (o.name, *o.aliases)}, key=len, reverse=True)
        alternation = "|".join(re.escape(n) for n in names)
        # Not inside a longer word, not a hashtag or handle.
        self.pattern = re.compile(rf"(?<![\w@#/.-])(?:{alternation})(?![\w-])")

    def canonical(self, name: str | None) -> str | None:
        if not name:
            return None
        name = name.strip()
        return self._canonical.get(name) or self._canonical.get(name.lower())

    def mentions(self, text: str) -> list[re.Match[str]]:
        return list(self.pattern.finditer(text))


@lru_cache(maxsize=16)
def registry(extra: tuple[Outlet, ...] = ()) -> OutletRegistry:
    """The built-in outlets plus extra ones; an extra outlet with a built-in name adds aliases to it."""
    if not extra:
        return OutletRegistry(BUILTIN)
    merged = {o.name: o for o in BUILTIN}
    for outlet in extra:
        known = merged.get(outlet.name)
        merged[outlet.name] = Outlet(outlet.name, (*(known.aliases if known else ()), *outlet.aliases))
    return OutletRegistry(tuple(merged.values()))
