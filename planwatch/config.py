"""All of Planwatch's settings in one place.

Sources, later ones winning: the defaults below, an optional TOML file (`planwatch.toml` in the working
directory, or the file named by `PLANWATCH_CONFIG` / `--config`), environment variables, then CLI flags
such as `--db`. Every default runs on a fresh machine: a SQLite file in the working directory, no
Discord, mail written to `./outbox/`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planwatch.errors import ConfigError

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    # --- storage -----------------------------------------------------------------------------------
    # SQLite database file; created (with its migrations) on first use. Env PLANWATCH_DB, CLI --db.
    db_path: Path = Path("planwatch.db")

    # --- logging -----------------------------------------------------------------------------------
    # DEBUG, INFO, WARNING or ERROR. Env PLANWATCH_LOG_LEVEL.
    log_level: str = "INFO"

    # --- secrets (never logged, never in repr) ---------------------------------------------------------
    # Discord bot token; without it `planwatch run` runs everything but the bot. Env DISCORD_TOKEN.
    discord_token: str | None = field(default=None, repr=False)
    # smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465; unset: mail goes to outbox_dir.
    # Env PLANWATCH_SMTP_URL.
    smtp_url: str | None = field(default=None, repr=False)
    # Key that signs confirm/unsubscribe links. Env PLANWATCH_SECRET.
    secret: str | None = field(default=None, repr=False)

    # --- Discord ---------------------------------------------------------------------------------------
    # New-story alerts posted per channel per hour at most (updates of posted ones do not count).
    # Env PLANWATCH_ALERTS_PER_HOUR.
    alerts_per_hour: int = 10

    # --- web and mail ------------------------------------------------------------------------------
    # Base of every link Planwatch puts in mail and messages. Env PLANWATCH_PUBLIC_URL.
    public_url: str = "http://localhost:8080"
    # Where .eml files go when no SMTP server is configured. Env PLANWATCH_OUTBOX.
    outbox_dir: Path = Path("outbox")
    # The web endpoints (confirm, unsubscribe, view in browser, health). Env PLANWATCH_WEB_HOST / _PORT.
    # 127.0.0.1 by default; the container sets 0.0.0.0 behind its own port mapping.
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    # Sender of every mail. Env PLANWATCH_MAIL_FROM.
    mail_from: str = "Planwatch <digest@localhost>"
    # An address that unsubscribes by mail, added to List-Unsubscribe when set. Env PLANWATCH_UNSUBSCRIBE_MAILTO.
    unsubscribe_mailto: str | None = None
    # Messages per second at most when sending over SMTP. Env PLANWATCH_MAIL_RATE.
    mail_rate: float = 10.0
    # A digest whose hour passed while Planwatch was down is still sent within this many hours.
    # Env PLANWATCH_DIGEST_GRACE_HOURS.
    digest_grace_hours: float = 6.0
    # Send a short "nothing new" note when a subscriber's topics had no reports. Env PLANWATCH_DIGEST_SEND_EMPTY.
    digest_send_empty: bool = False
    # A folder of the operator's own templates (same file names as templates/). Env PLANWATCH_TEMPLATES.
    template_dir: Path | None = None

    # --- feed safety -------------------------------------------------------------------------------
    # Allow feeds on loopback/private/link-local addresses (the demo and tests need it; production
    # should not: a moderator could otherwise make the server fetch internal URLs).
    # Env PLANWATCH_ALLOW_PRIVATE_FEEDS=1.
    allow_private_feeds: bool = False
    # Import the bundled starter feeds (real outlets) when `planwatch run` finds no feeds at all.
    # Env PLANWATCH_STARTER_FEEDS=0 turns it off.
    import_starter_feeds: bool = True

    # --- polling -----------------------------------------------------------------------------------
    # How often the scheduler looks for feeds that are due, in seconds. Env PLANWATCH_POLL_TICK.
    poll_tick_seconds: int = 60
    # A new feed's polling interval in minutes (each feed can have its own). Env PLANWATCH_POLL_INTERVAL.
    poll_interval_minutes: int = 15
    # No feed is polled more often than this, in minutes. Env PLANWATCH_POLL_MIN_INTERVAL.
    poll_min_interval_minutes: int = 5
    # Feeds fetched at once, in all. Env PLANWATCH_POLL_CONCURRENCY.
    poll_concurrency: int = 16
    # Requests at once to one host. Env PLANWATCH_POLL_PER_HOST.
    poll_per_host: int = 2
    # Whole-fetch deadline in seconds, redirects and body included. Env PLANWATCH_FETCH_TIMEOUT.
    fetch_timeout_seconds: float = 20.0
    # TCP/TLS connect deadline in seconds. Env PLANWATCH_CONNECT_TIMEOUT.
    connect_timeout_seconds: float = 10.0
    # A feed body larger than this (after decompression) is refused. Env PLANWATCH_MAX_BODY_BYTES.
    max_body_bytes: int = 15 * MIB
    # Redirects followed per fetch. Env PLANWATCH_MAX_REDIRECTS.
    max_redirects: int = 5
    # Longest wait between two polls of a failing feed, in hours. Env PLANWATCH_MAX_BACKOFF_HOURS.
    max_backoff_hours: float = 24.0
    # Consecutive failures after which a feed is paused. Env PLANWATCH_PAUSE_AFTER_FAILURES.
    pause_after_failures: int = 10
    # Feed parsing (feedparser + normalize) runs off the event loop: 0 in a thread; N > 0 in N worker
    # processes, which puts parsing on another core (bench/ingest.py: 0.52 -> 0.83 of bare feedparser's
    # rate on 2 cores; 2 workers fight the main process for the cores). Env PLANWATCH_PARSE_WORKERS.
    parse_workers: int = 1

    def with_overrides(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def secret_values(self) -> tuple[str, ...]:
        """Strings that must never reach a log line."""
        values: list[str] = [v for v in (self.discord_token, self.secret) if v]
        if self.smtp_url:
            from urllib.parse import unquote, urlsplit

            password = urlsplit(self.smtp_url).password
            if password:
                values += [password, unquote(password)]  # as written in the URL, and as sent
        return tuple(values)


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a yes/no value, got {raw!r}")


# env var -> (field, converter)
_ENV: dict[str, tuple[str, Callable[[str], Any]]] = {
    "PLANWATCH_DB": ("db_path", Path),
    "PLANWATCH_LOG_LEVEL": ("log_level", str.upper),
    "DISCORD_TOKEN": ("discord_token", str),
    "PLANWATCH_SMTP_URL": ("smtp_url", str),
    "PLANWATCH_SECRET": ("secret", str),
    "PLANWATCH_PUBLIC_URL": ("public_url", str),
    "PLANWATCH_OUTBOX": ("outbox_dir", Path),
    "PLANWATCH_ALLOW_PRIVATE_FEEDS": ("allow_private_feeds", _bool),
    "PLANWATCH_STARTER_FEEDS": ("import_starter_feeds", _bool),
    "PLANWATCH_POLL_TICK": ("poll_tick_seconds", int),
    "PLANWATCH_POLL_INTERVAL": ("poll_interval_minutes", int),
    "PLANWATCH_POLL_MIN_INTERVAL": ("poll_min_interval_minutes", int),
    "PLANWATCH_POLL_CONCURRENCY": ("poll_concurrency", int),
    "PLANWATCH_POLL_PER_HOST": ("poll_per_host", int),
    "PLANWATCH_FETCH_TIMEOUT": ("fetch_timeout_seconds", float),
    "PLANWATCH_CONNECT_TIMEOUT": ("connect_timeout_seconds", float),
    "PLANWATCH_MAX_BODY_BYTES": ("max_body_bytes", int),
    "PLANWATCH_MAX_REDIRECTS": ("max_redirects", int),
    "PLANWATCH_MAX_BACKOFF_HOURS": ("max_backoff_hours", float),
    "PLANWATCH_PAUSE_AFTER_FAILURES": ("pause_after_failures", int),
    "PLANWATCH_PARSE_WORKERS": ("parse_workers", int),
    "PLANWATCH_ALERTS_PER_HOUR": ("alerts_per_hour", int),
    "PLANWATCH_TEMPLATES": ("template_dir", Path),
    "PLANWATCH_DIGEST_SEND_EMPTY": ("digest_send_empty", _bool),
    "PLANWATCH_DIGEST_GRACE_HOURS": ("digest_grace_hours", float),
    "PLANWATCH_MAIL_RATE": ("mail_rate", float),
    "PLANWATCH_UNSUBSCRIBE_MAILTO": ("unsubscribe_mailto", str),
    "PLANWATCH_MAIL_FROM": ("mail_from", str),
    "PLANWATCH_WEB_PORT": ("web_port", int),
    "PLANWATCH_WEB_HOST": ("web_host", str),
}

_FIELD_TYPES: dict[str, Callable[[Any], Any]] = {name: conv for name, conv in (spec for spec in _ENV.values())}


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    section = data.get("planwatch", data)
    if not isinstance(section, dict):
        raise ConfigError(f"config file {path}: [planwatch] must be a table")
    values: dict[str, Any] = {}
    for key, raw in section.items():
        if key not in _FIELD_TYPES:
            known = ", ".join(sorted(_FIELD_TYPES))
            raise ConfigError(f"config file {path}: unknown setting {key!r} (known: {known})")
        try:
            conv = _FIELD_TYPES[key]
            values[key] = conv(str(raw)) if conv in (Path, _bool) else conv(raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"config file {path}: bad value for {key}: {exc}") from exc
    return values


def _validate(settings: Settings) -> Settings:
    checks = [
        (settings.poll_min_interval_minutes >= 1, "poll_min_interval_minutes must be >= 1"),
        (
            settings.poll_interval_minutes >= settings.poll_min_interval_minutes,
            "poll_interval_minutes must be >= poll_min_interval_minutes",
        ),
        (settings.poll_tick_seconds >= 1, "poll_tick_seconds must be >= 1"),
        (settings.poll_concurrency >= 1, "poll_concurrency must be >= 1"),
        (settings.poll_per_host >= 1, "poll_per_host must be >= 1"),
        (settings.fetch_timeout_seconds > 0, "fetch_timeout_seconds must be > 0"),
        (settings.connect_timeout_seconds > 0, "connect_timeout_seconds must be > 0"),
        (settings.max_backoff_hours > 0, "max_backoff_hours must be > 0"),
        (settings.max_body_bytes >= 1024, "max_body_bytes must be >= 1024"),
        (0 <= settings.max_redirects <= 20, "max_redirects must be between 0 and 20"),
        (settings.pause_after_failures >= 1, "pause_after_failures must be >= 1"),
        (settings.parse_workers >= 0, "parse_workers must be >= 0"),
        (settings.alerts_per_hour >= 1, "alerts_per_hour must be >= 1"),
        (1 <= settings.web_port <= 65535, "web_port must be between 1 and 65535"),
        (settings.mail_rate > 0, "mail_rate must be > 0"),
        (settings.digest_grace_hours >= 0, "digest_grace_hours must be >= 0"),
        (
            settings.log_level in {"DEBUG", "INFO", "WARNING", "ERROR"},
            "log_level must be DEBUG, INFO, WARNING or ERROR",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    return settings


def load_settings(env: Mapping[str, str] | None = None, config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from defaults, TOML, environment and explicit overrides (in that order)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = config_file or (Path(env["PLANWATCH_CONFIG"]) if env.get("PLANWATCH_CONFIG") else None)
    if path is None and Path("planwatch.toml").is_file():
        path = Path("planwatch.toml")
    if path is not None:
        values.update(_from_toml(path))
    for name, (field_name, conv) in _ENV.items():
        raw = env.get(name)
        if raw is None or raw == "":
            continue
        try:
            values[field_name] = conv(raw)
        except ValueError as exc:
            raise ConfigError(f"environment variable {name}: {exc}") from exc
    values.update({k: v for k, v in overrides.items() if v is not None})
    return _validate(Settings(**values))
