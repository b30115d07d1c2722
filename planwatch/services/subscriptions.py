"""Digest subscriptions, wherever they are asked for (Discord, CLI, web form): validation, the double
opt-in (one confirmation mail, nothing else, to a pending address), rate limits, and leaving."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from planwatch.errors import NotFoundError, UsageError
from planwatch.store import Store
from planwatch.store.limits import LimitKind, LimitRepo
from planwatch.store.subscribers import Subscriber
from planwatch.timeutil import to_db

log = logging.getLogger("planwatch.subscriptions")

# Pragmatic address check: one @, a dotted domain, no spaces or control characters; 254 at most (RFC 5321).
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_CODE = re.compile(r"^[A-Z0-9]{6,10}$")


@dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    email: str
    topics: list[str]
    hour: int
    timezone: str


def check_email(email: str) -> str:
    """The address as Planwatch keys it: lower-case (mailboxes are case-insensitive in practice, and one
    inbox must not count as several for the rate limits); no encoded words, which headers would decode."""
    address = email.strip()
    if len(address) > 254 or not _EMAIL.match(address) or ".." in address or "=?" in address:
        raise UsageError(f"{address[:80]!r} is not an email address Planwatch can send to")
    return address.lower()


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


# Zones whose place was renamed: tzdata keeps the old name as a link (it still works, and stays
# accepted), but a member typing the old spelling should be offered the current one first. Only true
# renames of the same place, old spelling -> current, from tzdata's `backward` file; not exhaustive,
# and never a merge into another city (Europe/Amsterdam is a link to Brussels, and stays Amsterdam).
RENAMED_ZONES = {
    "Europe/Kiev": "Europe/Kyiv",
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Dacca": "Asia/Dhaka",
    "Asia/Thimbu": "Asia/Thimphu",
    "Asia/Ulan_Bator": "Asia/Ulaanbaatar",
    "Asia/Macao": "Asia/Macau",
    "Asia/Ashkhabad": "Asia/Ashgabat",
    "Asia/Chungking": "Asia/Chongqing",
    "Asia/Ujung_Pandang": "Asia/Makassar",
    "America/Godthab": "America/Nuuk",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Africa/Asmera": "Africa/Asmara",
    "Pacific/Truk": "Pacific/Chuuk",
    "Pacific/Ponape": "Pacific/Pohnpei",
}


def timezone_suggestions(prefix: str, limit: int = 25) -> list[str]:
    """Zones containing what was typed ("ho chi minh" finds Asia/Ho_Chi_Minh); an old name that matches
    brings its current name along, and current names come before old ones."""
    needle = prefix.strip().lower().replace(" ", "_")
    zones = _zones()
    found = {z for z in zones if needle in z.lower()}
    found |= {new for old, new in RENAMED_ZONES.items() if needle in old.lower() and new in zones}
    superseded = {old for old, new in RENAMED_ZONES.items() if new in zones}
    return sorted(found, key=lambda z: (z in superseded, z))[:limit]


def check_code(code: str) -> str:
    normalized = code.strip().upper()
    if not _CODE.match(normalized):
        raise UsageError("a confirmation code is 6 to 10 letters and digits, as in the mail Planwatch sent")
    return normalized


def check_request(email: str, topics: list[str], hour: int | None, timezone: str | None) -> SubscriptionRequest:
    return SubscriptionRequest(check_email(email), topics, check_hour(7 if hour is None else hour),
                               check_timezone(timezone or "UTC"))  # fmt: skip


# --- the double opt-in ---------------------------------------------------------------------------------------
PENDING_FOR = timedelta(hours=48)
MAX_REQUESTS_PER_ADDRESS_PER_DAY = 3
MAX_REQUESTS_PER_DISCORD_USER_PER_HOUR = 5


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    subscriber: Subscriber
    status: str  # "confirmation-sent" | "confirmation-already-sent" | "already-subscribed" | "subscribed"


class RateLimited(UsageError):
    """A flood limit refused the request; `retry_after` says when it may succeed (the web form's 429
    carries it as Retry-After; Discord and the CLI show the message)."""

    def __init__(self, message: str, retry_after: timedelta) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _minutes(wait: timedelta) -> str:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def new_code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
    return "".join(secrets.choice(alphabet) for _ in range(8))


async def admit_web_client(store: Store, client: str, per_hour: int, now: datetime) -> None:
    """Count one subscribe-form request from this client address, or refuse it past `per_hour`: one
    client cannot spend the confirmation mails of the hour on its own, nor name thousands of inboxes."""
    admission = await LimitRepo(store).take(LimitKind.WEB_CLIENT, client, per_hour, now)
    if not admission.admitted:
        wait = admission.retry_after(now)
        raise RateLimited(f"too many subscription requests from your address this hour; try again in {_minutes(wait)}", wait)


async def _confirmation_slot(store: Store, per_hour: int, now: datetime) -> int:
    """One of the hour's confirmation mails, or RateLimited. The cap protects the mail server's
    reputation from many clients together; the operator hears of it once an hour, not per request."""
    limits = LimitRepo(store)
    admission = await limits.take(LimitKind.CONFIRMATION, "", per_hour, now)
    if admission.slot_id is not None:
        return admission.slot_id
    wait = admission.retry_after(now)
    if (await limits.take(LimitKind.CAP_WARNING, "", 1, now)).admitted:
        log.warning(
            "confirmation mail cap reached: %d queued in the last hour, the cap is %d"
            " (PLANWATCH_CONFIRMATIONS_PER_HOUR); subscription requests from the web form and Discord"
            " are refused until %s",
            admission.counted, per_hour, to_db(now + wait),
        )  # fmt: skip
    raise RateLimited(f"Planwatch has sent as many confirmation mails as it may this hour; try again in {_minutes(wait)}", wait)


async def subscribe(
    store: Store,
    request: SubscriptionRequest,
    *,
    scope: str,
    now: datetime,
    discord_user_id: str | None = None,
    confirmed: bool = False,
    send_confirmation: Callable[[Subscriber], Awaitable[bool]] | None = None,
    confirmations_per_hour: int | None = None,
) -> SubscribeResult:
    """Record a request and send the one confirmation mail (double opt-in). `confirmed` is for operators
    importing a list that already opted in; a request never changes a confirmed subscription.

    `confirmations_per_hour` is the global cap the public edges (web form, Discord) pass; the CLI is the
    operator and passes none. A slot is taken before anything is recorded, so a capped request leaves
    no trace, and given back when no mail was queued after all (already subscribed, sent today)."""
    slot: int | None = None
    if not confirmed and send_confirmation is not None and confirmations_per_hour is not None:
        slot = await _confirmation_slot(store, confirmations_per_hour, now)
    result: SubscribeResult | None = None
    try:
        result = await _subscribe(store, request, scope=scope, now=now, discord_user_id=discord_user_id,
                                  confirmed=confirmed, send_confirmation=send_confirmation)  # fmt: skip
        return result
    finally:
        if slot is not None and (result is None or result.status != "confirmation-sent"):
            await LimitRepo(store).release(slot)


async def _subscribe(
    store: Store,
    request: SubscriptionRequest,
    *,
    scope: str,
    now: datetime,
    discord_user_id: str | None,
    confirmed: bool,
    send_confirmation: Callable[[Subscriber], Awaitable[bool]] | None,
) -> SubscribeResult:
    if not confirmed:
        if await store.subscribers.requests_since(email=request.email, since=now - timedelta(days=1)) >= (
            MAX_REQUESTS_PER_ADDRESS_PER_DAY
        ):
            raise RateLimited("too many subscription requests for this address today; try again tomorrow", timedelta(days=1))
        if (
            discord_user_id
            and await store.subscribers.requests_since(discord_user_id=discord_user_id, since=now - timedelta(hours=1))
            >= MAX_REQUESTS_PER_DISCORD_USER_PER_HOUR
        ):
            raise RateLimited("too many subscription requests from you this hour; try again later", timedelta(hours=1))
        await store.subscribers.log_request(request.email, discord_user_id, now)
    existing = await store.subscribers.find(request.email, scope)
    if existing is not None and existing.status == "confirmed" and not confirmed:
        return SubscribeResult(existing, "already-subscribed")
    if existing is not None and existing.status == "unsubscribed" and confirmed:
        raise UsageError(f"{request.email} unsubscribed: only they can subscribe again (without --confirmed)")
    if (
        existing is not None
        and existing.status == "pending"
        and existing.discord_user_id
        and discord_user_id != existing.discord_user_id
    ):
        raise UsageError("a request for this address is already waiting to be confirmed")
    keep_code = existing.confirm_code if existing is not None and existing.status == "pending" else None
    subscriber = await store.subscribers.upsert_pending(
        email=request.email, scope=scope, topics=request.topics, hour=request.hour, timezone=request.timezone,
        discord_user_id=discord_user_id, code=keep_code or new_code(), now=now, confirmed=confirmed,
    )  # fmt: skip
    if confirmed:
        return SubscribeResult(subscriber, "subscribed")
    sent = await send_confirmation(subscriber) if send_confirmation is not None else False
    return SubscribeResult(subscriber, "confirmation-sent" if sent else "confirmation-already-sent")


async def confirm_code(store: Store, code: str, *, scope: str, discord_user_id: str | None, now: datetime) -> Subscriber:
    wanted = check_code(code)
    for subscriber in await store.subscribers.list_all("pending"):
        if subscriber.scope != scope or subscriber.confirm_code != wanted:
            continue
        if now - subscriber.requested_at > PENDING_FOR:
            raise UsageError("that code has expired (48 hours): ask again with /digest subscribe")
        await store.subscribers.set_status(subscriber.id, "confirmed", now)
        return await store.subscribers.get(subscriber.id)
    raise NotFoundError("no pending subscription has that code")


async def confirm_subscriber(store: Store, subscriber_id: int, now: datetime) -> Subscriber:
    subscriber = await store.subscribers.get(subscriber_id)
    if subscriber.status == "unsubscribed":
        raise UsageError("this subscription was ended; subscribe again to receive digests")
    if subscriber.status == "pending" and now - subscriber.requested_at > PENDING_FOR:
        raise UsageError("this confirmation link has expired (48 hours): subscribe again")
    if subscriber.status != "confirmed":
        await store.subscribers.set_status(subscriber.id, "confirmed", now)
    return await store.subscribers.get(subscriber.id)


async def unsubscribe(store: Store, subscriber_id: int, now: datetime) -> Subscriber:
    subscriber = await store.subscribers.get(subscriber_id)
    if subscriber.status != "unsubscribed":
        await store.subscribers.set_status(subscriber.id, "unsubscribed", now)
    return await store.subscribers.get(subscriber.id)


async def expire_pending(store: Store, now: datetime) -> int:
    return await store.subscribers.expire_pending(now - PENDING_FOR)
