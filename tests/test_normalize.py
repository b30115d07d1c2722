"""Normalize: hostile HTML to plain text, canonical URLs, dates to UTC, outlet names."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from planwatch.ingest.dates import plausible, struct_to_utc
from planwatch.ingest.errors import NotAFeedError
from planwatch.ingest.htmltext import html_to_text
from planwatch.ingest.normalize import outlet_name, parse_feed
from planwatch.ingest.urls import canonical_url
from tests.conftest import rss

NOW = datetime(2025, 11, 21, 12, 0, tzinfo=UTC)


def test_html_to_text_drops_script_style_and_markup() -> None:
    """Script and style bodies vanish; tags go; entities decode; whitespace collapses."""
    fragment = (
        "<style>.x{color:red}</style><script>alert('x')</script>"
        "<p>Kyiv&nbsp;received  <b>signals</b>&mdash;officials&#39; words</p><p>Second</p>"
        '<img src=x onerror="alert(1)">'
    )
    assert html_to_text(fragment) == "Kyiv received signals—officials' words\nSecond"


def test_html_to_text_single_line_and_double_escaped_markup() -> None:
    """Titles become one line, and markup escaped twice (&lt;b&gt;) is still stripped."""
    assert html_to_text("Plan &lt;script&gt;alert(1)&lt;/script&gt; <b>leaked</b>\n now", single_line=True) == ("Plan leaked now")
    assert html_to_text("AT&amp;T &amp; co") == "AT&T & co"
    assert html_to_text(None) == ""
    assert html_to_text("a\x00b\x1fc") == "abc"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "HTTPS://WWW.Example.COM:443/World/Story?utm_source=rss&id=7&fbclid=x#top",
            "https://www.example.com/World/Story?id=7",
        ),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/a?gclid=1&utm_medium=feed", "http://example.com:8080/a"),
        ("/news/item-1", "https://outlet.example/news/item-1"),
        ("javascript:alert(1)", None),
        ("mailto:desk@example.com", None),
        ("http://[::1", None),
        ("", None),
    ],
)
def test_canonical_url(raw: str, expected: str | None) -> None:
    """One article, one key: tracking parameters, case, default ports and fragments do not count."""
    assert canonical_url(raw, "https://outlet.example/feed.xml") == expected


def test_dates_to_utc_and_implausible_ones_dropped() -> None:
    """Dates convert to aware UTC; missing, pre-web or more than a day ahead are not trusted."""
    parsed = time.strptime("2025-11-20 10:30:00", "%Y-%m-%d %H:%M:%S")
    assert struct_to_utc(parsed) == datetime(2025, 11, 20, 10, 30, tzinfo=UTC)
    assert struct_to_utc(None) is None
    assert plausible(NOW - timedelta(hours=3), NOW) == NOW - timedelta(hours=3)
    assert plausible(NOW + timedelta(hours=23), NOW) is not None
    assert plausible(NOW + timedelta(days=2), NOW) is None
    assert plausible(datetime(1970, 1, 1, tzinfo=UTC), NOW) is None


def test_outlet_name_from_title_or_domain() -> None:
    """The outlet is the feed title without its section suffix, else the site's domain."""
    assert outlet_name("BBC News - World", None, "https://feeds.bbci.co.uk/x") == "BBC News"
    assert outlet_name("The Guardian | Ukraine", None, "https://x.example/") == "The Guardian"
    assert outlet_name(None, "https://www.kyivindependent.com/", "https://x.example/rss") == "kyivindependent.com"
    assert outlet_name("", None, "https://feeds.example.org/rss") == "example.org"


def test_parse_feed_normalizes_entries_and_timezones() -> None:
    """A feed with offsets, relative links, HTML and tracking params comes out clean."""
    body = rss(
        [
            {
                "title": "Envoys &lt;b&gt;drafted&lt;/b&gt; a plan",
                "link": "/world/plan?utm_campaign=x",
                "guid": "a-1",
                "pubDate": "Thu, 20 Nov 2025 14:00:00 +0300",
                "description": (
                    "&lt;p&gt;First &lt;a href='/x'&gt;paragraph&lt;/a&gt;.&lt;/p&gt;&lt;script&gt;bad()&lt;/script&gt;"
                ),
                "author": "desk@outlet.example (Desk)",
            },
            {"title": "No date, future-proofed", "link": "https://outlet.example/b", "pubDate": "not a date"},
            {
                "title": "From the future",
                "link": "https://outlet.example/c",
                "pubDate": "Mon, 01 Jan 2035 00:00:00 GMT",
            },
            {"description": "neither title nor link nor guid"},
        ],
        link="https://outlet.example/",
    )
    parsed = parse_feed(body, content_type="application/rss+xml", url="https://outlet.example/feed.xml", now=NOW)
    assert parsed.meta.title == "Test Outlet"
    assert parsed.skipped == 0 or parsed.skipped == 1
    first = parsed.entries[0]
    assert first.title == "Envoys drafted a plan"
    assert first.url == "https://outlet.example/world/plan"
    assert first.text == "First paragraph."
    assert first.published_at == datetime(2025, 11, 20, 11, 0, tzinfo=UTC)
    assert parsed.entries[1].published_at is None
    assert parsed.entries[2].published_at is None


def test_not_a_feed() -> None:
    """An HTML page, an empty body and garbage are refused with a reason, not parsed into nothing."""
    with pytest.raises(NotAFeedError, match="HTML page"):
        parse_feed(b"<!doctype html><html><body>Hi</body></html>", content_type="text/html", url="http://x/", now=NOW)
    with pytest.raises(NotAFeedError, match="empty"):
        parse_feed(b"  \n", content_type="application/rss+xml", url="http://x/", now=NOW)
    with pytest.raises(NotAFeedError, match="not a feed"):
        parse_feed(b"\x00\x01\x02 binary", content_type="application/octet-stream", url="http://x/", now=NOW)


def test_undeclared_encoding_is_detected() -> None:
    """A windows-1251 feed with no charset anywhere is detected and decoded, with a warning that says so."""
    title = "Кремль опроверг сообщения о новом мирном плане для Украины"
    text = "Представитель Кремля заявил, что новых предложений по урегулированию не поступало. " * 3
    doc = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Вестник</title><item><title>{title}</title>'
        f"<link>https://v.example/1</link><description>{text}</description></item></channel></rss>"
    ).encode("cp1251")
    parsed = parse_feed(doc, content_type=None, url="https://v.example/rss", now=NOW)
    assert parsed.meta.title == "Вестник"
    assert parsed.entries[0].title == title
    assert parsed.warning is not None and "windows-1251" in parsed.warning.lower()


def test_non_english_day_names_still_give_the_date() -> None:
    """'mer, 16 nov 2022 00:38:15 +0100' (Italian weekday) is read, not replaced by first-seen time."""
    body = rss([{"title": "Notizia", "link": "https://i.example/1", "pubDate": "mer, 16 nov 2022 00:38:15 +0100"}])
    parsed = parse_feed(body, content_type="application/rss+xml", url="https://i.example/rss", now=NOW)
    assert parsed.entries[0].published_at == datetime(2022, 11, 15, 23, 38, 15, tzinfo=UTC)


def test_json_feed_gets_a_clear_refusal() -> None:
    """JSON Feed is named in the error instead of an XML parser complaint."""
    body = b'{"version": "https://jsonfeed.org/version/1.1", "title": "X", "items": []}'
    with pytest.raises(NotAFeedError, match="JSON Feed is not supported"):
        parse_feed(body, content_type="application/feed+json", url="https://j.example/feed.json", now=NOW)
