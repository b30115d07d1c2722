"""Validating a digest subscription request, wherever it comes from (Discord, CLI, web form).

The mail side (double opt-in, delivery) is issue #5; this module is what it builds on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from planwatch.errors import UsageError

# Pragmatic address check: one @, a dotted domain, no spaces or control characters; 254 at most (RFC 5321).
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_CODE = re.compile(r"^[A-Z0-9]{6,10}$")


@dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    email: str
    topics: list[str]
    hour: int
    timezone: str


def check_email(email: str) -> str:
    address = email.strip()
    if len(address) > 254 or not _EMAIL.match(address) or ".." in address:
        raise UsageError(f"{address[:80]!r} is not an email address Planwatch can send to")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def check_hour(hour: int) -> int:
    if not 0 <= hour <= 23:
        raise UsageError(f"hour must be between 0 and 23 (got {hour})")
    return hour


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: str) -> str:
    zone = name.strip()
    if zone not in _zones():
        raise UsageError(f"{zone[:60]!r} is not a time zone; use an IANA name such as Europe/Kyiv or America/New_York")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"{zone[:60]!r} is not a time zone this machine knows") from None
    return zone


def timezone_suggestions(prefix: str, limit: int = 25) -> list[str]:
    needle = prefix.strip().lower()
    return sorted(z for z in _zones() if needle in z.lower())[:limit]


def check_code(code: str) -> str:
    normalized = code.strip().upper()
    if not _CODE.match(normalized):
        raise UsageError("a confirmation code is 6 to 10 letters and digits, as in the mail Planwatch sent")
    return normalized


def check_request(email: str, topics: list[str], hour: int | None, timezone: str | None) -> SubscriptionRequest:
    return SubscriptionRequest(check_email(email), topics, check_hour(7 if hour is None else hour),
                               check_timezone(timezone or "UTC"))  # fmt: skip
