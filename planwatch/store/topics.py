"""SQL for topics and report<->topic matches (matching itself is an FTS5 query)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, cast

import aiosqlite

from planwatch.errors import NotFoundError, UsageError
from planwatch.models import MatchedBy, Topic
from planwatch.timeutil import to_db
from planwatch.topics.query import compile_query

if TYPE_CHECKING:
    from planwatch.store.db import Store


# Appended to a query over reports_fts for one topic (its id the last parameter): a report a moderator
# excluded from the topic is never matched into it again.
_NOT_EXCLUDED = " AND NOT EXISTS (SELECT 1 FROM topic_exclusions x WHERE x.topic_id = ? AND x.report_id = reports_fts.rowid)"


@lru_cache(maxsize=1024)
def _compiled(query: str, aliases_json: str) -> str:
    return compile_query(query, json.loads(aliases_json))


@dataclass(frozen=True, slots=True)
class Membership:
    matched_by: MatchedBy | None  # None: not the topic's
    evidence: dict[str, object] | None  # a profile match's likeness and shared terms
    excluded: bool  # a moderator excluded it


@dataclass(frozen=True, slots=True)
class Followers:
    """Who would lose something if a topic went: subscribers (a digest section) and alert channels."""

    subscriber_ids: tuple[int, ...]
    alert_channel_ids: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.subscriber_ids) + len(self.alert_channel_ids)

    def describe(self) -> str:
        """Ids as operators see them elsewhere: `subscribers list` shows #id; channels by Discord id."""
        parts = []
        if self.subscriber_ids:
            ids = _some(f"#{i}" for i in self.subscriber_ids)
            parts.append(f"{_count(len(self.subscriber_ids), 'subscriber')} ({ids})")
        if self.alert_channel_ids:
            ids = _some(f"channel {c}" for c in self.alert_channel_ids)
            parts.append(f"{_count(len(self.alert_channel_ids), 'Discord alert channel')} ({ids})")
        return " and ".join(parts) or "nobody"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _some(items: Iterable[str], shown: int = 10) -> str:
    listed = list(items)
    more = f" and {len(listed) - shown} more" if len(listed) > shown else ""
    return ", ".join(listed[:shown]) + more


def _topic(row: sqlite3.Row) -> Topic:
    return Topic(
        id=row["id"],
        scope=row["scope"],
        name=row["name"],
        description=row["description"],
        query=row["query"],
        aliases=json.loads(row["aliases"]),
    )


class TopicRepo:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def list_all(self, scope: str | None = "global") -> list[Topic]:
        if scope is None:
            rows = await self.store.fetchall("SELECT * FROM topics ORDER BY scope, id")
        else:
            rows = await self.store.fetchall("SELECT * FROM topics WHERE scope = ? ORDER BY id", (scope,))
        return [_topic(r) for r in rows]

    async def get(self, name: str, scope: str = "global") -> Topic:
        row = await self.store.fetchone("SELECT * FROM topics WHERE scope = ? AND name = ?", (scope, name))
        if row is None:
            known = ", ".join(t.name for t in await self.list_all(scope)) or "none yet"
            raise NotFoundError(f"no topic {name!r} (known topics: {known})")
        return _topic(row)

    async def validate(self, query: str, aliases: list[list[str]]) -> str:
        """Compile and let SQLite itself try the expression; UsageError with the reason if bad."""
        fts = compile_query(query, aliases)
        try:
            # rowid = 0 matches nothing but makes FTS5 parse the whole expression (LIMIT 0 would not).
            await self.store.fetchone("SELECT 1 FROM reports_fts WHERE reports_fts MATCH ? AND rowid = 0", (fts,))
        except sqlite3.OperationalError as exc:
            raise UsageError(f"bad query: {exc}") from None
        return fts

    async def add(
        self, *, scope: str, name: str, query: str, description: str, aliases: list[list[str]], now: datetime
    ) -> tuple[Topic, int]:
        """Create the topic and match every stored report against it; returns (topic, matches)."""
        fts = await self.validate(query, aliases)
        async with self.store.transaction() as db:
            try:
                cur = await db.execute(
                    "INSERT INTO topics (scope, name, description, query, aliases, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (scope, name, description, query, json.dumps(aliases), to_db(now), to_db(now)),
                )
            except sqlite3.IntegrityError:
                raise UsageError(f"topic {name!r} already exists") from None
            topic_id = cur.lastrowid
            assert topic_id is not None
            matched = await self._backfill(db, topic_id, fts, now)
            await self._spread(db, topic_id, now)
        return await self.get(name, scope), matched

    async def update(
        self,
        topic: Topic,
        *,
        query: str | None = None,
        description: str | None = None,
        aliases: list[list[str]] | None = None,
        now: datetime,
    ) -> tuple[Topic, int]:
        new_query = topic.query if query is None else query
        new_aliases = topic.aliases if aliases is None else aliases
        fts = await self.validate(new_query, new_aliases)
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE topics SET query = ?, description = ?, aliases = ?, updated_at = ? WHERE id = ?",
                (
                    new_query,
                    topic.description if description is None else description,
                    json.dumps(new_aliases),
                    to_db(now),
                    topic.id,
                ),
            )
            matched = await self._rematch(db, topic.id, fts, now)
        return await self.get(topic.name, topic.scope), matched

    async def rematch_flagged(self, now: datetime) -> int:
        """Topics a migration changed the query of (a `topics.rematch.ID` row in service_state): matched
        again against every stored report, as an edit would, in one transaction with the flag's removal.
        Called when the store opens; returns how many topics it matched again."""
        flags = await self.store.fetchall("SELECT key FROM service_state WHERE key LIKE 'topics.rematch.%' ORDER BY key")
        done = 0
        for (key,) in flags:
            row = await self.store.fetchone("SELECT * FROM topics WHERE id = ?", (int(key.rsplit(".", 1)[1]),))
            async with self.store.transaction() as db:
                if row is not None:
                    topic = _topic(row)
                    await self._rematch(db, topic.id, compile_query(topic.query, topic.aliases), now)
                    done += 1
                await db.execute("DELETE FROM service_state WHERE key = ?", (key,))
        return done

    async def _rematch(self, db: aiosqlite.Connection, topic_id: int, fts: str, now: datetime) -> int:
        """A topic's matches derived again from its (new) query: pins kept, the rest re-found."""
        await db.execute("DELETE FROM report_topics WHERE topic_id = ? AND matched_by != 'pinned'", (topic_id,))
        matched = await self._backfill(db, topic_id, fts, now)
        await self._spread(db, topic_id, now)
        return matched

    async def remove(self, name: str, scope: str = "global") -> None:
        topic = await self.get(name, scope)
        async with self.store.transaction() as db:
            await db.execute("DELETE FROM topics WHERE id = ?", (topic.id,))

    async def followers(self, topic: Topic) -> Followers:
        """Digests name their topics in the subscriber's scope (see digests/build.py), so only that
        scope's subscribers follow it; one who left follows nothing."""
        subscribers = await self.store.fetchall(
            "SELECT id FROM subscribers WHERE scope = ? AND status != 'unsubscribed'"
            " AND EXISTS (SELECT 1 FROM json_each(subscribers.topics) WHERE json_each.value = ?) ORDER BY id",
            (topic.scope, topic.name),
        )
        channels = await self.store.fetchall("SELECT channel_id FROM alert_channels WHERE topic_id = ? ORDER BY id", (topic.id,))
        return Followers(tuple(r[0] for r in subscribers), tuple(str(r[0]) for r in channels))

    async def preview(self, query: str, aliases: list[list[str]], limit: int = 20) -> tuple[int, list[int]]:
        """What a query would match now, saving nothing: (count, newest report ids)."""
        fts = await self.validate(query, aliases)
        total = await self.store.scalar("SELECT count(*) FROM reports_fts WHERE reports_fts MATCH ?", (fts,))
        rows = await self.store.fetchall(
            "SELECT rowid FROM reports_fts WHERE reports_fts MATCH ? ORDER BY rowid DESC LIMIT ?", (fts, limit)
        )
        return int(total), [r[0] for r in rows]

    async def _spread(self, db: aiosqlite.Connection, topic_id: int, now: datetime) -> None:
        """After a (re)match: the topic's story members, derived from its query matches."""
        stories = self.store.stories
        await stories.spread_topics(db, await stories.topic_story_ids(db, topic_id), now, topic_id=topic_id)

    async def matched_by(self, topic_id: int, report_id: int) -> MatchedBy | None:
        """How the report is the topic's, or None."""
        return (await self.membership(topic_id, report_id)).matched_by

    async def memberships(self, topic_id: int) -> dict[int, MatchedBy]:
        """report id -> how it is the topic's, for every member (the demo lists them)."""
        rows = await self.store.fetchall("SELECT report_id, matched_by FROM report_topics WHERE topic_id = ?", (topic_id,))
        return {int(r[0]): cast(MatchedBy, str(r[1])) for r in rows}

    async def membership(self, topic_id: int, report_id: int) -> Membership:
        row = await self.store.fetchone(
            "SELECT matched_by, evidence FROM report_topics WHERE topic_id = ? AND report_id = ?", (topic_id, report_id)
        )
        excluded = await self.store.fetchone(
            "SELECT 1 FROM topic_exclusions WHERE topic_id = ? AND report_id = ?", (topic_id, report_id)
        )
        if row is None:
            return Membership(None, None, excluded is not None)
        return Membership(cast(MatchedBy, str(row[0])), json.loads(row[1]) if row[1] else None, excluded is not None)

    async def corrections(self, topic_id: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The topic's pinned and excluded report ids."""
        pinned = await self.store.fetchall(
            "SELECT report_id FROM report_topics WHERE topic_id = ? AND matched_by = 'pinned' ORDER BY report_id", (topic_id,)
        )
        excluded = await self.store.fetchall(
            "SELECT report_id FROM topic_exclusions WHERE topic_id = ? ORDER BY report_id", (topic_id,)
        )
        return tuple(int(r[0]) for r in pinned), tuple(int(r[0]) for r in excluded)

    async def pin(self, topic: Topic, report_id: int, now: datetime) -> None:
        """The report is the topic's whatever its words, and teaches the topic's profile like a query match."""
        async with self.store.transaction() as db:
            await db.execute("DELETE FROM topic_exclusions WHERE topic_id = ? AND report_id = ?", (topic.id, report_id))
            await db.execute(
                "INSERT INTO report_topics (report_id, topic_id, matched_at, matched_by) VALUES (?, ?, ?, 'pinned')"
                " ON CONFLICT (topic_id, report_id) DO UPDATE SET matched_by = 'pinned', evidence = NULL",
                (report_id, topic.id, to_db(now)),
            )
            await self._respread(db, topic, report_id, now)

    async def exclude(self, topic: Topic, report_id: int, now: datetime) -> None:
        """The report leaves the topic and no route (query, story, profile) brings it back; the story
        members that only it brought in leave too."""
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO topic_exclusions (topic_id, report_id, created_at) VALUES (?, ?, ?)",
                (topic.id, report_id, to_db(now)),
            )
            await db.execute("DELETE FROM report_topics WHERE topic_id = ? AND report_id = ?", (topic.id, report_id))
            await self._respread(db, topic, report_id, now)

    async def unpin(self, topic: Topic, report_id: int, now: datetime) -> None:
        """Undo a pin or an exclusion: the report is the topic's again only if its words or story say so."""
        fts = _compiled(topic.query, json.dumps(topic.aliases))
        async with self.store.transaction() as db:
            await db.execute("DELETE FROM topic_exclusions WHERE topic_id = ? AND report_id = ?", (topic.id, report_id))
            await db.execute(
                "DELETE FROM report_topics WHERE topic_id = ? AND report_id = ? AND matched_by = 'pinned'", (topic.id, report_id)
            )
            await db.execute(
                "INSERT INTO report_topics (report_id, topic_id, matched_at)"
                f" SELECT rowid, ?, ? FROM reports_fts WHERE reports_fts MATCH ? AND rowid = ?{_NOT_EXCLUDED}"
                " ON CONFLICT (topic_id, report_id) DO UPDATE SET matched_by = 'query', evidence = NULL"
                " WHERE matched_by IN ('story', 'profile')",
                (topic.id, to_db(now), fts, report_id, topic.id),
            )
            await self._respread(db, topic, report_id, now)

    async def _respread(self, db: aiosqlite.Connection, topic: Topic, report_id: int, now: datetime) -> None:
        """The story memberships of the report's story, derived again from its seeds."""
        stories = self.store.stories
        story_id = await stories.story_of(db, report_id)
        if story_id is not None:
            await stories.unspread_story(db, topic.id, story_id)
            await stories.spread_topics(db, [story_id], now, topic_id=topic.id)

    async def terms_in_report(self, terms: list[tuple[str, str]], report_id: int) -> list[str]:
        """Which of (shown, fts expression) terms the report's indexed title and text contain."""
        hits: list[str] = []
        for shown, fts in terms:
            if await self.store.fetchone("SELECT 1 FROM reports_fts WHERE reports_fts MATCH ? AND rowid = ?", (fts, report_id)):
                hits.append(shown)
        return hits

    async def query_match_in_story(self, topic_id: int, story_id: int) -> int | None:
        """The earliest report of the story that matched the topic's query or was pinned to it (what
        brought the story in)."""
        row = await self.store.fetchone(
            "SELECT rt.report_id FROM report_topics rt JOIN report_analysis a ON a.report_id = rt.report_id"
            " JOIN reports r ON r.id = rt.report_id WHERE rt.topic_id = ? AND rt.matched_by IN ('query', 'pinned')"
            " AND a.story_id = ? ORDER BY r.published_at, r.id LIMIT 1",
            (topic_id, story_id),
        )
        return None if row is None else int(row[0])

    async def match_counts(self) -> dict[int, int]:
        rows = await self.store.fetchall("SELECT topic_id, count(*) FROM report_topics GROUP BY topic_id")
        return {r[0]: r[1] for r in rows}

    @staticmethod
    async def _backfill(db: aiosqlite.Connection, topic_id: int, fts: str, now: datetime) -> int:
        cur = await db.execute(
            "INSERT OR IGNORE INTO report_topics (report_id, topic_id, matched_at, backfilled)"
            f" SELECT rowid, ?, ?, 1 FROM reports_fts WHERE reports_fts MATCH ?{_NOT_EXCLUDED}",
            (topic_id, to_db(now), fts, topic_id),
        )
        return max(cur.rowcount, 0)

    @staticmethod
    async def match_reports(db: aiosqlite.Connection, new_ids: Sequence[int], updated_ids: Sequence[int], now: datetime) -> int:
        """Match freshly stored or changed reports against every topic, inside the caller's transaction.

        New ids are consecutive, and FTS5 bounds a MATCH by a rowid range, so a batch costs one
        range-bounded query per topic instead of a scan of the whole index (an `IN (...)` list, by
        contrast, makes SQLite re-run the MATCH per id: 50x slower). Changed reports, rarer, are
        matched one by one after their old matches are dropped."""
        if not new_ids and not updated_ids:
            return 0
        if updated_ids:
            await db.executemany(
                "DELETE FROM report_topics WHERE report_id = ? AND matched_by != 'pinned'", [(i,) for i in updated_ids]
            )
        async with db.execute("SELECT id, query, aliases FROM topics") as cur:
            topics = list(await cur.fetchall())
        ranges: list[tuple[int, int]] = []
        if new_ids:
            low, high = min(new_ids), max(new_ids)
            if high - low + 1 != len(set(new_ids)):
                raise ValueError("new report ids must be consecutive")
            ranges.append((low, high))
        ranges += [(i, i) for i in updated_ids]
        stamp = to_db(now)
        matched = 0
        for topic_id, query, aliases in topics:
            try:
                fts = _compiled(query, aliases)
            except UsageError:
                continue  # stored before a stricter parser; `topics list` shows it, matching skips it
            for low, high in ranges:
                cur2 = await db.execute(
                    "INSERT INTO report_topics (report_id, topic_id, matched_at)"
                    f" SELECT rowid, ?, ? FROM reports_fts WHERE reports_fts MATCH ? AND rowid BETWEEN ? AND ?{_NOT_EXCLUDED}"
                    " ON CONFLICT (topic_id, report_id) DO UPDATE SET matched_by = 'query', evidence = NULL"
                    " WHERE matched_by IN ('story', 'profile')",
                    (topic_id, stamp, fts, low, high, topic_id),
                )
                matched += max(cur2.rowcount, 0)
        return matched
