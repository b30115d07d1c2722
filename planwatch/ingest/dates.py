"""Feed dates to UTC, and the rule for dates that cannot be trusted."""

from __future__ import annotations

import calendar
import email.utils
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


def parse_loose(raw: object) -> datetime | None:
    """Dates feedparser could not read: RFC 822 with a non-English day name ("mer, 16 nov 2022 ...")
    or ISO 8601 variants. Naive results are taken as UTC."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    # The day name says nothing the date does not, and feedparser knows only English ones.
    text_rfc = text.split(",", 1)[1].strip() if "," in text[:12] else text
    try:
        parsed = email.utils.parsedate_to_datetime(text_rfc)
    except (TypeError, ValueError, IndexError, OverflowError):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset
        return None


def plausible(published: datetime | None, now: datetime) -> datetime | None:
    """The date if it can be believed, else None (the store then uses first-seen and marks it)."""
    if published is None or published < EARLIEST or published > now + FUTURE_TOLERANCE:
        return None
    return published.replace(microsecond=0)
