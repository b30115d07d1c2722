"""What the public subscribe form checks before a request can cost a mail: where the POST came from
(Origin, else Referer, against PLANWATCH_PUBLIC_URL), a signed form token bound to the client address
and to a time, and who the client is (the connection's peer; X-Forwarded-For only from a proxy the
operator named).

Why both an origin check and a token: a page on another site can make its visitors' browsers post the
form, each from its own address, which no per-address limit stops. Browsers name that site in
Origin, so it is refused. A request with neither Origin nor Referer (old browsers, privacy proxies, and
every script) is not refused for that alone: the token, which the page hands out and which only works
from the address that fetched it, decides. Scripts can fetch a token too; the rate limits stop them."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from urllib.parse import urlsplit

from planwatch.tokens import BadToken, Signer, Token

TOKEN_FIELD = "form_token"  # noqa: S105 - the name of a form field, not a secret
HONEYPOT_FIELD = "website"  # a field bots like to fill; people never see it
TOKEN_PURPOSE = "subscribe-form"  # noqa: S105 - what a token is for, not a secret
# Long enough to fill in the form after a break; a refused token re-shows the form, filled in, with a
# fresh one, so an expired page costs a person one more click.
TOKEN_LIFETIME = timedelta(hours=2)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """scheme://host[:port] as browsers serialise an origin (lower case, default port left out, an
    international name in punycode); None for anything that is not an http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else "")


class OriginCheck(Enum):
    SAME = "same"  # Origin (or, lacking it, Referer) is the public URL's origin
    FOREIGN = "foreign"  # another site, an unreadable value, or "null" (sandboxed or hidden origins)
    ABSENT = "absent"  # neither header: the form token decides


@dataclass(frozen=True, slots=True)
class OriginVerdict:
    check: OriginCheck
    seen: str = ""  # the header value that decided, for the log


def check_origin(origins: list[str], referers: list[str], public_origin: str) -> OriginVerdict:
    """`origins`/`referers`: every value of those headers (more than one is not a browser: refused)."""
    for values in (origins, referers):
        if not values:
            continue
        seen = values[0][:200]
        same = len(values) == 1 and origin_of(values[0]) == public_origin
        return OriginVerdict(OriginCheck.SAME if same else OriginCheck.FOREIGN, seen)
    return OriginVerdict(OriginCheck.ABSENT)


class ClientResolver:
    """The client's address as the limits count it. Behind a reverse proxy every peer is the proxy: the
    operator names it (PLANWATCH_TRUSTED_PROXIES) and X-Forwarded-For is read from the right, past the
    trusted hops, to the first address a trusted hop saw; entries further left are the client's own
    claims and are ignored. Without trusted proxies X-Forwarded-For is never read."""

    def __init__(self, trusted: Iterable[str]) -> None:
        self.trusted = [ipaddress.ip_network(net, strict=False) for net in trusted]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    def address(self, peer: str | None, forwarded_for: list[str]) -> str:
        client = peer or "unknown"
        if not self.trusted or not self._is_trusted(client):
            return client
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        for hop in reversed(hops):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                return client  # a garbled hop: count the last address that a trusted proxy vouched for
            client = hop
            if not self._is_trusted(hop):
                return client
        return client

    def key(self, peer: str | None, forwarded_for: list[str]) -> str:
        """What one client is for the limits: its IPv4 address, or the /64 of an IPv6 one (a single
        subscriber line gets a whole /64, and would otherwise be four billion billion clients)."""
        address = self.address(peer, forwarded_for)
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return address[:64]
        if isinstance(ip, ipaddress.IPv6Address):
            if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is the IPv4 client seen by a dual-stack socket
                return str(ip.ipv4_mapped)
            return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
        return str(ip)


def _bound_to(client: str) -> str:
    """The client key as the token carries it: hashed, so the page does not spell out the address."""
    return hashlib.blake2s(client.encode(), digest_size=9).hexdigest()


def form_token(signer: Signer, client: str, now: datetime) -> str:
    return signer.sign(Token(TOKEN_PURPOSE, 0, _bound_to(client)), valid_for=TOKEN_LIFETIME, now=now)


def check_form_token(signer: Signer, text: str, client: str, now: datetime) -> None:
    """BadToken unless `text` is a form token this Planwatch made, within its lifetime, for `client`."""
    if not text:
        raise BadToken("the form token is missing")
    token = signer.verify(text, TOKEN_PURPOSE, now=now)
    if token.extra != _bound_to(client):
        raise BadToken("the form token was made for another address")
