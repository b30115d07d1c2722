"""The README's promise, checked for every subcommand: bad input gets one clear line on stderr (exit 2
for a usage error, 1 for a failure), never a traceback, never "unexpected ..." for a cause Planwatch can
name, and nothing is saved by a command that was refused.

The subcommands come from the real argparse parser, so a new one fails `test_every_subcommand_has_bad_inputs`
until it has its entry in CASES. Each input runs as a real `planwatch` process (that is where a
traceback from a thread or a worker shows); they run concurrently, against one database built once."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sqlite3
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from planwatch.cli import build_parser
from planwatch.config import load_settings
from planwatch.services.feeds import add_feed
from planwatch.services.subscriptions import check_request, subscribe
from planwatch.services.topics import GLOBAL_SCOPE, add_topic
from planwatch.store import Store
from planwatch.timeutil import utcnow
from tests.test_cli import without_file_override

HUGE = "99999999999999999999999"  # past SQLite's 64-bit integers
AT_ONCE = 4  # processes at a time: start-up is mostly waiting on imports, two cores keep up with four


@dataclass(frozen=True, slots=True)
class Bad:
    """One bad input: the words after `planwatch` ({db}, {ro}, {tmp} are filled in; `--db {db}` is put
    first when the input names no database), a piece of the one line it must print, its exit code."""

    cmdline: str
    says: str
    code: int = 2
    env: Mapping[str, str] = field(default_factory=dict)
    # Run as a user who cannot write a read-only file (a root child drops that capability).
    read_only: bool = False

    def argv(self, world: World) -> list[str]:
        words = [w.format(db=world.db, ro=world.read_only_db, tmp=world.tmp) for w in shlex.split(self.cmdline)]
        return words if "--db" in words else ["--db", str(world.db), *words]


def bad(cmdline: str, says: str, code: int = 2, read_only: bool = False, **env: str) -> Bad:
    return Bad(cmdline, says, code, env, read_only)


FOLDER_DB = bad("--db {tmp}/folder db migrate", "it is a folder", 1)
NOT_UTF8 = "--config {tmp}/latin1.toml"
CASES: dict[str, list[Bad]] = {
    "db migrate": [FOLDER_DB, bad("--db {tmp}/missing/x.db db migrate", "folder {tmp}/missing does not exist", 1)],
    "feeds add": [
        bad("feeds add", "the following arguments are required: url"),
        bad("feeds add ftp://example.com/feed", "http:// or https://"),
        bad(f"feeds add http://127.0.0.1:9/new.xml --interval {HUGE}", "interval must be at most a week"),
        bad("--db {ro} feeds add http://127.0.0.1:9/new.xml", "is read-only", 1, read_only=True),
    ],
    "feeds list": [bad("--db {tmp}/folder feeds list", "it is a folder", 1), bad("feeds list --jsn", "unrecognized arguments")],
    "feeds remove": [bad(f"feeds remove {HUGE}", f"no feed #{HUGE}"), bad("feeds remove 4242", "no feed #4242")],
    "feeds pause": [bad(f"feeds pause #{HUGE}", f"no feed #{HUGE}"), bad("feeds pause", "required: URL|ID")],
    "feeds resume": [bad("feeds resume https://nowhere.example/feed.xml", "no feed with URL")],
    "feeds import": [
        bad("feeds import {tmp}/missing.opml", "cannot read {tmp}/missing.opml"),
        bad("feeds import {tmp}/bad.opml", "not a readable OPML file"),
    ],
    "feeds export": [bad("feeds export {tmp}/missing/feeds.opml", "folder {tmp}/missing does not exist")],
    "topics add": [
        bad("topics add 'Bad Name!' --query x", "invalid topic name"),
        bad("topics add t --query 'ukraine AND title:kremlin'", "column filters such as 'title:kremlin' are not supported"),
        bad(f"topics add t --query x --description {'d' * 301}", "301 characters; at most 300"),
        bad("topics add t", "required: --query"),
        bad("--db {ro} topics add t --query x", "is read-only", 1, read_only=True),
    ],
    "topics list": [bad(f"{NOT_UTF8} topics list", "is not UTF-8 text"), bad("--log-level chatty topics list", "invalid choice")],
    "topics remove": [
        bad("topics remove followed", "followed by 1 subscriber (#1); --force removes it anyway"),
        bad("topics remove nope", "no topic 'nope'"),
    ],
    "poll": [
        bad("poll", "poll needs --once"),
        bad("poll --once", "PLANWATCH_FETCH_TIMEOUT: expected a finite number", PLANWATCH_FETCH_TIMEOUT="inf"),
    ],
    "articles": [
        bad(f"articles --limit {HUGE}", "--limit must be between 1 and 1000000"),
        bad("articles --limit many", "invalid int value"),
        bad("articles --since soon", "invalid --since 'soon'"),
    ],
    "ask summary": [bad("ask summary --topic nope", "no topic 'nope'"), bad("ask summary --since forever", "invalid --since")],
    "ask sources": [bad("ask sources --since 0h", "invalid --since"), bad(f"{NOT_UTF8} ask sources", "is not UTF-8 text")],
    "ask timeline": [bad("ask timeline --topic NOPE", "no topic 'NOPE'")],
    "ask latest": [
        bad("ask latest --count 0", "count must be between 1 and 100"),
        bad(f"ask latest --count {HUGE}", "count must be"),
    ],
    "ask search": [
        bad("ask search title:kremlin", "column filters such as 'title:kremlin' are not supported"),
        bad("ask search '(unclosed'", "'(' is not closed"),
        bad(f"ask search x --limit {HUGE}", "limit must be between 1 and 100"),
    ],
    "outlets list": [bad("outlets list --jsn", "unrecognized arguments")],
    "outlets add": [
        bad("outlets add ''", "an outlet name is 1 to 100 characters"),
        bad("--db {ro} outlets add Verstka", "is read-only", 1, read_only=True),
    ],
    "outlets remove": [bad("outlets remove Nope", "no outlet 'Nope' was added")],
    "stories rebuild": [
        bad("stories rebuild --all", "unrecognized arguments"),
        bad("--db {ro} stories rebuild", "is read-only", 1, read_only=True),
    ],
    "sync": [
        bad(f"sync --guild {HUGE} --dry-run", "is not a Discord server id"),
        bad("sync --guild many", "invalid int value"),
        bad("sync", "DISCORD_TOKEN is not set"),
    ],
    "topics edit": [
        bad("topics edit nope --query x", "no topic 'nope'"),
        bad("topics edit followed", "give a new --query, --description or --alias"),
        bad("topics edit followed --query '(unclosed'", "'(' is not closed"),
        bad("topics edit followed --alias kyiv", "give two or more spellings"),
        bad(f"topics edit followed --description {'d' * 301}", "at most 300"),
        bad("--db {ro} topics edit ukraine-peace-plan --query x", "is read-only", 1, read_only=True),
    ],
    "topics explain": [
        bad("topics explain nope 1", "no topic 'nope'"),
        bad("topics explain followed 12345", "no report #12345"),
        bad(f"topics explain followed {HUGE}", "is not a report id"),
        bad("topics explain followed x", "invalid int value"),
    ],
    "topics pin": [
        bad("topics pin nope 1", "no topic 'nope'"),
        bad("topics pin followed 12345", "no report #12345"),
        bad(f"topics pin followed {HUGE} --undo", "is not a report id"),
        bad("topics pin followed 1 --undo --undo", "no report #1"),
    ],
    "topics exclude": [
        bad("topics exclude nope 1", "no topic 'nope'"),
        bad("topics exclude followed 12345", "no report #12345"),
        bad("topics exclude followed", "the following arguments are required"),
    ],
    "topics profile": [
        bad("topics profile nope", "no topic 'nope'"),
        bad("topics profile", "the following arguments are required"),
    ],
    "subscribers add": [
        bad("subscribers add not-an-address", "is not an email address"),
        bad("subscribers add a@example.com --tz ''", "--tz is empty"),
        bad("subscribers add a@example.com --tz Mars/Olympus", "is not a time zone"),
        bad(f"subscribers add a@example.com --hour {HUGE}", "hour must be between 0 and 23"),
        bad("subscribers add a@example.com --topic nope", "no topic 'nope'"),
        bad("subscribers add a@example.com", "secret must be at least 16 characters", PLANWATCH_SECRET="short"),
    ],
    "subscribers list": [bad("--db {tmp}/folder subscribers list", "it is a folder", 1)],
    "subscribers remove": [bad("subscribers remove nobody@example.com", "no subscriber nobody@example.com")],
    "digest preview": [
        bad("digest preview", "required: --email"),
        bad("digest preview --email nobody@example.com", "no subscriber nobody@example.com"),
        bad("digest preview --email reader@example.com --html {tmp}/missing/d.html", "No such file or directory", 1),
    ],
    "digest send": [
        bad("digest send --date 2026-13-01", "--date"),
        bad("digest send", "mail_rate must be more than 0", PLANWATCH_MAIL_RATE="0"),
    ],
    "demo": [
        bad("--db {db} demo", "refusing to overwrite"),
        bad("demo", "public_url must be an absolute http", PLANWATCH_PUBLIC_URL="ftp://planwatch.example"),
    ],
    "run": [
        bad("run", "public_url must be an absolute http", PLANWATCH_PUBLIC_URL="planwatch.example.org"),
        bad("run", "PLANWATCH_MAX_BACKOFF_HOURS: expected a finite number", PLANWATCH_MAX_BACKOFF_HOURS="nan"),
        bad("--db {tmp}/folder run", "it is a folder", 1),
    ],
    "health": [
        bad("--db {tmp}/none.db health", "unhealthy: no database", 1),
        bad("health", "unhealthy: the scheduler has not ticked yet", 1),
    ],
}


def subcommands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    """Every runnable command path, e.g. "feeds add", walked from the parser itself."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from subcommands(child, (*prefix, name))
            return
    yield " ".join(prefix)


@dataclass(frozen=True, slots=True)
class World:
    tmp: Path
    db: Path
    read_only_db: Path


async def _build(world: World) -> None:
    settings = load_settings(env={}, allow_private_feeds=True)
    async with await Store.open(world.db) as store:
        await add_topic(store, "followed", "gas")
        await add_feed(store, settings, "http://127.0.0.1:9/feed.xml")
        request = check_request("reader@example.com", ["followed"], None, None)
        await subscribe(store, request, scope=GLOBAL_SCOPE, now=utcnow(), confirmed=True)
    async with await Store.open(world.read_only_db):
        pass


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("cli-errors")
    built = World(tmp, tmp / "shared.db", tmp / "read-only.db")
    asyncio.run(_build(built))
    built.read_only_db.chmod(0o444)
    (tmp / "folder").mkdir()
    (tmp / "latin1.toml").write_bytes('mail_from = "Planwatch <digest@caf\u00e9.example>"\n'.encode("latin-1"))
    (tmp / "bad.opml").write_text("<html>not opml")
    return built


def _saved(db: Path) -> list[object]:
    """What a refused command must not have changed."""
    with sqlite3.connect(db) as conn:
        return [
            conn.execute(sql).fetchall()
            for sql in (
                "SELECT name, query, description FROM topics ORDER BY id",
                "SELECT url, paused, interval_minutes FROM feeds ORDER BY id",
                "SELECT email, status, topics, hour, timezone FROM subscribers ORDER BY id",
                "SELECT count(*) FROM outbox",
                "SELECT count(*) FROM outlets",
            )
        ]


def test_every_subcommand_has_bad_inputs() -> None:
    """A new subcommand fails here until CASES says how it refuses bad input."""
    commands = set(subcommands(build_parser()))
    assert not commands - set(CASES), f"add bad inputs to CASES for: {sorted(commands - set(CASES))}"
    assert not set(CASES) - commands, f"CASES names commands the parser lacks: {sorted(set(CASES) - commands)}"
    assert all(CASES.values())


async def _run(case: Bad, world: World, gate: asyncio.Semaphore) -> str | None:
    """None if the case holds, else what went wrong."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANWATCH_", "DISCORD_"))}
    env |= {"PLANWATCH_ALLOW_PRIVATE_FEEDS": "1", "PLANWATCH_OUTBOX": str(world.tmp / "outbox"), **case.env}
    argv = case.argv(world)
    async with gate:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "planwatch.cli", *argv, cwd=world.tmp, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            preexec_fn=without_file_override if case.read_only else None,
        )  # fmt: skip
        _, raw = await asyncio.wait_for(proc.communicate(), 60)
    err = raw.decode()
    says = case.says.format(tmp=world.tmp)
    problems = [
        f"exit {proc.returncode}, not {case.code}" if proc.returncode != case.code else "",
        "not one line on stderr" if err.count("\n") != 1 or not err.endswith("\n") else "",
        "a traceback" if "Traceback" in err else "",
        "'unexpected'" if "unexpected" in err else "",
        f"does not say {says!r}" if says not in err else "",
    ]
    found = "; ".join(p for p in problems if p)
    return f"planwatch {shlex.join(argv)}: {found}\n    stderr: {err!r}" if found else None


async def test_bad_input_gets_one_clear_line(world: World) -> None:
    """Every subcommand, every bad input in CASES: exit 2 or 1 as listed, one line on stderr naming the
    problem, no traceback, no "unexpected"; the shared database is as it was."""
    before = _saved(world.db)
    gate = asyncio.Semaphore(AT_ONCE)
    cases = [case for command in CASES.values() for case in command]
    results = await asyncio.gather(*(_run(case, world, gate) for case in cases))
    failures = [r for r in results if r is not None]
    assert not failures, f"{len(failures)} of {len(cases)} bad inputs broke the promise:\n" + "\n".join(failures)
    assert _saved(world.db) == before
