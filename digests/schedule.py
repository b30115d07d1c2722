"""When digests are queued: every minute, each confirmed subscriber whose local delivery time has come
(today's, or yesterday's within the grace window after a restart) gets that day's digest queued once.
A day with nothing new is recorded as skipped (unless the operator wants a "nothing new" note)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from digests.build import DigestBuilder, window_for
from digests.compose import DigestComposer
from digests.render import environment
from planwatch.config import Settings
from planwatch.store import Store
from planwatch.store.subscribers import Subscriber
from planwatch.tokens import signer_for

log = logging.getLogger("planwatch.digests")


@dataclass(frozen=True, slots=True)
class QueueResult:
    queued: int = 0
    skipped: int = 0


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
    """'queued', 'skipped' (nothing new) or 'exists' (that day's digest was handled before)."""
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
    return await _queue_each(store, settings, composer, due, now)


async def _queue_each(
    store: Store, settings: Settings, composer: DigestComposer, due: list[tuple[Subscriber, date]], now: datetime
) -> QueueResult:
    """One reader's failure (a removed topic, a template error) is logged and skips only that reader."""
    queued = skipped = 0
    for subscriber, day in due:
        try:
            outcome = await queue_digest(store, settings, composer, subscriber, day, now)
        except Exception:
            log.exception("digest for subscriber %s on %s could not be made", subscriber.id, day)
            continue
        queued += outcome == "queued"
        skipped += outcome == "skipped"
    return QueueResult(queued, skipped)


async def queue_for_date(store: Store, settings: Settings, composer: DigestComposer, day: date, now: datetime) -> QueueResult:
    """`digest send`: that day's digest to every confirmed subscriber who has not had it, whatever their hour."""
    return await _queue_each(store, settings, composer, [(s, day) for s in await store.subscribers.list_all("confirmed")], now)


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
