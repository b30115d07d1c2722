"""Feed dates to UTC, and the rule for dates that cannot be trusted."""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime, timedelta

# A date further ahead than this is a publisher's mistake (or a time zone gone wrong by days).
FUTURE_TOLERANCE = timedelta(days=1)
# Dates before the web existed are placeholders (1970-01-01, 0001-01-01).
EARLIEST = datetime(1991, 1, 1, tzinfo=UTC)


def struct_to_utc(parsed: time.struct_time | None) -> datetime | None:
    """feedparser hands out UTC struct_time values; None when it could not read the date."""
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def plausible(published: datetime | None, now: datetime) -> datetime | None:
    """The date if it can be believed, else None (the store then uses first-seen and marks it)."""
    if published is None or published < EARLIEST or published > now + FUTURE_TOLERANCE:
        return None
    return published.replace(microsecond=0)
