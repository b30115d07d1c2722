"""Bytes to a feedparser result, and the judgement of whether it is a feed at all.

feedparser's own HTML sanitizer and relative-URI rewriting are turned off: normalize turns every
field into plain text anyway, and skipping them makes parsing about a third faster."""

from __future__ import annotations

from typing import Any

import feedparser

from planwatch.ingest.errors import NotAFeedError

_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body")


def parse_bytes(body: bytes, *, content_type: str | None, url: str) -> Any:
    """feedparser.parse with the HTTP context it uses for encoding detection; raises NotAFeedError."""
    if not body.strip():
        raise NotAFeedError("not a feed: the response body is empty")
    if body.lstrip()[:1] == b"{" and b'"version"' in body[:2048] and b"jsonfeed" in body[:2048]:
        raise NotAFeedError("not a feed Planwatch reads: JSON Feed is not supported yet; use the site's RSS or Atom feed")
    # Without a Content-Type, feedparser would apply its rule for header-less HTTP responses (read as
    # ISO-8859-1, flag as malformed) whenever any header is given; a charset-less XML type instead lets
    # the document's BOM and XML declaration decide, as they should.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    result = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    if result.get("version") or result.entries:
        return result
    head = body[:1024].lstrip().lower()
    if (content_type or "").lower().startswith("text/html") or any(m in head for m in _HTML_MARKERS):
        raise NotAFeedError("not a feed: the server sent an HTML page (is the URL the site, not its feed?)")
    if result.get("bozo"):
        reason = str(result.get("bozo_exception") or "unreadable XML").strip()
        raise NotAFeedError(f"not a feed: {reason[:200]}")
    raise NotAFeedError("not a feed: no RSS, Atom or RDF root element")
