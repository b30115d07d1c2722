"""Human durations ("90m", "6h", "3d", "1w", "1d12h") for --since and /since."""

from __future__ import annotations

import re
from datetime import timedelta

from planwatch.errors import UsageError

_PART = re.compile(r"(\d+)\s*(minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w)(?![a-z])", re.I)
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX = timedelta(days=366)


def parse_duration(text: str, *, what: str = "--since") -> timedelta:
    raw = text.strip()
    pos = 0
    total = 0
    for match in _PART.finditer(raw):
        if raw[pos : match.start()].strip():
            break
        total += int(match[1]) * _UNIT[match[2][0].lower()]
        pos = match.end()
    if not raw or pos == 0 or raw[pos:].strip():
        raise UsageError(f"invalid {what} {text!r}: use a number and a unit, e.g. 30m, 6h, 2d, 1w")
    if total <= 0:
        raise UsageError(f"invalid {what} {text!r}: must be longer than zero")
    if total > MAX.total_seconds():
        raise UsageError(f"invalid {what} {text!r}: at most {MAX.days} days")
    return timedelta(seconds=total)
