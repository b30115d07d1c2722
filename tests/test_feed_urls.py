"""Feed URLs as operators type them and OPML files carry them, through the real CLI over a real database
file: unsafe URLs are refused in one line (a subprocess, as an operator runs it: exit code and stderr
are the contract), one feed has one spelling, the address guard refuses names that reach no public
address, and a password stored before credentials were refused is never printed (the CLI in-process,
which keeps the suite fast)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from planwatch.cli import main
from planwatch.store import Store
from planwatch.timeutil import utcnow

SECRET = "s3cr3t-pw"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


class Cli:
    """`planwatch --db DB ...` in a subprocess, in a folder of its own, with or without the guard."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "feeds.db"
        self.cwd = tmp_path

    def __call__(self, *argv: str, guard: bool = False) -> Run:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLANWATCH_")}
        env["PLANWATCH_ALLOW_PRIVATE_FEEDS"] = "0" if guard else "1"
        proc = subprocess.run(
            [sys.executable, "-m", "planwatch.cli", "--db", str(self.db), *argv],
            capture_output=True, text=True, timeout=60, check=False, env=env, cwd=self.cwd,
        )  # fmt: skip
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def urls(self) -> list[str]:
        """What the database holds, read directly."""

        async def read() -> list[str]:
            async with await Store.open(self.db) as store:
                return [feed.url for feed in await store.feeds.list_all()]

        return asyncio.run(read())

    def refused(self, *argv: str, guard: bool = False, code: int = 2) -> str:
        """The one line a refusal prints; nothing is stored."""
        before = self.urls()
        result = self(*argv, guard=guard)
        assert result.code == code, (argv, result)
        assert result.err.count("\n") == 1 and "Traceback" not in result.err and "unexpected" not in result.err, result.err
        assert self.urls() == before
        return result.err

    def add_legacy(self, url: str) -> int:
        """A row saved as typed, before URLs were made canonical and credentials refused."""

        async def add() -> int:
            async with await Store.open(self.db) as store:
                return (await store.feeds.add(url, name=None, interval_minutes=15, now=utcnow())).id

        return asyncio.run(add())


def in_process(capsys: pytest.CaptureFixture[str], cli: Cli, *argv: str) -> Run:
    code = main(["--db", str(cli.db), *argv])
    out, err = capsys.readouterr()
    return Run(code, out, err)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_control_characters_spaces_and_credentials_are_refused(cli: Cli) -> None:
    """CR LF (header injection), a space in the host, a bidi override, and a user name or password: each
    refused with one line naming the problem, the password itself never echoed."""
    err = cli.refused("feeds", "add", "https://example.com/feed\r\nX-Injected: y")
    assert "control character (U+000D)" in err and "feed\\r\\nX-Injected" in err
    assert "contains a space" in cli.refused("feeds", "add", "http://exa mple.com/")
    assert "U+202E" in cli.refused("feeds", "add", "https://example.com/\u202elmx.exe")
    err = cli.refused("feeds", "add", f"https://user:{SECRET}@example.com/feed.xml")
    assert "user name or password" in err and SECRET not in err and "user:***@example.com" in err
    err = cli.refused("feeds", "add", f"https://{SECRET}@example.com/feed.xml")
    assert "user name or password" in err and SECRET not in err


def test_one_feed_whatever_the_spelling_of_scheme_host_fragment_or_idn(
    cli: Cli, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scheme and host in any case, a fragment, a trailing dot, the Unicode or the punycode host: one
    feed, also against a row stored in an old spelling. The path keeps its case (servers may tell /FEED
    from /feed)."""
    monkeypatch.setenv("PLANWATCH_ALLOW_PRIVATE_FEEDS", "1")
    monkeypatch.chdir(cli.cwd)

    def add(url: str) -> Run:
        return in_process(capsys, cli, "feeds", "add", url)

    assert add("https://Example.com./feed#latest").code == 0
    again = add("HTTPS://EXAMPLE.COM:443/feed")
    assert again.code == 2 and "already watched as feed #1" in again.err
    assert add("https://example.com/FEED").code == 0
    assert add("https://Bücher.example/rss").code == 0
    again = add("https://xn--bcher-kva.example/rss")
    assert again.code == 2 and "already watched as feed #3" in again.err
    assert cli.urls() == ["https://example.com/feed", "https://example.com/FEED", "https://xn--bcher-kva.example/rss"]
    removed = in_process(capsys, cli, "feeds", "remove", "https://BÜCHER.example/rss#x")
    assert removed.code == 0 and "removed feed #3" in removed.out
    legacy = cli.add_legacy("https://Legacy.example/news#top")
    again = add("https://legacy.example/news")
    assert again.code == 2 and f"already watched as feed #{legacy}" in again.err
    assert len(cli.urls()) == 3


def test_the_guard_refuses_names_that_reach_no_public_address(cli: Cli) -> None:
    """With the guard on: a trailing-dot or full-width spelling of a loopback address is refused, and so
    is a name that does not resolve (a clear line, nothing stored)."""
    for url in ("http://127.0.0.1./feed", "http://localhost./feed", "http://１２７.０.０.１/feed", "http://0x7f000001./feed"):
        assert "loopback" in cli.refused("feeds", "add", url, guard=True), url
    # .invalid never resolves (RFC 6761). Without a reachable resolver the lookup fails otherwise: then
    # it is a failure to retry (exit 1), not a bad URL.
    result = cli("feeds", "add", "http://planwatch-test.invalid/feed", guard=True)
    assert result.err.count("\n") == 1 and "Traceback" not in result.err, result.err
    if result.code == 2:
        assert "does not resolve" in result.err
    else:
        assert result.code == 1 and "try again later" in result.err, result
    assert "planwatch-test.invalid" in result.err and cli.urls() == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_stored_password_is_masked_in_list_export_and_poll(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed saved with credentials before they were refused: `feeds list`, `feeds list --json`,
    `feeds export` (to stdout and to a file) and `poll --once` print the URL with the password masked."""
    monkeypatch.setenv("PLANWATCH_ALLOW_PRIVATE_FEEDS", "1")
    monkeypatch.chdir(cli.cwd)
    cli.add_legacy(f"http://user:{SECRET}@127.0.0.1:{_closed_port()}/feed.xml")
    exported = tmp_path / "feeds.opml"
    commands = [("feeds", "list"), ("feeds", "list", "--json"), ("feeds", "export"), ("poll", "--once"),
                ("feeds", "export", str(exported))]  # fmt: skip
    outputs = [in_process(capsys, cli, *argv) for argv in commands]
    for result in outputs:
        assert result.code == 0, result
        assert SECRET not in result.out + result.err
    assert SECRET not in exported.read_text() and "user:***@127.0.0.1" in exported.read_text()
    assert "user:***@127.0.0.1" in outputs[0].out and "user:***@127.0.0.1" in outputs[3].out
    assert json.loads(outputs[1].out)[0]["url"].startswith("http://user:***@127.0.0.1:")


def test_opml_import_refuses_the_same_urls_without_a_lookup_per_feed(cli: Cli, tmp_path: Path) -> None:
    """A real OPML file with the guard on: control characters (as character references), a space,
    credentials and a trailing-dot loopback address are skipped, each on one line with its reason; two
    spellings of one feed are one feed; names are not looked up (news.example does not resolve, and is
    imported: the connection-time guard judges it when it is fetched)."""
    opml = tmp_path / "in.opml"
    outlines = [
        "https://example.com/feed&#13;&#10;X-Injected: y",
        "http://exa mple.com/",
        f"https://user:{SECRET}@example.com/feed.xml",
        "http://127.0.0.1./feed",
        "https://news.example/rss",
        "HTTPS://NEWS.EXAMPLE/rss#latest",
        "https://bücher.example/rss",
    ]
    opml.write_text(
        '<?xml version="1.0" encoding="utf-8"?><opml version="2.0"><body>'
        + "".join(f'<outline text="f{n}" xmlUrl="{url}"/>' for n, url in enumerate(outlines))
        + "</body></opml>",
        encoding="utf-8",
    )
    result = cli("feeds", "import", str(opml), guard=True)
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0] == "imported 2 feeds, skipped 5" and all(line.startswith("  skipped ") for line in lines[1:])
    assert SECRET not in result.out + result.err
    reasons = "\n".join(lines[1:])
    for reason in ("control character (U+000D)", "contains a space", "user name or password", "127.0.0.1 is a loopback"):
        assert reason in reasons, reason
    assert "listed twice in the file" in reasons
    assert cli.urls() == ["https://news.example/rss", "https://xn--bcher-kva.example/rss"]
