"""The digest job the scheduler runs every minute: expire stale requests, queue what is due, deliver."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from digests.deliver import DeliveryResult, deliver_due
from digests.mailer import mailer_for
from digests.schedule import QueueResult, composer_for, queue_due
from planwatch.config import Settings
from planwatch.services.subscriptions import expire_pending
from planwatch.store import Store

log = logging.getLogger("planwatch.digests")


@dataclass(frozen=True, slots=True)
class DigestRun:
    queued: QueueResult
    delivered: DeliveryResult


async def deliver(store: Store, settings: Settings) -> DeliveryResult:
    mailer = mailer_for(settings.smtp_url, settings.outbox_dir)
    rate = settings.mail_rate if settings.smtp_url else 0.0
    try:
        return await deliver_due(store, mailer, settings.mail_from, rate=rate)
    finally:
        # After the batch, not inside it: one DELETE for every body at the end of the run was 0.2 ms a
        # mail (bench/digest.py) that readers waited on; sent bodies only take space until then.
        await store.outbox.purge_finished()


async def digest_tick(store: Store, settings: Settings, now: datetime) -> DigestRun:
    expired = await expire_pending(store, now)
    if expired:
        log.info("expired %d unconfirmed subscription requests (48 h)", expired)
    queued = await queue_due(store, settings, await composer_for(store, settings), now)
    delivered = await deliver(store, settings)
    if queued.queued or delivered.sent or delivered.failed or delivered.retried:
        log.info(
            "digests: %d queued, %d skipped (nothing new), %d sent, %d to retry, %d failed",
            queued.queued, queued.skipped, delivered.sent, delivered.retried, delivered.failed,
        )  # fmt: skip
    return DigestRun(queued, delivered)
