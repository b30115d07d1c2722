"""Time zone suggestions (the /digest autocomplete): current names before the old spellings tzdata
keeps as links, checked against the zone data this machine has."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

import pytest

from planwatch.services.subscriptions import RENAMED_ZONES, check_timezone, timezone_suggestions


@pytest.mark.parametrize("old,new", sorted(RENAMED_ZONES.items()))
def test_each_rename_is_the_same_zone_under_its_current_name(old: str, new: str) -> None:
    """The table only renames: both names are known and keep the same offsets, 1990 to 2030."""
    zones = available_timezones()
    assert old in zones and new in zones
    for year in range(1990, 2031, 2):
        for month in (1, 7):
            at = datetime(year, month, 15, 12, tzinfo=UTC)
            assert at.astimezone(ZoneInfo(old)).utcoffset() == at.astimezone(ZoneInfo(new)).utcoffset(), (old, new, at)


def test_old_spellings_bring_the_current_name_first() -> None:
    assert timezone_suggestions("kiev") == ["Europe/Kyiv", "Europe/Kiev"]
    assert timezone_suggestions("KIEV ") == ["Europe/Kyiv", "Europe/Kiev"]
    assert timezone_suggestions("kyiv") == ["Europe/Kyiv"]
    assert timezone_suggestions("saigon") == ["Asia/Ho_Chi_Minh", "Asia/Saigon"]
    assert timezone_suggestions("ho chi minh") == ["Asia/Ho_Chi_Minh"]
    assert timezone_suggestions("Rangoon")[0] == "Asia/Yangon"
    assert check_timezone("Europe/Kiev") == "Europe/Kiev"  # the old name still works when typed


def test_superseded_names_sort_after_every_current_match() -> None:
    """Typing a region lists current names first; an old name never crowds a current one out."""
    asia = timezone_suggestions("asia/", limit=1000)
    old = [z for z in asia if z in RENAMED_ZONES]
    assert old and asia[-len(old) :] == sorted(old)
    assert "Europe/Kiev" not in timezone_suggestions("europe/")  # 25 current names come first
    assert len(timezone_suggestions("")) == 25
