"""When to poll a feed next: its interval on success (with jitter, stretched by the server's own
hints), capped exponential backoff on failure, and when to give up and pause."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

# Server hints (Cache-Control max-age, RSS <ttl>) may stretch the interval, but not past this.
MAX_HINTED_INTERVAL = timedelta(hours=6)
JITTER = 0.1  # +-10% so that feeds added together do not stay in lock-step


@dataclass(frozen=True, slots=True)
class Backoff:
    max_delay: timedelta
    pause_after: int

    def after_success(
        self, now: datetime, interval: timedelta, hint: timedelta | None = None, rng: random.Random | None = None
    ) -> datetime:
        base = interval
        if hint is not None and hint > base:
            base = min(hint, MAX_HINTED_INTERVAL)
        factor = 1.0 + float((rng or random.Random()).uniform(-JITTER, JITTER))
        return now + timedelta(seconds=round(base.total_seconds() * factor))

    def after_failure(self, now: datetime, interval: timedelta, failures: int, retry_after: timedelta | None = None) -> datetime:
        """failures counts this one too (1 after the first failure): interval, 2x, 4x, ... up to the cap.
        A server's Retry-After wins when it asks for longer (it is still capped)."""
        exponent = min(max(failures - 1, 0), 30)
        delay: timedelta = min(interval * (1 << exponent), self.max_delay)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_delay))
        return now + delay

    def should_pause(self, failures: int, gone: bool) -> str | None:
        if gone:
            return "the feed is gone (HTTP 410)"
        if failures >= self.pause_after:
            return f"{failures} failures in a row"
        return None
