"""Settings from defaults, TOML and environment; secrets never reach a log line."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from planwatch.config import Settings, load_settings
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
            "PLANWATCH_SECRET": "signing-key-123",
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
    for secret in ("MTIzNDU2Nzg5.token-value", "s3cret-pass", "signing-key-123", "hunter22"):
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
