"""`digest send --date`: a day that has not come is refused (and stores nothing, so the real day still
sends), an absurd past day is refused in one line, and reports that came in after today's window
closed are explained, not counted as "nothing new". The CLI runs as a subprocess against a real SQLite
file and a real SMTP server (aiosmtpd); the real day is played by the scheduler with its clock moved."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digests.deliver import deliver_due
from digests.mailer import SmtpMailer
from digests.schedule import MAX_DAYS_BACK, QueueResult, composer_for, queue_due, queue_for_date
from planwatch.config import Settings
from planwatch.errors import UsageError
from planwatch.store import Store
from planwatch.timeutil import utcnow
from tests.smtp_server import SmtpServer
from tests.test_digests import add_reports, add_subscriber, bodies, outbox


@dataclass(frozen=True, slots=True)
class Run:
    code: int
    out: str
    err: str


async def cli(settings: Settings, smtp: SmtpServer, cwd: Path, *argv: str) -> Run:
    """`planwatch --db DB ARGV...` in a process of its own, with only the settings the test gives it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANWATCH_") and k != "DISCORD_TOKEN"}
    env |= {"PLANWATCH_SMTP_URL": smtp.url, "PLANWATCH_MAIL_RATE": "1000", "PLANWATCH_PUBLIC_URL": "https://pw.example"}
    command = [sys.executable, "-m", "planwatch.cli", "--db", str(settings.db_path), *argv]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, env=env, cwd=cwd, timeout=60)
    return Run(done.returncode, done.stdout, done.stderr)


def one_clear_line(run: Run) -> str:
    assert run.code == 2, (run.code, run.out, run.err)
    assert "Traceback" not in run.err and "unexpected" not in run.err, run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    return lines[0]


async def test_a_future_date_is_refused_and_the_real_day_still_sends(
    store: Store, settings: Settings, smtp: SmtpServer, tmp_path: Path
) -> None:
    now = utcnow()
    hour = 7
    reader = await add_subscriber(store, "early@example.com", hour=hour)
    # Two days on is ahead of today in every zone on Earth (the last, UTC+14, is at most one day ahead).
    ahead = now.date() + timedelta(days=2)
    for argv in (("digest", "send", "--date", ahead.isoformat()), ("digest", "send", "--date", ahead.isoformat(), "--dry-run")):
        line = one_clear_line(await cli(settings, smtp, tmp_path, *argv))
        assert line.startswith(f"planwatch: error: {ahead.isoformat()} has not come yet (it is ")
        assert "never before" in line
    assert await outbox(store) == [] and smtp.handler.received == []

    # The real day: the scheduler finds nothing standing in for it, so that day's digest goes out.
    slot = datetime(ahead.year, ahead.month, ahead.day, hour, tzinfo=UTC)
    await add_reports(store, "Wire One", ["Witkoff and Umerov meet over the 28-point plan for Kyiv"], slot - timedelta(hours=3))
    on_the_day = slot + timedelta(minutes=1)
    assert await queue_due(store, settings, await composer_for(store, settings), on_the_day) == QueueResult(queued=1)
    sent = await deliver_due(store, SmtpMailer(smtp.url), settings.mail_from, rate=0, clock=lambda: on_the_day)
    assert sent.sent == 1
    (digest,) = smtp.to(reader.email)
    assert "Witkoff and Umerov meet over the 28-point plan for Kyiv" in bodies(digest)[0]
    assert [(r["digest_date"], r["status"]) for r in await outbox(store)] == [(ahead.isoformat(), "sent")]


async def test_an_absurd_past_date_is_refused_in_one_line(
    store: Store, settings: Settings, smtp: SmtpServer, tmp_path: Path
) -> None:
    await add_subscriber(store, "old@example.com")
    for day in ("0001-01-01", (utcnow().date() - timedelta(days=MAX_DAYS_BACK + 2)).isoformat()):
        line = one_clear_line(await cli(settings, smtp, tmp_path, "digest", "send", "--date", day))
        assert line.startswith(f"planwatch: error: {day} is more than {MAX_DAYS_BACK} days ago: digest send goes back to ")
    line = one_clear_line(await cli(settings, smtp, tmp_path, "digest", "send", "--date", "9999-12-31"))
    assert "9999-12-31 has not come yet" in line
    assert await outbox(store) == [] and smtp.handler.received == []


def etc_zone(offset: int) -> str:
    """The IANA name of the fixed zone UTC+OFFSET (POSIX signs: Etc/GMT-5 is five hours ahead of UTC)."""
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


async def test_a_day_come_in_one_zone_only_sends_there_and_stores_nothing_for_the_others(
    store: Store, settings: Settings, smtp: SmtpServer, tmp_path: Path
) -> None:
    """UTC+14 is always a day or two ahead of UTC-12: its today has come for one reader and not the other."""
    now = utcnow()
    ahead_zone, behind_zone = etc_zone(14), etc_zone(-12)
    ahead = await add_subscriber(store, "kiritimati@example.com", hour=23, tz=ahead_zone)
    behind = await add_subscriber(store, "baker@example.com", hour=23, tz=behind_zone)
    day = now.astimezone(ZoneInfo(ahead_zone)).date()
    window_end = min(now, datetime(day.year, day.month, day.day, 23, tzinfo=ZoneInfo(ahead_zone)))
    await add_reports(store, "Wire One", ["Witkoff brings the 28-point plan to Kyiv"], window_end - timedelta(minutes=5))

    run = await cli(settings, smtp, tmp_path, "digest", "send", "--date", day.isoformat())
    assert run.code == 0, run.err
    assert run.out.splitlines()[0].startswith(f"{day.isoformat()}: 1 queued, 0 with nothing new; sent 1 via SMTP")
    assert f"1 subscriber left out: {day.isoformat()} has not come yet in their time zone; it is sent on the day" in run.out
    assert [r.rcpt_tos for r in smtp.handler.received] == [[ahead.email]]
    assert await store.outbox.for_subscriber(behind.id) == []  # nothing stands in for their real day


async def test_the_service_never_stores_a_row_for_a_day_still_ahead(store: Store, settings: Settings) -> None:
    """The same rule without the CLI, on a fixed clock: 12:00 UTC on 1 December is 02:00 on the 2nd at UTC+14."""
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    utc_reader = await add_subscriber(store, "utc@example.com", hour=7)
    await add_subscriber(store, "plus14@example.com", hour=1, tz=etc_zone(14))
    await add_reports(store, "Wire One", ["Kremlin answers the 28-point plan for Ukraine"], now - timedelta(hours=1))
    composer = await composer_for(store, settings)

    result = await queue_for_date(store, settings, composer, now.date() + timedelta(days=1), now)
    assert result == QueueResult(queued=1, not_yet=1)
    assert await store.outbox.for_subscriber(utc_reader.id) == []
    with pytest.raises(UsageError, match="2026-12-03 has not come yet"):
        await queue_for_date(store, settings, composer, now.date() + timedelta(days=2), now)

    on_the_day = datetime(2026, 12, 2, 7, 1, tzinfo=UTC)  # the UTC reader's real day and hour
    assert await queue_due(store, settings, await composer_for(store, settings), on_the_day) == QueueResult(queued=1)
    assert [(k, d) for k, d, _, _ in await store.outbox.for_subscriber(utc_reader.id)] == [("digest", "2026-12-02")]


async def test_reports_after_todays_window_are_explained_and_go_in_tomorrows_digest(
    store: Store, settings: Settings, smtp: SmtpServer, tmp_path: Path
) -> None:
    # A zone where it is now past noon, for a reader whose hour, 10:00, has passed today: the window is closed.
    now = utcnow()
    offset = next(o for o in range(-12, 15) if (now + timedelta(hours=o)).hour == 12)
    zone = etc_zone(offset)
    reader = await add_subscriber(store, "late@example.com", hour=10, tz=zone)
    local_today = now.astimezone(ZoneInfo(zone)).date()
    late_titles = ["Kremlin denies new proposals on the 28-point plan", "Zelensky meets Witkoff about the 28-point plan"]
    await add_reports(store, "Wire One", late_titles[:1], now - timedelta(minutes=20))
    await add_reports(store, "Daily Two", late_titles[1:], now - timedelta(minutes=10))

    run = await cli(settings, smtp, tmp_path, "digest", "send", "--date", local_today.isoformat())
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith(f"{local_today.isoformat()}: 0 queued, 1 with nothing new; sent 0 via SMTP")
    assert lines[1:] == [f"2 reports arrived after today's window closed at 10:00 {zone}; they go in tomorrow's digest"]
    assert smtp.handler.received == []

    # Tomorrow's digest holds them.
    zone_info = ZoneInfo(zone)
    tomorrow = local_today + timedelta(days=1)
    next_slot = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, 1, tzinfo=zone_info)
    assert await queue_due(store, settings, await composer_for(store, settings), next_slot) == QueueResult(queued=1)
    assert (await deliver_due(store, SmtpMailer(smtp.url), settings.mail_from, rate=0, clock=lambda: next_slot)).sent == 1
    (digest,) = smtp.to(reader.email)
    text = bodies(digest)[0]
    assert all(title in text for title in late_titles)
