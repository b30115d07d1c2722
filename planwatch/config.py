"""All of Planwatch's settings in one place.

Sources, later ones winning: the defaults below, an optional TOML file (`planwatch.toml` in the working
directory, or the file named by `PLANWATCH_CONFIG` / `--config`), environment variables, then CLI flags
such as `--db`. Every default runs on a fresh machine: a SQLite file in the working directory, no
Discord, mail written to `./outbox/`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from planwatch.errors import ConfigError

MIB = 1024 * 1024
DEFAULT_PUBLIC_URL = "http://localhost:8080"
DEFAULT_WEB_PORT = 8080


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
    # Key that signs confirm/unsubscribe links, 16 characters at least. Env PLANWATCH_SECRET.
    secret: str | None = field(default=None, repr=False)

    # --- Discord ---------------------------------------------------------------------------------------
    # New-story alerts posted per channel per hour at most (updates of posted ones do not count).
    # Env PLANWATCH_ALERTS_PER_HOUR.
    alerts_per_hour: int = 10

    # --- web and mail ------------------------------------------------------------------------------
    # Base of every link Planwatch puts in mail and messages. Env PLANWATCH_PUBLIC_URL.
    public_url: str = DEFAULT_PUBLIC_URL
    # Where .eml files go when no SMTP server is configured. Env PLANWATCH_OUTBOX.
    outbox_dir: Path = Path("outbox")
    # The web endpoints (confirm, unsubscribe, view in browser, health). Env PLANWATCH_WEB_HOST / _PORT.
    # 127.0.0.1 by default; the container sets 0.0.0.0 behind its own port mapping.
    web_host: str = "127.0.0.1"
    web_port: int = DEFAULT_WEB_PORT
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
    # Subscribe-form requests one client address may make per hour (an IPv6 address counts by its /64);
    # more get a 429 page. Env PLANWATCH_SUBSCRIBE_PER_HOUR.
    subscribe_per_hour: int = 5
    # Confirmation mails queued per hour at most, from the web form and Discord together (the CLI is the
    # operator's and is exempt): a flood from many addresses cannot spend the mail server's reputation.
    # Env PLANWATCH_CONFIRMATIONS_PER_HOUR.
    confirmations_per_hour: int = 100
    # Reverse proxies (addresses or networks, e.g. "10.0.0.0/8, ::1") whose X-Forwarded-For names the
    # client. Empty: the connection's peer is the client and X-Forwarded-For is ignored, since anyone
    # can send it. Env PLANWATCH_TRUSTED_PROXIES (comma-separated).
    trusted_proxies: tuple[str, ...] = ()

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


def _networks(raw: str | list[str]) -> tuple[str, ...]:
    """A comma-separated text (env) or a list (TOML) of addresses or networks, checked and normalised."""
    items = raw.split(",") if isinstance(raw, str) else [str(item) for item in raw]
    try:
        return tuple(str(ipaddress.ip_network(item.strip(), strict=False)) for item in items if item.strip())
    except ValueError as exc:
        raise ValueError(f"expected IP addresses or networks such as 10.0.0.0/8: {exc}") from None


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a yes/no value, got {raw!r}")


def _int(raw: Any) -> int:
    """A whole number: a TOML 2.5 or true must not quietly become 2 or 1."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            pass
    raise ValueError(f"expected a whole number, got {raw!r}")


def _float(raw: Any) -> float:
    """A finite number: inf or nan would pass every `> 0` check and then break a timer or a sum mid-poll."""
    if isinstance(raw, bool):
        raise ValueError(f"expected a number, got {raw!r}")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {raw!r}")
    return value


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
    "PLANWATCH_POLL_TICK": ("poll_tick_seconds", _int),
    "PLANWATCH_POLL_INTERVAL": ("poll_interval_minutes", _int),
    "PLANWATCH_POLL_MIN_INTERVAL": ("poll_min_interval_minutes", _int),
    "PLANWATCH_POLL_CONCURRENCY": ("poll_concurrency", _int),
    "PLANWATCH_POLL_PER_HOST": ("poll_per_host", _int),
    "PLANWATCH_FETCH_TIMEOUT": ("fetch_timeout_seconds", _float),
    "PLANWATCH_CONNECT_TIMEOUT": ("connect_timeout_seconds", _float),
    "PLANWATCH_MAX_BODY_BYTES": ("max_body_bytes", _int),
    "PLANWATCH_MAX_REDIRECTS": ("max_redirects", _int),
    "PLANWATCH_MAX_BACKOFF_HOURS": ("max_backoff_hours", _float),
    "PLANWATCH_PAUSE_AFTER_FAILURES": ("pause_after_failures", _int),
    "PLANWATCH_PARSE_WORKERS": ("parse_workers", _int),
    "PLANWATCH_ALERTS_PER_HOUR": ("alerts_per_hour", _int),
    "PLANWATCH_TEMPLATES": ("template_dir", Path),
    "PLANWATCH_DIGEST_SEND_EMPTY": ("digest_send_empty", _bool),
    "PLANWATCH_SUBSCRIBE_PER_HOUR": ("subscribe_per_hour", _int),
    "PLANWATCH_CONFIRMATIONS_PER_HOUR": ("confirmations_per_hour", _int),
    "PLANWATCH_TRUSTED_PROXIES": ("trusted_proxies", _networks),
    "PLANWATCH_DIGEST_GRACE_HOURS": ("digest_grace_hours", _float),
    "PLANWATCH_MAIL_RATE": ("mail_rate", _float),
    "PLANWATCH_UNSUBSCRIBE_MAILTO": ("unsubscribe_mailto", str),
    "PLANWATCH_MAIL_FROM": ("mail_from", str),
    "PLANWATCH_WEB_PORT": ("web_port", _int),
    "PLANWATCH_WEB_HOST": ("web_host", str),
}

_FIELD_TYPES: dict[str, Callable[[Any], Any]] = {name: conv for name, conv in (spec for spec in _ENV.values())}


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from exc
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
    _check_range(settings)
    checks = [
        (1 <= settings.poll_min_interval_minutes <= 1440, "poll_min_interval_minutes must be between 1 and 1440"),
        (
            settings.poll_min_interval_minutes <= settings.poll_interval_minutes <= 7 * 24 * 60,
            "poll_interval_minutes must be >= poll_min_interval_minutes and at most 10080 (a week)",
        ),
        (1 <= settings.poll_tick_seconds <= 3600, "poll_tick_seconds must be between 1 and 3600"),
        (1 <= settings.poll_concurrency <= 256, "poll_concurrency must be between 1 and 256"),
        (1 <= settings.poll_per_host <= 64, "poll_per_host must be between 1 and 64"),
        (0 < settings.fetch_timeout_seconds <= 600, "fetch_timeout_seconds must be more than 0 and at most 600"),
        (0 < settings.connect_timeout_seconds <= 300, "connect_timeout_seconds must be more than 0 and at most 300"),
        (0 < settings.max_backoff_hours <= 30 * 24, "max_backoff_hours must be more than 0 and at most 720 (30 days)"),
        (1024 <= settings.max_body_bytes <= 1024 * MIB, "max_body_bytes must be between 1024 and 1073741824 (1 GiB)"),
        (0 <= settings.max_redirects <= 20, "max_redirects must be between 0 and 20"),
        (1 <= settings.pause_after_failures <= 1000, "pause_after_failures must be between 1 and 1000"),
        (0 <= settings.parse_workers <= 64, "parse_workers must be between 0 and 64"),
        (1 <= settings.alerts_per_hour <= 1000, "alerts_per_hour must be between 1 and 1000"),
        (1 <= settings.web_port <= 65535, "web_port must be between 1 and 65535"),
        (1 <= settings.subscribe_per_hour <= 10_000, "subscribe_per_hour must be >= 1 and at most 10000"),
        (1 <= settings.confirmations_per_hour <= 100_000, "confirmations_per_hour must be >= 1 and at most 100000"),
        (0 < settings.mail_rate <= 1000, "mail_rate must be more than 0 and at most 1000"),
        (
            0 <= settings.digest_grace_hours <= 23,  # only today's and yesterday's digest are looked for
            "digest_grace_hours must be between 0 and 23",
        ),
        (
            settings.log_level in {"DEBUG", "INFO", "WARNING", "ERROR"},
            "log_level must be DEBUG, INFO, WARNING or ERROR",
        ),
        (
            settings.secret is None or len(settings.secret) >= 16,
            "secret must be at least 16 characters (or unset: Planwatch then keeps one of its own in the database)",
        ),
        (
            _absolute_http(settings.public_url),
            "public_url must be an absolute http:// or https:// URL without query or fragment,"
            " such as https://planwatch.example.org",
        ),
    ]
    for ok, message in checks:
        if not ok:
            name = message.split(" ", 1)[0]  # each message starts with the field it is about
            got = "" if name == "secret" else f" (got {getattr(settings, name)!r})"
            raise ConfigError(message + got + _where(name))
    return settings


def _check_range(settings: Settings) -> None:
    """Every number, whoever declared it: finite, and small enough for SQLite's 64-bit integers."""
    for spec in dataclasses.fields(settings):
        value = getattr(settings, spec.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{spec.name} must be a finite number (got {value})" + _where(spec.name))
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            raise ConfigError(f"{spec.name} is out of range (got {value})" + _where(spec.name))


def _where(field_name: str) -> str:
    env = next((name for name, (f, _) in _ENV.items() if f == field_name), None)
    return f": change {env} or {field_name} in the config file" if env else ""


def _absolute_http(url: str) -> bool:
    """Links in mail are built on it: a relative or odd URL would make every link in every mail dead."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname) and not parts.query and not parts.fragment


def settings_warnings(settings: Settings) -> list[str]:
    """Settings that work but will surprise someone; `planwatch run` logs each once at start."""
    warnings: list[str] = []
    if settings.smtp_url and urlsplit(settings.public_url).scheme == "http":
        warnings.append(
            f"PLANWATCH_PUBLIC_URL ({settings.public_url}) is plain http: Gmail and Yahoo show one-click unsubscribe"
            " (List-Unsubscribe-Post) only for https links; serve the web endpoints behind https"
        )
    if settings.public_url == DEFAULT_PUBLIC_URL and settings.web_port != DEFAULT_WEB_PORT:
        warnings.append(
            f"PLANWATCH_WEB_PORT is {settings.web_port} but PLANWATCH_PUBLIC_URL is the default {DEFAULT_PUBLIC_URL}:"
            " links in mail will point at the wrong port; set PLANWATCH_PUBLIC_URL"
        )
    return warnings


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
