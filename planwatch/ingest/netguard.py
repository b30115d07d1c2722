"""Keeps moderator-supplied feed URLs away from the server's own network.

Checked twice: when a feed is added (a clear refusal), and at every connection, through the resolver
the HTTP client uses, so a redirect or a DNS answer that changes later cannot reach an internal
address either."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from planwatch.errors import PlanwatchError, UsageError
from planwatch.ingest.errors import RefusedAddressError

ALLOW_HINT = "set PLANWATCH_ALLOW_PRIVATE_FEEDS=1 to allow it"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# getaddrinfo's answers for a name that does not exist (EAI_NODATA is not defined everywhere).
_NO_SUCH_NAME = frozenset(e for e in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)) if e is not None)


def address_kind(ip: IPAddress) -> str | None:
    """Why an address is off-limits ('loopback', 'private', ...), or None if it is public."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return address_kind(ip.ipv4_mapped)
    for kind, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),  # before private: Python counts 169.254/16 as private too
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return kind
    if not ip.is_global:
        return "non-public"
    return None


def check_scheme_and_host(url: str) -> str:
    """Only absolute http(s) URLs with a host; returns the host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise UsageError(f"invalid feed URL {url!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UsageError(f"feed URL must start with http:// or https:// (got {url!r})")
    if not parts.hostname:
        raise UsageError(f"feed URL has no host: {url!r}")
    return parts.hostname


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Legacy IPv4 spellings that connect() accepts but ipaddress does not: 2130706433, 127.1, 0x7f.1,
    017700000001. An HTTP client may skip name resolution for them, so they are judged here."""
    if not host or not all(c in "0123456789abcdefxABCDEFX." for c in host) or not host[0].isdigit():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def literal_refusal(host: str) -> str | None:
    """Why a host written as an address (or as localhost) is off-limits; None if it is not one.
    A trailing dot ("127.0.0.1.") names the same host, and some resolvers and clients accept it."""
    host = host.strip("[]").rstrip(".")
    try:
        ip: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        if host.lower().rstrip(".") == "localhost" or host.lower().endswith(".localhost"):
            return f"{host} is a loopback name"
        ip = _numeric_ipv4(host)
    if ip is None:
        return None
    kind = address_kind(ip)
    return f"{host} is a {kind} address" if kind else None


async def check_feed_url(url: str, *, allow_private: bool, resolve: bool = True, resolve_timeout: float = 3.0) -> None:
    """Refuse, with the reason, a URL that is not http(s) or that reaches a non-public address.

    With the guard on, a name must resolve now, to public addresses only: a name that does not resolve
    would be stored and fail at every poll. A lookup that fails for a reason other than "no such name"
    (a timeout, a resolver that is down) is a failure to try again, not a bad URL. Bulk imports pass
    resolve=False: hundreds of lookups would tie up the threads that name resolution shares with
    fetching, so an import checks scheme, literal addresses and their trailing-dot spellings only, and
    the connection-time check (GuardedResolver) refuses private names when the feed is fetched."""
    host = check_scheme_and_host(url)
    if allow_private:
        return
    refusal = literal_refusal(host)
    if refusal:
        raise UsageError(f"refused feed URL {url}: {refusal}; {ALLOW_HINT}")
    if not resolve:
        return
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM), resolve_timeout
        )
    except socket.gaierror as exc:
        if exc.errno in _NO_SUCH_NAME:
            raise UsageError(f"refused feed URL {url}: {host} does not resolve to any address; check the spelling") from None
        raise PlanwatchError(f"cannot check feed URL {url}: looking up {host} failed ({exc.strerror}); try again later") from None
    except (OSError, TimeoutError):
        raise PlanwatchError(
            f"cannot check feed URL {url}: looking up {host} took over {resolve_timeout:g} s; try again later"
        ) from None
    if not infos:
        raise UsageError(f"refused feed URL {url}: {host} does not resolve to any address; check the spelling")
    for info in infos:
        kind = address_kind(ipaddress.ip_address(info[4][0]))
        if kind:
            raise UsageError(f"refused feed URL {url}: {host} resolves to {info[4][0]}, a {kind} address; {ALLOW_HINT}")


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that drops the connection attempt if any address is not public."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self.inner = inner or DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        for result in results:
            kind = address_kind(ipaddress.ip_address(result["host"]))
            if kind:
                raise RefusedAddressError(f"refused: {host} resolves to {result['host']}, a {kind} address; {ALLOW_HINT}")
        return results

    async def close(self) -> None:
        await self.inner.close()
