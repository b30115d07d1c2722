"""What `planwatch run` records about itself, and `planwatch health`, which reads it.

Kept apart from planwatch/service.py so that the health check imports no web server, scheduler or feed
parser: a container runs it every 30 seconds."""

from __future__ import annotations

from datetime import timedelta

from planwatch.config import Settings
from planwatch.store import Store
from planwatch.timeutil import from_db, utcnow

# service_state keys the service writes.
LAST_TICK = "scheduler.last_tick_at"
HEARTBEAT = "scheduler.heartbeat_at"
# Written when `planwatch run` ends and deleted when it starts: `health` fails at once after a stop
# instead of trusting a heartbeat that is still fresh.
STOPPED = "service.stopped_at"
# "up", or "down (why)": the service runs on without its web endpoints, and `health` says so.
WEB_STATE = "web.state"
WEB_UP = "up"


async def health(settings: Settings) -> tuple[bool, str]:
    """For the container HEALTHCHECK: the service has not stopped, its scheduler ticked recently, and its
    web endpoints listen (confirm and unsubscribe links depend on them)."""
    store = await Store.open(settings.db_path, run_migrations=False)
    try:
        stopped = await store.state.get(STOPPED)
        web_state = await store.state.get(WEB_STATE)
        last = await store.state.get(HEARTBEAT) or await store.state.get(LAST_TICK)
    finally:
        await store.close()
    if stopped is not None:
        return False, f"the service stopped at {stopped}"
    if last is None:
        return False, "the scheduler has not ticked yet"
    age = utcnow() - from_db(last)
    limit = timedelta(seconds=max(3 * settings.poll_tick_seconds, 180))
    if age > limit:
        return False, f"last scheduler tick {int(age.total_seconds())} s ago (limit {int(limit.total_seconds())} s)"
    if web_state is not None and web_state != WEB_UP:
        return False, f"web: {web_state}"
    return True, f"ok: last tick {int(age.total_seconds())} s ago"
