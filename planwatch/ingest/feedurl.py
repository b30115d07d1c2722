"""Feed URLs as operators and moderators type them: one spelling per feed, refused when unsafe to keep.

A feed URL goes into HTTP requests, feed lists, OPML exports and log lines, and is compared with the
feeds already watched. So it may hold no control or format characters and no spaces (a CR LF would
reach a request or a log line; a bidi override would make it read as another address), no user name or
password (those would be printed wherever the feed is shown), and it is kept in one spelling:

- scheme and host are case-insensitive (RFC 3986 6.2.2.1), the path and query are not: servers may
  serve /Feed and /feed differently, so only scheme and host are lower-cased;
- an international host is stored as its punycode A-label (UTS 46 mapping, as browsers do), so the
  Unicode and the xn-- spelling are one feed, and full-width digits cannot hide an address;
- a trailing dot, a default port and the fragment (never sent to the server) are dropped; non-ASCII
  characters in path and query are percent-encoded as UTF-8 and percent escapes are upper-cased.

Tracking parameters stay: unlike an article link's, a feed's query often selects the feed (?rss=1)."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

import idna

from planwatch.errors import UsageError
from planwatch.ingest.urls import redact_credentials

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ASCII_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*")
_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))  # printable ASCII stays as typed; "%" keeps escapes
_ESCAPE = re.compile(r"%([0-9a-fA-F]{2})")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def shown(url: str, limit: int = 300) -> str:
    """A URL as it may be printed on one line: credentials masked, invisible characters spelled out."""
    text = redact_credentials(url[:limit])
    visible = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return visible + ("…" if len(url) > limit else "")


def _unsafe(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in _UNSAFE_CATEGORIES


def _host(hostname: str, url: str) -> str:
    if ":" in hostname:  # an IPv6 literal: one spelling of the address
        try:
            return f"[{ipaddress.IPv6Address(hostname).compressed}]"
        except ValueError:
            raise UsageError(f"feed URL has an invalid IPv6 address: '{shown(url)}'") from None
    host = hostname.rstrip(".")
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii").rstrip(".")
        except idna.IDNAError as exc:
            raise UsageError(f"feed URL has a host that is not a valid domain name ({exc}): '{shown(url)}'") from None
    if not _ASCII_HOST.fullmatch(host) or len(host) > 253:
        raise UsageError(f"feed URL has a host that is not a valid domain name: '{shown(url)}'")
    return host


def canonical_feed_url(raw: str) -> str:
    """The one spelling a feed is stored under, or UsageError saying what is wrong with the URL."""
    url = raw.strip()
    if not url:
        raise UsageError("the feed URL is empty")
    bad = next((c for c in url if _unsafe(c)), None)
    if bad is not None:
        if bad == " ":
            raise UsageError(f"feed URL contains a space: '{shown(url)}' (in a path or query, write it as %20)")
        raise UsageError(f"feed URL contains an invisible or control character (U+{ord(bad):04X}): '{shown(url)}'")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"invalid feed URL '{shown(url)}': {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UsageError(f"feed URL must start with http:// or https:// (got '{shown(url)}')")
    if "@" in parts.netloc:
        raise UsageError(
            f"feed URL '{shown(url)}' carries a user name or password: Planwatch does not keep credentials "
            "(they would show wherever feeds are listed); use the feed's URL without them"
        )
    if not parts.hostname or not parts.hostname.rstrip("."):
        raise UsageError(f"feed URL has no host: '{shown(url)}'")
    host = _host(parts.hostname, url)
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, _encoded(parts.path) or "/", _encoded(parts.query), ""))


def _encoded(part: str) -> str:
    return _ESCAPE.sub(lambda m: "%" + m[1].upper(), quote(part, safe=_SAFE))


def feed_key(url: str) -> str:
    """What two spellings of one feed share: the canonical form, or the URL itself for a stored row
    that cannot be made canonical (kept as it was saved before these rules)."""
    try:
        return canonical_feed_url(url)
    except UsageError:
        return url
