"""What to post in alert channels: one message per new story (not per copy), edited as more
independent outlets report it; and feed health, said once when a feed fails and once when it recovers.

Plans only: the Discord edge sends and records. Nothing from a backlog is ever planned: reports from a
feed's first poll, from a topic's own backfill, or from before the channel was set up."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from planwatch.models import Feed, Topic
from planwatch.services.guilds import visible_topics
from planwatch.services.stories import summary_docs
from planwatch.store import Store
from planwatch.store.guilds import AlertChannel
from planwatch.store.stories import AnalysedReport
from planwatch.stories.outlets import OutletRegistry, registry
from planwatch.stories.refresh import refresh_stories
from planwatch.stories.summarize import Point, summarize_reports

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=3)  # stories older than this are not news any more
FAILING_AFTER = 3  # consecutive failures before a feed is announced as failing (one is noise)


@dataclass(frozen=True, slots=True)
class StoryAlert:
    kind: str  # "new" | "update"
    channel: AlertChannel
    story_id: int
    topic: Topic
    outlet_count: int
    reports: list[AnalysedReport]  # the story's reports in the topic, oldest first
    message_id: str | None = None  # for updates
    key_claim: Point | None = None  # the story's leading claim, with its origins and label (claim layer)

    @property
    def first(self) -> AnalysedReport:
        originals = [r for r in self.reports if r.copy_of is None] or self.reports
        return originals[0]

    @property
    def outlets(self) -> list[str]:
        seen: dict[str, None] = {}
        for report in self.reports:
            if report.copy_of is None:
                seen.setdefault(report.outlet, None)
        return list(seen)


@dataclass(frozen=True, slots=True)
class FeedNotice:
    channel: AlertChannel
    feed: Feed
    status: str  # "failing" | "paused" | "ok" (recovered)
    previous: str | None


async def plan_story_alerts(store: Store, now: datetime, *, max_per_hour: int) -> tuple[list[StoryAlert], int]:
    """(alerts to send, how many new ones wait for next hour's allowance)."""
    await refresh_stories(store, now=now)
    alerts: list[StoryAlert] = []
    deferred = 0
    allowances: dict[str, int] = {}  # one allowance per Discord channel, however many topics post there
    outlets = registry(await store.outlets.extra())
    claims: dict[tuple[int, int], Point | None] = {}  # (topic, story): one story posted in several channels
    window: dict[int, list[AnalysedReport]] = {}
    for channel in await store.guilds.alert_channels():
        topics = await visible_topics(store, channel.guild_id)
        if channel.topic_id is not None:
            topics = [t for t in topics if t.id == channel.topic_id]
        by_id = {t.id: t for t in topics}
        candidates = await store.guilds.story_candidates(channel, list(by_id), now - LOOKBACK)
        posted = await store.guilds.posted(channel.channel_id, [c.story_id for c in candidates])
        if channel.channel_id not in allowances:
            allowances[channel.channel_id] = max_per_hour - await store.guilds.posts_since(
                channel.channel_id, now - timedelta(hours=1)
            )
        for candidate in candidates:
            previous = posted.get(candidate.story_id)
            if previous is not None and (previous.message_id is None or candidate.outlet_count <= previous.outlet_count):
                continue
            if previous is None and allowances[channel.channel_id] <= 0:
                deferred += 1
                continue
            topic = by_id[candidate.topic_id]
            if topic.id not in window:  # read once per topic, not once per candidate story
                window[topic.id] = await store.stories.topic_reports(topic.id, now - LOOKBACK)
            reports = [r for r in window[topic.id] if r.story_id == candidate.story_id]
            kind = "new" if previous is None else "update"
            if (topic.id, candidate.story_id) not in claims:
                claims[(topic.id, candidate.story_id)] = key_claim(reports, outlets)
            if kind == "new":
                allowances[channel.channel_id] -= 1
            alerts.append(
                StoryAlert(kind, channel, candidate.story_id, topic, candidate.outlet_count, reports,
                           previous.message_id if previous else None, claims[(topic.id, candidate.story_id)])
            )  # fmt: skip
    return alerts, deferred


def key_claim(reports: list[AnalysedReport], outlets: OutletRegistry | None = None) -> Point | None:
    """What the story says, as a summary would put it: its best claim (a denial if that is all).
    An alert goes out without one rather than not at all if the claim layer fails on its text."""
    try:
        points = summarize_reports(summary_docs(reports), max_points=3, min_points=1, outlets=outlets) if reports else []
    except Exception as exc:  # the alert itself must not be lost to a fault in the summary
        log.warning("a story alert goes out without its key claim: the claim layer failed (%s: %s)", type(exc).__name__, exc)
        return None
    return next((p for p in points if p.label not in ("denied", "unconfirmed")), points[0] if points else None)


def feed_status(feed: Feed) -> str:
    if feed.paused:
        return "paused"
    if feed.consecutive_failures >= FAILING_AFTER:
        return "failing"
    return "ok"


async def plan_feed_notices(store: Store) -> list[FeedNotice]:
    """Changes of health of each server's feeds, for its catch-all alert channel."""
    notices: list[FeedNotice] = []
    for channel in await store.guilds.alert_channels():
        if channel.topic_id is not None:
            continue
        noticed = await store.guilds.noticed(channel.channel_id)
        for feed_id in await store.guilds.guild_feed_ids(channel.guild_id):
            feed = await store.feeds.get(feed_id)
            status = feed_status(feed)
            previous = noticed.get(feed.id)
            if status == (previous or "ok"):
                continue
            notices.append(FeedNotice(channel, feed, status, previous))
    return notices
