"""Stored reports, newest first, for `planwatch articles` (and later /latest)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from planwatch.models import Report
from planwatch.services.topics import GLOBAL_SCOPE
from planwatch.store import Store
from planwatch.timeutil import to_db, utcnow


async def list_articles(
    store: Store,
    *,
    topic: str | None = None,
    since: timedelta | None = None,
    limit: int = 200,
    scope: str = GLOBAL_SCOPE,
) -> list[Report]:
    topic_id = (await store.topics.get(topic, scope)).id if topic else None
    start = utcnow() - since if since else None
    return await store.reports.recent(topic_id=topic_id, since=start, limit=limit)


def article_json(report: Report) -> dict[str, Any]:
    return {
        "id": report.id,
        "url": report.url,
        "title": report.title,
        "text": report.text,
        "outlet": report.outlet,
        "author": report.author,
        "language": report.language,
        "published_at": to_db(report.published_at),
        "published_estimated": report.published_estimated,
        "first_seen_at": to_db(report.first_seen_at),
        "updated_at": to_db(report.updated_at) if report.updated_at else None,
        "topics": report.topics,
    }
