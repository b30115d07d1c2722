"""A feedparser result to clean entries: plain text, canonical absolute URLs, UTC dates, outlet."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from planwatch.ingest.dates import parse_loose, plausible, struct_to_utc
from planwatch.ingest.htmltext import collapse, html_to_text
from planwatch.ingest.parse import parse_bytes
from planwatch.ingest.urls import canonical_url, outlet_from_host
from planwatch.models import Entry, FeedMeta, ParsedFeed

MAX_TITLE = 1_000
MAX_TEXT = 100_000
MAX_SHORT = 300
# " - World news", " | Politics", ": Ukraine" after an outlet's name in a feed title.
_TITLE_SUFFIX = re.compile(r"\s+(?:[-|>»:–—]|::)\s+.*$")


def _plain(value: Any, limit: int, *, single_line: bool = False) -> str:
    if not isinstance(value, str):
        return ""
    return html_to_text(value, single_line=single_line)[:limit]


def _short(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = collapse(value).replace("\n", " ")[:MAX_SHORT]
    return text or None


def outlet_name(feed_title: str | None, site_url: str | None, feed_url: str) -> str:
    """The outlet as a reader names it: the feed's title without its section suffix, else the domain."""
    if feed_title:
        name = _TITLE_SUFFIX.sub("", feed_title).strip()
        if name:
            return name[:MAX_SHORT]
    return outlet_from_host(site_url) or outlet_from_host(feed_url) or feed_url


def _body(entry: Mapping[str, Any]) -> str:
    """The fullest text the item carries: content:encoded / Atom content, else summary."""
    best = ""
    for content in entry.get("content") or ():
        value = content.get("value") if isinstance(content, Mapping) else None
        if isinstance(value, str) and len(value) > len(best):
            best = value
    summary = entry.get("summary")
    if isinstance(summary, str) and len(summary) > len(best):
        best = summary
    return _plain(best, MAX_TEXT)


def _link(entry: Mapping[str, Any], base: str) -> str | None:
    url = canonical_url(entry.get("link"), base)
    if url:
        return url
    for link in entry.get("links") or ():
        if isinstance(link, Mapping) and link.get("rel", "alternate") == "alternate":
            url = canonical_url(link.get("href"), base)
            if url:
                return url
    guid = entry.get("id")
    if isinstance(guid, str) and guid.startswith(("http://", "https://")):
        return canonical_url(guid)
    return None


def normalize_entry(entry: Mapping[str, Any], *, base: str, language: str | None, now: datetime) -> Entry | None:
    url = _link(entry, base)
    guid = _short(entry.get("id"))
    title = _plain(entry.get("title"), MAX_TITLE, single_line=True)
    text = _body(entry)
    if not title:
        # Title-less items (some RSS 0.9x, microblogs): the start of the text stands in.
        title = text.split("\n", 1)[0][:200]
    if not title:
        return None  # no link or guid is fine: dedup then knows the item by its content
    published = struct_to_utc(
        entry.get("published_parsed") or entry.get("updated_parsed") or entry.get("created_parsed")
    ) or parse_loose(entry.get("published") or entry.get("updated"))
    published = plausible(published, now)
    source = entry.get("source")
    outlet = _short(source.get("title")) if isinstance(source, Mapping) else None
    return Entry(
        guid=guid,
        url=url,
        title=title,
        text=text,
        author=_short(entry.get("author")),
        language=_short(entry.get("language")) or language,
        published_at=published,
        outlet=outlet,
    )


def normalize(result: Any, *, feed_url: str, now: datetime) -> ParsedFeed:
    feed = result.get("feed") or {}
    title = _short(html_to_text(feed.get("title"), single_line=True)) if feed.get("title") else None
    site_url = canonical_url(feed.get("link"), feed_url)
    language = _short(feed.get("language"))
    language = language.lower() if language else None
    ttl = feed.get("ttl")
    ttl_minutes = min(int(ttl), 7 * 24 * 60) if isinstance(ttl, str) and re.fullmatch(r"[0-9]{1,9}", ttl.strip()) else None
    base = site_url or feed_url
    entries: list[Entry] = []
    skipped = 0
    for raw in result.get("entries") or ():
        try:
            item = normalize_entry(raw, base=base, language=language, now=now)
        except (ValueError, OverflowError, TypeError, AttributeError):
            item = None  # one malformed item is skipped; the rest of the feed is stored
        if item is None:
            skipped += 1
        else:
            entries.append(item)
    warning = None
    if result.get("bozo"):
        warning = f"feed is not well-formed ({str(result.get('bozo_exception'))[:160]}); read what could be read"
    return ParsedFeed(FeedMeta(title, site_url, language, ttl_minutes), entries, skipped, warning)


def parse_feed(body: bytes, *, content_type: str | None, url: str, now: datetime) -> ParsedFeed:
    """Parse and normalize in one call: a plain function on bytes, so it can run in a worker."""
    return normalize(parse_bytes(body, content_type=content_type, url=url), feed_url=url, now=now)
