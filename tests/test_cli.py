"""The CLI contract: command names, flags, --json shapes and exit codes that operators script."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from planwatch.cli import main
from tests.conftest import FeedServer, rss

JSON_FEED_KEYS = {"id", "url", "name", "status", "consecutive_failures", "last_error", "next_poll_at"}
JSON_ARTICLE_KEYS = {"id", "url", "title", "text", "outlet", "published_at", "first_seen_at", "topics"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PLANWATCH_ALLOW_PRIVATE_FEEDS", "1")
    monkeypatch.chdir(tmp_path)
    return str(tmp_path / "cli.db")


async def in_thread(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """main() runs its own event loop; from an async test it must run in another thread."""
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_feeds_poll_articles_roundtrip(db: str, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]) -> None:
    """feeds add -> poll --once -> articles --json, with the documented shapes."""
    url = feed_server.static(
        "/feed.xml",
        rss(
            [
                {
                    "title": "Witkoff and Dmitriev drafted a 28-point plan for Ukraine",
                    "link": "https://o.example/1",
                    "pubDate": "Thu, 20 Nov 2025 10:00:00 GMT",
                    "description": "Kyiv was not consulted.",
                },
                {"title": "Grain exports from Ukraine rise", "link": "https://o.example/2"},
            ]
        ),
    )
    code, out, _ = await in_thread(capsys, "--db", db, "feeds", "add", url, "--name", "Outlet One")
    assert code == 0 and "added feed #1" in out
    code, out, _ = await in_thread(capsys, "--db", db, "feeds", "list", "--json")
    feeds = json.loads(out)
    assert code == 0 and set(feeds[0]) >= JSON_FEED_KEYS and feeds[0]["status"] == "new"
    code, out, _ = await in_thread(capsys, "--db", db, "poll", "--once")
    assert code == 0 and out.strip() == "#1 Outlet One: 2 new, 0 updated, 0 unchanged, 1 topic matches"
    code, out, _ = await in_thread(capsys, "--db", db, "articles", "--topic", "ukraine-peace-plan", "--json")
    articles = json.loads(out)
    assert code == 0 and len(articles) == 1
    assert set(articles[0]) >= JSON_ARTICLE_KEYS
    assert articles[0]["outlet"] == "Outlet One" and articles[0]["topics"] == ["ukraine-peace-plan"]
    assert articles[0]["published_at"] == "2025-11-20T10:00:00Z"
    code, out, _ = await in_thread(capsys, "--db", db, "articles", "--since", "48h", "--json")
    assert len(json.loads(out)) == 2
    code, out, _ = await in_thread(capsys, "--db", db, "feeds", "list", "--json")
    assert json.loads(out)[0]["status"] == "ok"


async def test_poll_exits_zero_when_a_feed_fails(db: str, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]) -> None:
    """A failing feed is one line with its error; the command still exits 0."""
    await in_thread(capsys, "--db", db, "feeds", "add", feed_server.url("/missing.xml"))
    code, out, _ = await in_thread(capsys, "--db", db, "poll", "--once")
    assert code == 0 and "error: HTTP 404" in out
    code, out, _ = await in_thread(capsys, "--db", db, "poll", "--once")
    assert "nothing to poll" in out  # backing off now
    code, out, _ = await in_thread(capsys, "--db", db, "poll", "--once", "--force")
    assert "error: HTTP 404" in out
    code, out, _ = await in_thread(capsys, "--db", db, "feeds", "list")
    assert "[failing]" in out and "2 failures in a row" in out


def test_usage_errors_exit_2_with_one_line(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad arguments: exit 2 and one clear line, never a traceback."""
    cases = [
        (["articles", "--since", "soon"], "invalid --since 'soon'"),
        (["articles", "--topic", "nope"], "no topic 'nope' (known topics: ukraine-peace-plan)"),
        (["topics", "add", "Bad Name!", "--query", "x"], "invalid topic name"),
        (["topics", "add", "t", "--query", "(unclosed"], "bad query: '(' is not closed"),
        (["feeds", "add", "ftp://example.com/feed"], "must start with http:// or https://"),
        (["feeds", "add", "https://example.com/feed", "--interval", "1"], "at least 5 minutes"),
        (["feeds", "remove", "42"], "no feed #42"),
        (["poll"], "poll needs --once"),
    ]
    for argv, message in cases:
        code, _, err = run(capsys, "--db", db, *argv)
        assert code == 2, (argv, code, err)
        assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_refuses_private_feed_without_opt_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without PLANWATCH_ALLOW_PRIVATE_FEEDS a loopback feed URL is refused and says how to allow it."""
    monkeypatch.delenv("PLANWATCH_ALLOW_PRIVATE_FEEDS", raising=False)
    code, _, err = run(capsys, "--db", str(tmp_path / "x.db"), "feeds", "add", "http://127.0.0.1:9/feed")
    assert code == 2 and "loopback" in err and "PLANWATCH_ALLOW_PRIVATE_FEEDS=1" in err


def test_topics_and_opml_roundtrip(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """topics add/list/remove and feeds import/export keep their shapes; import reports what it skipped."""
    code, out, _ = run(capsys, "--db", db, "topics", "add", "sanctions", "--query", "sanction* AND (oil OR gas)",
                       "--description", "Energy sanctions", "--alias", "rosneft|rosneftegaz")  # fmt: skip
    assert code == 0 and "added topic sanctions: 0 stored reports" in out
    code, out, _ = run(capsys, "--db", db, "topics", "list", "--json")
    topics = {t["name"]: t for t in json.loads(out)}
    assert topics["sanctions"]["aliases"] == [["rosneft", "rosneftegaz"]]
    assert run(capsys, "--db", db, "topics", "remove", "sanctions")[0] == 0
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline text="group">'
        '<outline text="A" xmlUrl="https://a.example/rss"/><outline text="A again" xmlUrl="https://a.example/rss"/>'
        '<outline text="Bad" xmlUrl="gopher://b.example/"/></outline></body></opml>'
    )
    code, out, _ = run(capsys, "--db", db, "feeds", "import", str(opml))
    assert code == 0 and "imported 1 feeds, skipped 2" in out and "listed twice" in out
    code, out, _ = run(capsys, "--db", db, "feeds", "import", str(opml))
    assert "imported 0 feeds" in out and "already watched" in out
    code, out, _ = run(capsys, "--db", db, "feeds", "export")
    assert code == 0 and 'xmlUrl="https://a.example/rss"' in out and out.startswith("<?xml")
    bad = tmp_path / "bad.opml"
    bad.write_text("<html>nope")
    code, _, err = run(capsys, "--db", db, "feeds", "import", str(bad))
    assert code == 2 and "not a readable OPML file" in err


def test_db_migrate_and_console_script(tmp_path: Path) -> None:
    """The installed `planwatch` entry point runs as a real process."""
    db = tmp_path / "m.db"
    proc = subprocess.run(
        [sys.executable, "-m", "planwatch.cli", "--db", str(db), "db", "migrate"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "applied 0001_initial" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "planwatch.cli", "--db", str(db), "db", "migrate"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "schema is up to date" in proc.stdout


async def test_ask_commands_and_their_json(db: str, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]) -> None:
    """ask summary|sources|timeline|latest|search through the real CLI, with the documented shapes."""
    from planwatch.demo.server import DemoServer, sample_feed_names

    server = DemoServer()
    await server.start()
    try:
        for name in sample_feed_names():
            await in_thread(capsys, "--db", db, "feeds", "add", server.url(name))
        await in_thread(capsys, "--db", db, "poll", "--once")
    finally:
        await server.stop()
    code, out, _ = await in_thread(capsys, "--db", db, "ask", "summary", "--since", "48h", "--json")
    summary = json.loads(out)
    assert code == 0 and {"topic", "since", "report_count", "outlet_count", "points"} <= set(summary)
    assert all({"text", "label", "sources"} <= set(p) for p in summary["points"])
    code, out, _ = await in_thread(capsys, "--db", db, "ask", "sources", "--since", "48h", "--json")
    sources = json.loads(out)
    assert {"topic", "since", "stories", "sources"} <= set(sources) and len(sources["sources"]) == 14
    code, out, _ = await in_thread(capsys, "--db", db, "ask", "timeline", "--json")
    assert json.loads(out)["events"][0]["kind"] == "first_report"
    code, out, _ = await in_thread(capsys, "--db", db, "ask", "latest", "--count", "2", "--json")
    assert len(json.loads(out)["reports"]) == 2
    code, out, _ = await in_thread(capsys, "--db", db, "ask", "search", "Kremlin", "--json")
    assert json.loads(out)["results"][0]["snippet"]
    code, out, _ = await in_thread(capsys, "--db", db, "ask", "summary")
    assert code == 0 and "in the last 24 h" in out
    code, _, err = await in_thread(capsys, "--db", db, "ask", "sources", "--since", "forever")
    assert code == 2 and "invalid --since 'forever'" in err
    code, _, err = await in_thread(capsys, "--db", db, "ask", "latest", "--count", "0")
    assert code == 2 and "count must be between 1 and 100" in err


async def test_outlets_extend_citations(db: str, capsys: pytest.CaptureFixture[str], feed_server: FeedServer) -> None:
    """An operator's outlet is recognised in citations after `stories rebuild`."""
    url = feed_server.static(
        "/n.xml",
        rss([{"title": "Plan leaked", "link": "https://n.example/1",
              "description": "According to Verstka, the 28-point plan for Ukraine was drafted by Witkoff."}]),
    )  # fmt: skip
    await in_thread(capsys, "--db", db, "feeds", "add", url)
    await in_thread(capsys, "--db", db, "poll", "--once")
    code, out, _ = await in_thread(capsys, "--db", db, "ask", "sources", "--since", "7d", "--json")
    assert json.loads(out)["sources"][0]["cites"] == []
    code, out, _ = await in_thread(capsys, "--db", db, "outlets", "add", "Verstka", "--alias", "Verstka Media")
    assert code == 0
    code, out, _ = await in_thread(capsys, "--db", db, "stories", "rebuild")
    assert code == 0 and "analysed 1 reports" in out
    code, out, _ = await in_thread(capsys, "--db", db, "ask", "sources", "--since", "7d", "--json")
    assert json.loads(out)["sources"][0]["cites"] == ["Verstka"]
    code, out, _ = await in_thread(capsys, "--db", db, "outlets", "list", "--json")
    assert {"name": "Verstka", "aliases": ["Verstka Media"], "source": "added"} in json.loads(out)
