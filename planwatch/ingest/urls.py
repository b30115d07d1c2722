"""Canonical URLs: one article, one key, whatever tracking decorations a feed adds."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that only say where a click came from; the article is the same without them.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid", "mc_cid",
        "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "ref_src", "ocid", "cmpid", "icid",
        "smid", "smtyp", "sr_share", "ito", "spm", "at_medium", "at_campaign", "at_custom1",
        "at_custom2", "at_custom3", "at_custom4", "rss", "cmp", "ns_mchannel", "ns_source",
        "ns_campaign", "ns_linkname", "ns_fee",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "oly_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Substrings of which at least one appears in any query that carries a tracking parameter.
_TRACKING_HINTS = tuple({p[:3] for p in TRACKING_PARAMS} | set(_TRACKING_PREFIXES))


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES)


# Already canonical (lower-case http(s) host, no port, no fragment): most feed links. Skips urlsplit.
_SIMPLE = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*(/[^?#\s]*)?(\?[^#\s]*)?")


def _might_track(query: str) -> bool:
    lowered = query.lower()
    return any(name in lowered for name in _TRACKING_HINTS)


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """Absolute http(s) URL with lower-case scheme and host, no default port, no fragment, no
    tracking parameters; None for anything that is not a web link (mailto:, javascript:, garbage)."""
    if not url:
        return None
    url = url.strip()
    simple = _SIMPLE.fullmatch(url)
    if simple and not (simple[2] and _might_track(simple[2])):
        return url if simple[1] else url + "/"
    if base and not url.startswith(("http://", "https://")):
        try:
            url = urljoin(base, url)
        except ValueError:
            return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = parts.query
    if query and _might_track(query):
        pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _is_tracking(k)]
        query = urlencode(pairs, doseq=True)
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, query, ""))


# A user name, a password or both before a URL's host, anywhere in a line of text.
_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<user>[^/?#@\s:]*)(?P<password>:[^/@\s]*)?@", re.I)


def redact_credentials(text: str) -> str:
    """Text with the password (or a lone user name, often a token) of every URL in it masked: for
    feed URLs stored before Planwatch refused credentials, wherever a feed is printed."""
    if "@" not in text:
        return text
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@" if m["password"] else f"{m['scheme']}***@", text)


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def outlet_from_host(url: str | None) -> str | None:
    host = host_of(url)
    if not host:
        return None
    for prefix in ("www.", "feeds.", "rss.", "feed.", "m."):
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix) :]
    return host
