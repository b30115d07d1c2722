"""Sending what is queued: each mail is marked 'sending' before it goes and 'sent' after, each in its own
transaction. A crash resumes with what is left; a mail left 'sending' is sent again, so the one
window for a duplicate is a connection lost after the server's final reply (and before Planwatch
recorded it). Two runs at once (the service and `digest send`) never send one mail twice: each mail
is claimed with a lease in one conditional UPDATE. Temporary failures retry with backoff; a permanent
refusal fails that mail only, and three in a row pause the subscriber; the rest of the batch goes on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from digests.mailer import Mailer, PermanentFailure, TemporaryFailure, outbox_key
from planwatch.errors import ConfigError
from planwatch.store import Store
from planwatch.timeutil import utcnow

log = logging.getLogger("planwatch.digests")
PAUSE_AFTER = 3  # permanent refusals in a row before a subscriber is paused
GIVE_UP_AFTER = 8  # attempts of one mail (about 4 hours of backoff)
MAX_RETRY_DELAY = timedelta(hours=2)
# A mail being sent belongs to its run this long; after a crash it is tried again once this is over.
LEASE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    paused: int = 0


def retry_delay(attempts: int) -> timedelta:
    delay: timedelta = timedelta(minutes=1) * (1 << min(max(attempts - 1, 0), 20))
    return min(delay, MAX_RETRY_DELAY)


async def deliver_due(
    store: Store,
    mailer: Mailer,
    sender: str,
    *,
    rate: float,
    clock: Callable[[], datetime] = utcnow,
) -> DeliveryResult:
    sent = retried = failed = paused = 0
    envelope_from = parseaddr(sender)[1] or sender
    interval = 1.0 / rate if rate > 0 else 0.0
    try:
        for item in await store.outbox.due(clock()):
            if item.message is None:  # nothing to send (should not happen): do not loop on it
                await store.outbox.mark(item.id, "failed", clock(), error="no message stored")
                continue
            if not await store.outbox.claim(item.id, clock(), LEASE):
                continue  # another delivery run took it
            key = outbox_key(item.digest_date, item.kind, item.subscriber_id, item.message_id)
            try:
                await mailer.send(envelope_from, item.email, item.message, key=key)
            except TemporaryFailure as exc:
                attempts = item.attempts + 1
                if attempts >= GIVE_UP_AFTER:
                    await store.outbox.mark(item.id, "failed", clock(), error=f"gave up after {attempts} attempts: {exc}")
                    failed += 1
                else:
                    await store.outbox.mark(item.id, "queued", clock(), error=str(exc),
                                            next_attempt=clock() + retry_delay(attempts))  # fmt: skip
                    retried += 1
                log.warning("mail #%s to subscriber %s: temporary failure: %s", item.id, item.subscriber_id, exc)
                continue
            except PermanentFailure as exc:
                await store.outbox.mark(item.id, "failed", clock(), error=str(exc))
                failed += 1
                if await store.subscribers.record_failure(item.subscriber_id, PAUSE_AFTER):
                    paused += 1
                    log.warning("subscriber %s paused after %d refusals", item.subscriber_id, PAUSE_AFTER)
                continue
            await store.outbox.mark(item.id, "sent", clock())
            await store.subscribers.record_success(item.subscriber_id)
            sent += 1
            if interval:
                await asyncio.sleep(interval)
    except ConfigError:
        raise
    finally:
        await mailer.close()
    return DeliveryResult(sent, retried, failed, paused)
