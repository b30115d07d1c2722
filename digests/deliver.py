"""Sending what is queued: each mail is claimed (in batches, with a lease) and recorded as sent right
after the server accepts it, each record its own transaction. A crash resumes with what is left: mail
still claimed by the dead run goes again when its lease is over. The one window for a duplicate is a
connection lost after the server's final reply and before Planwatch recorded it (a mail's "sent" is
written while the next one is being sent, so that is one mail at most). Two runs at once (the
service and `digest send`) never send one mail twice. Temporary failures retry with backoff; a
permanent refusal fails that mail only, and three in a row pause the subscriber; the batch goes on."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from digests.mailer import Mailer, PermanentFailure, SenderFailure, TemporaryFailure, outbox_key
from planwatch.store import Store
from planwatch.store.subscribers import OutboxItem
from planwatch.timeutil import utcnow

log = logging.getLogger("planwatch.digests")
PAUSE_AFTER = 3  # permanent refusals in a row before a subscriber is paused
GIVE_UP_AFTER = 8  # attempts of one mail (about two hours of backoff in all)
MAX_RETRY_DELAY = timedelta(hours=2)
# Mails are claimed CLAIM_BATCH at a time and belong to their run for LEASE: long enough to send a whole
# batch at the SMTP timeout (20 x 30 s), and after a crash they are tried again once it is over.
LEASE = timedelta(minutes=15)
CLAIM_BATCH = 20
PAGE = 200  # mails loaded at once (each holds its rendered message)


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
    totals = [0, 0, 0, 0]  # sent, retried, failed, paused
    envelope_from = parseaddr(sender)[1] or sender
    interval = 1.0 / rate if rate > 0 else 0.0
    run = secrets.token_hex(8)
    recording: asyncio.Task[None] | None = None  # "sent" of the previous mail, written while this one goes
    await store.outbox.skip_unwanted()  # readers who left or were paused since their mail was queued
    try:
        while due := await store.outbox.due(clock(), limit=PAGE):
            claimed: set[int] = set()
            messages: dict[int, bytes] = {}
            claimed_at = clock()
            for index, item in enumerate(due):
                if index % CLAIM_BATCH == 0:  # claimed in batches; each mail is still recorded as sent at once
                    batch = await store.outbox.claim([i.id for i in due[index : index + CLAIM_BATCH]], run, clock(), LEASE)
                    claimed |= batch
                    messages = await store.outbox.messages(sorted(batch))
                    claimed_at = clock()
                elif clock() - claimed_at > LEASE / 2:  # a slow server or a low rate: keep what we hold
                    claimed = await store.outbox.renew(sorted(claimed), run, clock(), LEASE)
                    claimed_at = clock()
                if item.id not in claimed:
                    continue  # another delivery run took it
                message = messages.get(item.id)
                if message is None:  # nothing to send (should not happen): do not loop on it
                    await store.outbox.mark(item.id, "failed", clock(), error="no message stored")
                    totals[2] += 1
                    continue
                try:
                    await mailer.send(envelope_from, item.email, message, key=_key(item))
                except SenderFailure as exc:
                    log.error("the mail server refuses Planwatch itself (%s): delivery stops, retried later", exc)
                    if recording is not None:
                        await recording
                        recording = None
                    await store.outbox.release(run, clock(), clock() + retry_delay(item.attempts + 1))
                    totals[1] += 1
                    return DeliveryResult(*totals)
                except (TemporaryFailure, PermanentFailure) as exc:
                    if recording is not None:
                        await recording
                        recording = None
                    outcome = await _failed(store, item, exc, clock)
                    totals[outcome] += 1
                    totals[2] += outcome == 3  # a paused subscriber's mail failed too
                    continue
                if recording is not None:
                    await recording
                recording = asyncio.create_task(store.outbox.mark_sent(item.id, item.subscriber_id, clock()))
                totals[0] += 1
                if interval:
                    await asyncio.sleep(interval)
            if not claimed:
                break  # everything left belongs to another run
        if recording is not None:
            await recording
            recording = None
    finally:
        if recording is not None:
            await asyncio.shield(recording)  # a mail the server accepted is recorded, even when cancelled
        await mailer.close()
    return DeliveryResult(*totals)


def _key(item: OutboxItem) -> str:
    return outbox_key(item.digest_date, item.kind, item.subscriber_id, item.message_id)


async def _failed(store: Store, item: OutboxItem, exc: Exception, clock: Callable[[], datetime]) -> int:
    """1 to retry, 2 failed, 3 failed and the subscriber paused."""
    if isinstance(exc, TemporaryFailure):
        log.warning("mail #%s to subscriber %s: temporary failure: %s", item.id, item.subscriber_id, exc)
        attempts = item.attempts + 1
        if attempts >= GIVE_UP_AFTER:
            await store.outbox.mark(item.id, "failed", clock(), error=f"gave up after {attempts} attempts: {exc}")
            return 2
        await store.outbox.mark(item.id, "queued", clock(), error=str(exc), next_attempt=clock() + retry_delay(attempts))
        return 1
    await store.outbox.mark(item.id, "failed", clock(), error=str(exc))
    if await store.subscribers.record_failure(item.subscriber_id, PAUSE_AFTER):
        log.warning("subscriber %s paused after %d refusals", item.subscriber_id, PAUSE_AFTER)
        return 3
    return 2
