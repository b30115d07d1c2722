"""The CLI contract: command names, flags, --json shapes and exit codes that operators script."""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from planwatch.cli import main
from planwatch.store import Store
from planwatch.timeutil import utcnow
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
    """topics add/list/edit/remove and feeds import/export keep their shapes; import reports what it skipped."""
    code, out, _ = run(capsys, "--db", db, "topics", "add", "sanctions", "--query", "sanction* AND (oil OR gas)",
                       "--description", "Energy sanctions", "--alias", "rosneft|rosneftegaz")  # fmt: skip
    assert code == 0 and "added topic sanctions: 0 stored reports" in out
    code, out, _ = run(capsys, "--db", db, "topics", "list", "--json")
    topics = {t["name"]: t for t in json.loads(out)}
    assert topics["sanctions"]["aliases"] == [["rosneft", "rosneftegaz"]]
    code, out, _ = run(capsys, "--db", db, "topics", "edit", "sanctions", "--query", "sanction* AND oil",
                       "--alias", "lukoil|lukoyl")  # fmt: skip
    assert code == 0 and "edited topic sanctions: 0 stored reports" in out
    edited = {t["name"]: t for t in json.loads(run(capsys, "--db", db, "topics", "list", "--json")[1])}["sanctions"]
    assert edited["query"] == "sanction* AND oil" and edited["aliases"] == [["lukoil", "lukoyl"]]
    assert edited["description"] == "Energy sanctions"  # what was not given stays
    run(capsys, "--db", db, "topics", "edit", "sanctions", "--no-aliases", "--description", "Oil sanctions")
    edited = {t["name"]: t for t in json.loads(run(capsys, "--db", db, "topics", "list", "--json")[1])}["sanctions"]
    assert edited["aliases"] == [] and edited["description"] == "Oil sanctions"
    # The default topic is data a moderator can change like any other.
    code, out, _ = run(capsys, "--db", db, "topics", "edit", "ukraine-peace-plan", "--query", "ukraine AND plan")
    assert code == 0 and "edited topic ukraine-peace-plan" in out
    code, _, err = run(capsys, "--db", db, "topics", "edit", "sanctions")
    assert code == 2 and "give a new --query, --description or --alias" in err
    code, _, err = run(capsys, "--db", db, "topics", "edit", "sanctions", "--query", "(oil")
    assert code == 2 and "bad query" in err
    code, _, err = run(capsys, "--db", db, "topics", "edit", "nope", "--query", "oil")
    assert code == 2 and "nope" in err
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
    assert {"topic", "since", "stories", "sources"} <= set(sources) and len(sources["sources"]) == 16
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


def test_log_level_in_any_case(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--log-level warning` is taken as PLANWATCH_LOG_LEVEL=warning is; a wrong level is one line."""
    assert run(capsys, "--db", db, "--log-level", "warning", "topics", "list")[0] == 0
    with pytest.raises(SystemExit) as exited:  # argparse's own refusal
        main(["--db", db, "--log-level", "chatty", "topics", "list"])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "invalid choice: 'CHATTY'" in err and err.count("\n") == 1


def test_a_long_topic_description_is_refused_not_cut(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """301 characters: refused, nothing saved; 300: kept whole."""
    code, _, err = run(capsys, "--db", db, "topics", "add", "long", "--query", "x", "--description", "d" * 301)
    assert code == 2 and "301 characters; at most 300" in err
    assert run(capsys, "--db", db, "topics", "add", "long", "--query", "x", "--description", "d" * 300)[0] == 0
    _, out, _ = run(capsys, "--db", db, "topics", "list", "--json")
    assert [t["description"] for t in json.loads(out) if t["name"] == "long"] == ["d" * 300]


def test_subscriber_topics_repeated_are_stored_once(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--topic x --topic X` is one topic; an empty --topic or --tz is refused, not read as the default."""
    run(capsys, "--db", db, "topics", "add", "energy", "--query", "gas")
    code, _, err = run(capsys, "--db", db, "subscribers", "add", "a@example.com", "--tz", "", "--confirmed")
    assert code == 2 and "--tz is empty" in err
    code, _, err = run(capsys, "--db", db, "subscribers", "add", "a@example.com", "--topic", " ", "--confirmed")
    assert code == 2 and "--topic is empty" in err
    _, out, _ = run(capsys, "--db", db, "subscribers", "list", "--json")
    assert json.loads(out) == []
    topics = ["--topic", "energy", "--topic", "ukraine-peace-plan", "--topic", "Energy"]
    code, _, _ = run(capsys, "--db", db, "subscribers", "add", "a@example.com", *topics, "--confirmed")
    _, out, _ = run(capsys, "--db", db, "subscribers", "list", "--json")
    assert code == 0 and json.loads(out)[0]["topics"] == ["energy", "ukraine-peace-plan"]


async def test_removing_a_followed_topic_needs_force(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A topic that subscribers or alert channels follow is kept, and the refusal says who follows it;
    --force removes it. Someone who unsubscribed follows nothing."""
    await in_thread(capsys, "--db", db, "topics", "add", "energy", "--query", "gas")
    for email in ("a@example.com", "b@example.com", "gone@example.com"):
        await in_thread(capsys, "--db", db, "subscribers", "add", email, "--topic", "energy", "--confirmed")
    async with await Store.open(db) as store:
        topic = await store.topics.get("energy")
        await store.guilds.set_alert_channel("111", topic.id, "555", utcnow())
        gone = (await store.subscribers.by_email("gone@example.com"))[0]
        await store.subscribers.set_status(gone.id, "unsubscribed", utcnow())
    code, _, err = await in_thread(capsys, "--db", db, "topics", "remove", "energy")
    assert code == 2 and err.count("\n") == 1
    assert "followed by 2 subscribers (#1, #2) and 1 Discord alert channel (channel 555)" in err and "--force" in err
    code, out, _ = await in_thread(capsys, "--db", db, "topics", "list", "--json")
    assert "energy" in {t["name"] for t in json.loads(out)}
    code, out, _ = await in_thread(capsys, "--db", db, "topics", "remove", "energy", "--force")
    assert code == 0 and out.startswith("removed topic energy (it was followed by 2 subscribers")
    code, out, _ = await in_thread(capsys, "--db", db, "topics", "list", "--json")
    assert "energy" not in {t["name"] for t in json.loads(out)}
    assert (await in_thread(capsys, "--db", db, "topics", "add", "quiet", "--query", "x"))[0] == 0
    code, out, _ = await in_thread(capsys, "--db", db, "topics", "remove", "quiet")
    assert code == 0 and out.strip() == "removed topic quiet"


async def test_column_filters_are_explained(db: str, capsys: pytest.CaptureFixture[str], feed_server: FeedServer) -> None:
    """`title:kremlin` used to be read as two words and quietly match nothing: now one line says that
    column filters are not supported (search and topics alike); quoted, or in a URL, a colon is text."""
    url = feed_server.static("/k.xml", rss([{"title": "Kremlin denies the plan", "link": "https://o.example/k"}]))
    await in_thread(capsys, "--db", db, "feeds", "add", url)
    await in_thread(capsys, "--db", db, "poll", "--once")
    for argv in (["ask", "search", "title:kremlin"], ["ask", "search", "{title text}: kremlin"],
                 ["topics", "add", "k", "--query", "ukraine AND title:kremlin"]):  # fmt: skip
        code, _, err = await in_thread(capsys, "--db", db, *argv)
        assert code == 2 and "column filters" in err and "not supported" in err and err.count("\n") == 1, (argv, err)
    code, out, _ = await in_thread(capsys, "--db", db, "ask", "search", "kremlin", "--json")
    assert code == 0 and len(json.loads(out)["results"]) == 1
    code, out, _ = await in_thread(capsys, "--db", db, "ask", "search", "https://o.example/k", "--json")
    assert code == 0


def test_numbers_past_64_bits_and_missing_folders(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Integers SQLite cannot hold, and a folder that does not exist, are one line each (were
    "unexpected OverflowError" / "unexpected FileNotFoundError")."""
    huge = str(10**25)
    cases = [
        (["articles", "--limit", huge], "--limit must be between 1 and 1000000"),
        (["feeds", "remove", huge], f"no feed #{huge}"),
        (["feeds", "pause", f"#{huge}"], f"no feed #{huge}"),
        (["sync", "--guild", huge, "--dry-run"], "is not a Discord server id"),
        (["feeds", "export", str(tmp_path / "no" / "feeds.opml")], "folder"),
    ]
    for argv, message in cases:
        code, _, err = run(capsys, "--db", db, *argv)
        assert code == 2 and message in err and err.count("\n") == 1, (argv, err)
    assert not (tmp_path / "no").exists()


def cli(*argv: str, cwd: Path, preexec_fn: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planwatch.cli", *argv], cwd=cwd, capture_output=True, text=True, timeout=60,
        check=False, preexec_fn=preexec_fn,
    )  # fmt: skip


def test_db_that_is_a_folder_or_cannot_be_opened(tmp_path: Path) -> None:
    """--db naming a folder, or a file under a file: one line, no "Event loop is closed" traceback from
    aiosqlite's thread after the loop ended."""
    (tmp_path / "data").mkdir()
    (tmp_path / "plain").write_text("")
    for db, message in (("data", "it is a folder; name a file, such as data/planwatch.db"), ("plain/x.db", "unable to open")):
        proc = cli("--db", db, "feeds", "list", cwd=tmp_path)
        assert proc.returncode == 1 and message in proc.stderr, proc.stderr
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def without_file_override() -> None:
    """For a child run as root: drop the capabilities that let root write a read-only file, so that it
    meets a read-only database as any other user would (no effect for other users)."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP: gone after exec
                raise OSError(ctypes.get_errno(), "cannot drop a capability")


def test_a_read_only_database(tmp_path: Path) -> None:
    """Reads work; a write says the database is read-only and what to do (was "unexpected OperationalError")."""
    db = tmp_path / "ro.db"
    assert cli("--db", str(db), "db", "migrate", cwd=tmp_path).returncode == 0
    db.chmod(0o444)
    proc = cli("--db", str(db), "topics", "list", cwd=tmp_path, preexec_fn=without_file_override)
    assert proc.returncode == 0 and "ukraine-peace-plan" in proc.stdout, proc.stderr
    proc = cli("--db", str(db), "topics", "add", "t", "--query", "x", cwd=tmp_path, preexec_fn=without_file_override)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert f"database {db} is read-only" in proc.stderr and "writable" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "unexpected" not in proc.stderr
