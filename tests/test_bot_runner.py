"""The bot beside the service: a wrong token or an unreachable Discord is one clear log line and a
retry, never a crash of what else runs. The client here is a stand-in at the network edge (discord.com
is not reachable from these machines); it raises exactly what discord.py raises."""

from __future__ import annotations

import asyncio
import logging

import discord
import pytest

from bot import runner


class EdgeClient:
    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        self.starts = 0

    async def start(self, token: str, *, reconnect: bool = True) -> None:
        self.starts += 1
        if self.failures:
            raise self.failures.pop(0)
        await asyncio.Event().wait()  # connected: runs until cancelled


@pytest.mark.parametrize(
    ("failure", "line"),
    [
        (discord.LoginFailure("Improper token has been passed."), "Discord rejected the token"),
        (OSError("Name or service not known"), "cannot reach Discord (OSError)"),
    ],
)
async def test_failures_are_one_line_and_retried(
    failure: BaseException, line: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It logs one line without a traceback (or the token), waits, tries again, and stops when told."""
    monkeypatch.setattr(runner, "RETRY_SECONDS", (0.05,))
    client = EdgeClient([failure, failure])
    stop = asyncio.Event()
    with caplog.at_level(logging.ERROR, logger="planwatch.bot"):
        task = asyncio.create_task(runner.run_bot(client, "secret-token-value", stop))  # type: ignore[arg-type]
        while client.starts < 3:
            await asyncio.sleep(0.01)
        stop.set()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    errors = [r for r in caplog.records if r.name == "planwatch.bot"]
    assert len(errors) == 2 and all(line in r.getMessage() and r.exc_info is None for r in errors)
    assert all("secret-token-value" not in r.getMessage() for r in caplog.records)


async def test_stop_while_waiting_to_retry_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shutdown during the back-off wait ends the loop at once."""
    monkeypatch.setattr(runner, "RETRY_SECONDS", (60,))
    client = EdgeClient([OSError("down")])
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run_bot(client, "t", stop))  # type: ignore[arg-type]
    while client.starts < 1:
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert client.starts == 1
