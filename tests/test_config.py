"""Settings from defaults, TOML and environment; secrets never reach a log line."""

from __future__ import annotations

import dataclasses
import io
import logging
from pathlib import Path
from typing import Any

import pytest

from planwatch.config import Settings, load_settings, settings_warnings
from planwatch.durations import parse_duration
from planwatch.errors import ConfigError, UsageError
from planwatch.logs import OneLineFormatter, RedactingFilter


def test_defaults_run_without_anything_set() -> None:
    """No file, no environment: a SQLite file here, private feeds refused, 15-minute polls."""
    settings = load_settings(env={})
    assert settings.db_path == Path("planwatch.db") and not settings.allow_private_feeds
    assert settings.poll_interval_minutes == 15 and settings.max_body_bytes == 15 * 1024 * 1024


def test_toml_then_env_then_overrides(tmp_path: Path) -> None:
    """Later sources win: TOML < environment < explicit overrides (the CLI's --db)."""
    config = tmp_path / "planwatch.toml"
    config.write_text('[planwatch]\ndb_path = "from-toml.db"\npoll_concurrency = 4\nallow_private_feeds = true\n')
    settings = load_settings(env={"PLANWATCH_CONFIG": str(config), "PLANWATCH_POLL_CONCURRENCY": "8"})
    assert settings.db_path == Path("from-toml.db") and settings.poll_concurrency == 8
    assert settings.allow_private_feeds is True
    assert load_settings(env={"PLANWATCH_CONFIG": str(config)}, db_path=Path("cli.db")).db_path == Path("cli.db")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PLANWATCH_POLL_CONCURRENCY": "many"}, "PLANWATCH_POLL_CONCURRENCY"),
        ({"PLANWATCH_ALLOW_PRIVATE_FEEDS": "perhaps"}, "yes/no"),
        ({"PLANWATCH_POLL_INTERVAL": "2"}, "poll_interval_minutes must be >="),
        ({"PLANWATCH_LOG_LEVEL": "chatty"}, "log_level"),
    ],
)
def test_bad_settings_are_clear_errors(env: dict[str, str], message: str) -> None:
    """A wrong value names the setting."""
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)


def test_unknown_toml_key_and_bad_toml(tmp_path: Path) -> None:
    """Typos in the config file are reported, not ignored."""
    config = tmp_path / "c.toml"
    config.write_text("poll_intervall = 5\n")
    with pytest.raises(ConfigError, match="unknown setting 'poll_intervall'"):
        load_settings(env={}, config_file=config)
    config.write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(env={}, config_file=config)


def test_secrets_never_reach_logs_or_repr() -> None:
    """Token, SMTP password and signing secret are scrubbed from log lines and hidden from repr."""
    settings = load_settings(
        env={
            "DISCORD_TOKEN": "MTIzNDU2Nzg5.token-value",
            "PLANWATCH_SMTP_URL": "smtp://mailer:s3cret-pass@mail.example:587",
            "PLANWATCH_SECRET": "signing-key-123456",
        }
    )
    assert "token-value" not in repr(settings) and "s3cret" not in repr(settings)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLineFormatter())
    handler.addFilter(RedactingFilter(settings.secret_values))
    logger = logging.getLogger("planwatch.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("connecting with %s to %s", settings.discord_token, settings.smtp_url)
        logger.warning("key %s\nsecond line", settings.secret)
        try:
            raise ValueError("bad password s3cret-pass in smtp://other:hunter22@host")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    for secret in ("MTIzNDU2Nzg5.token-value", "s3cret-pass", "signing-key-123456", "hunter22"):
        assert secret not in text
    assert "smtp://mailer:***@mail.example:587" in text
    assert len(text.strip().splitlines()) == 3  # one line per event, tracebacks included


def test_settings_is_immutable() -> None:
    """Settings are shared across tasks; nothing can change them behind another's back."""
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.db_path = Path("x")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("6h", 21600), ("2d", 172800), ("1w", 604800), ("1d12h", 129600), (" 48 hours ", 172800)],
)
def test_durations(text: str, seconds: int) -> None:
    """Durations in the forms people type."""
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "soon", "5", "h", "-3h", "0h", "3h later", "9999d"])
def test_bad_durations(text: str) -> None:
    """Nonsense durations are refused with an example of what works."""
    with pytest.raises(UsageError, match="invalid --since"):
        parse_duration(text)


NUMERIC = [f.name for f in dataclasses.fields(Settings) if f.type in ("int", "float")]


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e999"])
def test_non_finite_numbers_are_refused_at_load(value: str, tmp_path: Path) -> None:
    """inf and nan pass a `> 0` check and used to abort a poll half-way (OverflowError): refused at load,
    from the environment and from TOML (where inf and nan are valid floats)."""
    with pytest.raises(ConfigError, match="PLANWATCH_FETCH_TIMEOUT: expected a finite number"):
        load_settings(env={"PLANWATCH_FETCH_TIMEOUT": value})
    config = tmp_path / "c.toml"
    config.write_text(f"max_backoff_hours = {value.replace('1e999', 'inf')}\n")
    with pytest.raises(ConfigError, match="max_backoff_hours: expected a finite number"):
        load_settings(env={}, config_file=config)
    with pytest.raises(ConfigError, match="mail_rate must be a finite number"):
        load_settings(env={}, mail_rate=float(value))


def test_the_numeric_settings_are_all_found() -> None:
    """The bound test below is parametrized by annotation (strings, under `from __future__ import annotations`)."""
    assert {"poll_tick_seconds", "fetch_timeout_seconds", "web_port", "mail_rate"} <= set(NUMERIC)


@pytest.mark.parametrize("name", NUMERIC)
def test_every_numeric_setting_is_bounded(name: str) -> None:
    """Each number, a new one included, has a sensible upper bound: a value past it is refused at load,
    naming the setting (never an OverflowError, or a poll that waits for years, later)."""
    for value in (10**12, 2**70):
        overrides: dict[str, Any] = {name: value}
        with pytest.raises(ConfigError, match=name):
            load_settings(env={}, **overrides)


def test_whole_numbers_stay_whole(tmp_path: Path) -> None:
    """A TOML 2.5 or true for a count is refused instead of quietly becoming 2 or 1."""
    config = tmp_path / "c.toml"
    for value in ("2.5", "true"):
        config.write_text(f"poll_concurrency = {value}\n")
        with pytest.raises(ConfigError, match="poll_concurrency: expected a whole number"):
            load_settings(env={}, config_file=config)
    with pytest.raises(ConfigError, match="PLANWATCH_POLL_TICK: expected a whole number"):
        load_settings(env={"PLANWATCH_POLL_TICK": "1e9"})


def test_a_config_file_that_is_not_utf8(tmp_path: Path) -> None:
    """Latin-1 bytes in planwatch.toml: one clear error, not a UnicodeDecodeError."""
    config = tmp_path / "c.toml"
    config.write_bytes('mail_from = "Planwatch <digest@caf\u00e9.example>"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"is not UTF-8 text .*save it as UTF-8"):
        load_settings(env={}, config_file=config)


def test_a_short_signing_secret_is_refused_at_load() -> None:
    """Under 16 characters the secret is refused when settings load (it was an "unexpected
    ValueError" at the first signed link), without echoing it."""
    with pytest.raises(ConfigError, match="secret must be at least 16 characters") as caught:
        load_settings(env={"PLANWATCH_SECRET": "short-secret"})
    assert "short-secret" not in str(caught.value) and "PLANWATCH_SECRET" in str(caught.value)
    assert load_settings(env={"PLANWATCH_SECRET": "x" * 16}).secret == "x" * 16


@pytest.mark.parametrize(
    "url", ["planwatch.example.org", "/digest", "ftp://planwatch.example.org", "https://", "https://x.example/?a=1",
            "https://x.example/#top", "https://x.example:99999", "https://x .example", "javascript:alert(1)"],
)  # fmt: skip
def test_public_url_must_be_absolute_http(url: str) -> None:
    """Every link in mail is built on it: anything but an absolute http(s) URL is refused at start."""
    with pytest.raises(ConfigError, match="public_url must be an absolute http"):
        load_settings(env={"PLANWATCH_PUBLIC_URL": url})


def test_public_url_forms_that_work() -> None:
    for url in ("https://planwatch.example.org", "https://example.org/planwatch/", "http://127.0.0.1:8080"):
        assert load_settings(env={"PLANWATCH_PUBLIC_URL": url}).public_url == url


def test_warnings_for_settings_that_work_but_surprise() -> None:
    """Plain http with SMTP: Gmail's one-click unsubscribe needs https. Another web port with the
    default public URL: links point at the wrong port. One warning each, none for a sound setup."""
    smtp = {"PLANWATCH_SMTP_URL": "smtp://mail.example:587"}
    assert settings_warnings(load_settings(env={})) == []
    assert settings_warnings(load_settings(env={**smtp, "PLANWATCH_PUBLIC_URL": "https://pw.example"})) == []
    (warning,) = settings_warnings(load_settings(env={**smtp, "PLANWATCH_PUBLIC_URL": "http://pw.example"}))
    assert "one-click unsubscribe" in warning and "https" in warning
    (warning,) = settings_warnings(load_settings(env={"PLANWATCH_WEB_PORT": "9090"}))
    assert "9090" in warning and "wrong port" in warning
    assert (
        settings_warnings(load_settings(env={"PLANWATCH_WEB_PORT": "9090", "PLANWATCH_PUBLIC_URL": "https://pw.example"})) == []
    )
