"""`planwatch run`: the long-running service. A scheduler tick polls the feeds that are due; Discord,
the web endpoints and digests join here in later issues. Stops cleanly on SIGINT/SIGTERM: no new feed
is started, the ones under way finish and commit."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from planwatch.config import Settings, settings_warnings
from planwatch.health import HEARTBEAT, LAST_TICK, STOPPED, WEB_STATE, WEB_UP
from planwatch.ingest.poller import Poller
from planwatch.services.feeds import import_starter_feeds
from planwatch.store import Store
from planwatch.stories.refresh import refresh_stories
from planwatch.timeutil import to_db, utcnow

log = logging.getLogger(__name__)
AlertHook = Callable[[datetime], Awaitable[object]]


class Service:
    def __init__(self, store: Store, settings: Settings, poller: Poller | None = None, alerts: AlertHook | None = None) -> None:
        self.store = store
        self.settings = settings
        self.poller = poller or Poller(store, settings)
        self.alerts = alerts  # posts Discord alerts after each tick, when the bot is on
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._tick_lock = asyncio.Lock()
        self._digest_lock = asyncio.Lock()
        self.ticks = 0

    async def heartbeat(self) -> None:
        """A cheap job of its own, so that a long poll does not look like a dead service."""
        now = utcnow()
        try:
            await self.store.state.set(HEARTBEAT, to_db(now), now)
        except Exception:
            log.exception("heartbeat failed")

    async def digests(self) -> None:
        """Every minute: queue the digests whose hour has come, deliver what is queued. Never raises."""
        from digests.jobs import digest_tick

        async with self._digest_lock:
            try:
                await digest_tick(self.store, self.settings, utcnow())
            except Exception:
                log.exception("digest job failed")

    async def tick(self) -> None:
        """One scheduler beat: poll whatever is due. Never raises: a bad tick must not stop the next."""
        if self._tick_lock.locked():
            return
        async with self._tick_lock:
            try:
                now = utcnow()
                await self.store.state.set(LAST_TICK, to_db(now), now)
                results = await self.poller.poll_due()
                if results:
                    failed = sum(r.outcome == "error" for r in results)
                    new = sum(r.new for r in results)
                    log.info("tick: polled %d feeds, %d new reports, %d failed", len(results), new, failed)
                if any(r.new or r.updated for r in results):
                    await refresh_stories(self.store)
                if self.alerts is not None:
                    await self.alerts(now)
            except Exception:
                log.exception("scheduler tick failed")
            finally:
                self.ticks += 1

    def start(self) -> None:
        self.scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.settings.poll_tick_seconds,
            id="poll",
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
            misfire_grace_time=self.settings.poll_tick_seconds,
        )
        self.scheduler.add_job(
            self.digests, "interval", seconds=60, id="digests", max_instances=1, coalesce=True,
            next_run_time=utcnow(),
        )  # fmt: skip
        self.scheduler.add_job(
            self.heartbeat, "interval", seconds=30, id="heartbeat", max_instances=1, coalesce=True,
            next_run_time=utcnow(),
        )  # fmt: skip
        self.scheduler.start()

    async def stop(self) -> None:
        """No new job starts; the poll and the digest batch under way finish (shutting the scheduler
        down first would cancel them mid-write)."""
        if self.scheduler.running:
            self.scheduler.pause()
        self.poller.stop()
        async with self._tick_lock, self._digest_lock:
            pass
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.poller.close()


async def _listen(runner: web.AppRunner, settings: Settings) -> str:
    """Start the web endpoints; the web state to record (WEB_UP, or "down (why)")."""
    try:
        await web.TCPSite(runner, settings.web_host, settings.web_port).start()
    except OSError as exc:
        log.error("cannot listen on %s:%d (%s): confirm and unsubscribe links will not work", settings.web_host,
                  settings.web_port, exc.strerror)  # fmt: skip
        if exc.errno == errno.EADDRINUSE:
            return f"down (port {settings.web_port} in use)"
        return f"down (cannot listen on {settings.web_host}:{settings.web_port}: {exc.strerror or exc})"
    log.info("web endpoints on http://%s:%d (links use %s)", settings.web_host, settings.web_port, settings.public_url)
    return WEB_UP


async def run_service(settings: Settings, stop: asyncio.Event | None = None) -> int:
    store = await Store.open(settings.db_path)
    try:
        for warning in settings_warnings(settings):
            log.warning("%s", warning)
        await store.state.delete(STOPPED, WEB_STATE)
        imported = await import_starter_feeds(store, settings)
        if imported is not None:
            log.info(
                "no feeds yet: imported %d starter feeds (PLANWATCH_STARTER_FEEDS=0 turns this off); skipped %d",
                len(imported.added), len(imported.skipped),
            )  # fmt: skip
        stop = stop or asyncio.Event()
        bot_task: asyncio.Task[None] | None = None
        alerts: AlertHook | None = None
        discord_ready: Callable[[], bool] | None = None
        if settings.discord_token:
            from bot.alerts import DiscordSink, run_alerts
            from bot.client import PlanwatchBot
            from bot.context import BotContext
            from bot.runner import run_bot

            bot = PlanwatchBot(BotContext(store, settings))
            discord_ready = bot.is_ready
            sink = DiscordSink(bot)

            async def post_alerts(now: datetime) -> object:
                if not bot.is_ready():
                    return None
                return await run_alerts(store, sink, now, max_per_hour=settings.alerts_per_hour)

            alerts = post_alerts
            bot_task = asyncio.create_task(run_bot(bot, settings.discord_token, stop))
            log.info("Discord bot starting (commands are registered with `planwatch sync`, not at start)")
        else:
            log.info("Discord is off (DISCORD_TOKEN not set); polling runs on its own")
        service = Service(store, settings, alerts=alerts)
        web_state = "starting"
        from digests.web import make_app

        async def health() -> dict[str, object]:
            try:
                await store.scalar("SELECT 1")
                database = "ok"
            except Exception as exc:
                database = f"unreachable: {exc.__class__.__name__}"
            discord_state = "off" if discord_ready is None else ("connected" if discord_ready() else "disconnected")
            running = service.scheduler.running
            return {
                "status": "ok" if database == "ok" and running and web_state == WEB_UP else "error",
                "database": database,
                "scheduler": "running" if running else "stopped",
                "last_poll": await store.state.get(LAST_TICK),
                "discord": discord_state,
                "web": web_state,
            }

        runner = web.AppRunner(await make_app(store, settings, health), access_log=None)
        await runner.setup()
        web_state = await _listen(runner, settings)
        await store.state.set(WEB_STATE, web_state, utcnow())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        service.start()
        log.info(
            "planwatch running: %d feeds, tick every %d s, database %s",
            await store.feeds.count(), settings.poll_tick_seconds, settings.db_path,
        )  # fmt: skip
        await stop.wait()
        log.info("stopping: finishing the polls under way")
        await service.stop()
        await runner.cleanup()
        if bot_task is not None:
            bot_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bot_task
    finally:
        try:
            await store.state.set(STOPPED, to_db(utcnow()), utcnow())
        except Exception:  # the database may be what failed; `health` then falls back on the heartbeat
            log.exception("could not record the stop")
        await store.close()
    log.info("stopped")
    return 0
