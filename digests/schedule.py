"""When digests are queued: every minute, each confirmed subscriber whose local delivery time has come
(today's, or yesterday's within the grace window after a restart) gets that day's digest queued once.
A day with nothing new is recorded as skipped (unless the operator wants a "nothing new" note)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digests.build import DigestBuilder, window_for
from digests.compose import DigestComposer
from digests.render import environment
from planwatch.config import Settings
from planwatch.errors import NotFoundError, UsageError
from planwatch.store import Store
from planwatch.store.subscribers import Subscriber
from planwatch.tokens import signer_for

log = logging.getLogger("planwatch.digests")


# `digest send --date` reaches back at most this far: enough to make up any day missed while Planwatch
# was down, and far from the calendar's ends (0001-01-01 overflowed the window arithmetic). `digest send
# --help` and the README say 30.
MAX_DAYS_BACK = 30


@dataclass(frozen=True, slots=True)
class LateReports:
    """Reports first seen after a day's window closed (at `closed_at`, in `zone`): the next digest has them."""

    closed_at: datetime
    zone: str
    reports: int


@dataclass(frozen=True, slots=True)
class QueueResult:
    queued: int = 0
    skipped: int = 0
    not_yet: int = 0  # the day has not come in the subscriber's zone: nothing was stored for them
    late: tuple[LateReports, ...] = field(default=(), compare=False)  # only `digest send` looks


def day_has_come(subscriber: Subscriber, day: date, now: datetime) -> bool:
    return day <= now.astimezone(ZoneInfo(subscriber.timezone)).date()


async def check_send_date(store: Store, day: date, now: datetime) -> None:
    """A day `digest send` may be asked for: one that has come in UTC or in some confirmed subscriber's
    zone (a row stored for a day still ahead would stand in for that day's real digest), and at most
    MAX_DAYS_BACK before today."""
    today = now.astimezone(UTC).date()
    zones = [ZoneInfo("UTC")]
    for name in {s.timezone for s in await store.subscribers.list_all("confirmed")}:
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            continue  # a zone this machine lacks: that reader's digest fails alone, and says so in the log
    latest = max(now.astimezone(zone).date() for zone in zones)
    if day > latest:
        where = f"it is {today} in UTC" + (f" and {latest} at most in your subscribers' time zones" if latest > today else "")
        raise UsageError(f"{day} has not come yet ({where}): a day's digest is sent on that day or later, never before")
    floor = today - timedelta(days=MAX_DAYS_BACK)
    if day < floor:
        raise UsageError(f"{day} is more than {MAX_DAYS_BACK} days ago: digest send goes back to {floor} at most")


async def composer_for(store: Store, settings: Settings) -> DigestComposer:
    return DigestComposer(settings, await signer_for(store, settings), environment(settings.template_dir), DigestBuilder(store))


def due_date(subscriber: Subscriber, now: datetime, grace: timedelta) -> date | None:
    """The local date whose delivery time has come and is still within the grace window, if any."""
    zone = ZoneInfo(subscriber.timezone)
    local = now.astimezone(zone)
    for day in (local.date(), local.date() - timedelta(days=1)):
        slot = datetime(day.year, day.month, day.day, subscriber.hour, tzinfo=zone)
        if slot <= local <= slot + grace:
            return day
    return None


async def queue_digest(
    store: Store, settings: Settings, composer: DigestComposer, subscriber: Subscriber, day: date, now: datetime
) -> str:
    """'queued', 'skipped' (nothing new), 'exists' (that day's digest was handled before) or 'not-yet'
    (the day has not come in the subscriber's zone: nothing is stored, so the real day still sends)."""
    if not day_has_come(subscriber, day, now):
        return "not-yet"
    if await store.outbox.exists(subscriber.id, "digest", day.isoformat()):
        return "exists"
    window = window_for(subscriber, day, now, await store.outbox.last_window_end(subscriber.id))
    composed = await composer.digest(subscriber, window)
    message_id = composed.message_id
    if not composed.has_news and not settings.digest_send_empty:
        await store.outbox.queue(subscriber.id, "digest", day.isoformat(), message_id, b"", now, window.end)
        await store.outbox.mark_skipped(subscriber.id, day.isoformat())
        return "skipped"
    queued = await store.outbox.queue(subscriber.id, "digest", day.isoformat(), message_id, composed.as_bytes(), now, window.end)
    return "queued" if queued else "exists"


async def queue_due(store: Store, settings: Settings, composer: DigestComposer, now: datetime) -> QueueResult:
    grace = timedelta(hours=settings.digest_grace_hours)
    due = [(s, d) for s in await store.subscribers.list_all("confirmed") if (d := due_date(s, now, grace)) is not None]
    return _counted(await _queue_each(store, settings, composer, due, now))


async def _queue_each(
    store: Store, settings: Settings, composer: DigestComposer, due: list[tuple[Subscriber, date]], now: datetime
) -> list[tuple[Subscriber, str]]:
    """One reader's failure (a removed topic, a template error) is logged and skips only that reader."""
    outcomes = []
    for subscriber, day in due:
        try:
            outcomes.append((subscriber, await queue_digest(store, settings, composer, subscriber, day, now)))
        except Exception:
            log.exception("digest for subscriber %s on %s could not be made", subscriber.id, day)
    return outcomes


def _counted(outcomes: list[tuple[Subscriber, str]], late: tuple[LateReports, ...] = ()) -> QueueResult:
    kinds = [outcome for _, outcome in outcomes]
    return QueueResult(kinds.count("queued"), kinds.count("skipped"), kinds.count("not-yet"), late)


async def queue_for_date(store: Store, settings: Settings, composer: DigestComposer, day: date, now: datetime) -> QueueResult:
    """`digest send`: that day's digest to every confirmed subscriber who has not had it, whatever their hour,
    except those for whom the day has not come yet. A day ahead everywhere, or too far back, is refused."""
    await check_send_date(store, day, now)
    confirmed = await store.subscribers.list_all("confirmed")
    outcomes = await _queue_each(store, settings, composer, [(s, day) for s in confirmed], now)
    handled = [s for s, outcome in outcomes if outcome in ("queued", "skipped")]
    return _counted(outcomes, await late_reports(store, handled, day, now))


async def late_reports(store: Store, subscribers: list[Subscriber], day: date, now: datetime) -> tuple[LateReports, ...]:
    """For readers whose digest for today was just made from a window that closed before now: how many
    reports on their topics came in since, by closing time and zone (so `digest send` can say why a
    digest holds less than the database, or nothing: those reports wait for tomorrow's)."""
    late: dict[tuple[datetime, str], set[int]] = {}
    for subscriber in subscribers:
        zone = ZoneInfo(subscriber.timezone)
        if day != now.astimezone(zone).date():
            continue
        closed = window_for(subscriber, day, now).end
        if closed >= now:
            continue  # made before the reader's hour: the window ends now and nothing is late
        ids = late.setdefault((closed, subscriber.timezone), set())
        for name in subscriber.topics:
            try:
                topic = await store.topics.get(name, subscriber.scope)
            except NotFoundError:
                continue
            ids.update(r.id for r in await store.stories.topic_reports_seen(topic.id, closed, now))
    return tuple(LateReports(at, name, len(ids)) for (at, name), ids in sorted(late.items()) if ids)


async def queue_confirmation(
    store: Store, composer: DigestComposer, subscriber: Subscriber, requested_via: str, now: datetime
) -> bool:
    """The one mail a pending address gets; at most one in 24 hours, whatever is asked. Counted by time, not
    by calendar day: a second request naming another time zone must not open a new "day"."""
    day = now.astimezone(ZoneInfo(subscriber.timezone)).date().isoformat()
    if await store.outbox.queued_since(subscriber.id, "confirm", now - timedelta(days=1)):
        return False
    composed = composer.confirmation(subscriber, requested_via)
    return await store.outbox.queue(subscriber.id, "confirm", day, composed.message_id, composed.as_bytes(), now)
