"""HTTP for feeds, politely: conditional GET, a real User-Agent, bounded time, size and redirects,
Retry-After honoured, at most N requests at once in all and two per host."""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from planwatch import PROJECT_URL, __version__
from planwatch.config import Settings
from planwatch.ingest.errors import FetchError, RefusedAddressError, ShuttingDown
from planwatch.ingest.netguard import ALLOW_HINT, GuardedResolver, literal_refusal

USER_AGENT = f"Planwatch/{__version__} (+{PROJECT_URL})"
ACCEPT = "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # where the body came from, after redirects
    status: int
    body: bytes  # empty on 304
    content_type: str | None
    etag: str | None
    last_modified: str | None
    max_age: timedelta | None  # Cache-Control max-age, a hint for the next poll
    permanent_url: str | None  # set when every redirect on the way was permanent

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def body_hash(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


# Server-given delays are believed up to a year; beyond that they are nonsense (or hostile).
MAX_HINT_SECONDS = 366 * 24 * 3600
_SECONDS = re.compile(r"[0-9]{1,12}")


def seconds_hint(value: str | None) -> timedelta | None:
    """A delay in whole seconds as servers write them; None unless plain ASCII digits. Clamped."""
    if value is None or not _SECONDS.fullmatch(value.strip()):
        return None
    return timedelta(seconds=min(int(value.strip()), MAX_HINT_SECONDS))


def clean_header(value: str | None) -> str | None:
    """Header text as something storable: undecodable bytes (surrogates) replaced."""
    if value is None:
        return None
    return value.encode("utf-8", "replace").decode("utf-8")


def validator(value: str | None) -> str | None:
    """ETag / Last-Modified are ASCII by definition; anything else is not sent back, nor stored."""
    if value is None or not value.isascii() or len(value) > 512:
        return None
    return value


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    seconds = seconds_hint(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return min(max(when - now, timedelta(0)), timedelta(seconds=MAX_HINT_SECONDS))
    except OverflowError:
        return None


def _max_age(cache_control: str | None) -> timedelta | None:
    for directive in (cache_control or "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age":
            return seconds_hint(value)
    return None


class Fetcher:
    def __init__(self, settings: Settings, *, resolver: AbstractResolver | None = None) -> None:
        """`resolver` replaces the system resolver (the guard still wraps it unless private feeds are allowed)."""
        self.settings = settings
        self._resolver = resolver
        self.stopping = False
        self._session: aiohttp.ClientSession | None = None
        self._global = asyncio.Semaphore(settings.poll_concurrency)
        self._per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(settings.poll_per_host))

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.settings.poll_concurrency,
                limit_per_host=self.settings.poll_per_host,
                resolver=self._resolver if self.settings.allow_private_feeds else GuardedResolver(self._resolver),
                ttl_dns_cache=300,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=self.settings.connect_timeout_seconds,
                    sock_read=self.settings.fetch_timeout_seconds,
                ),
                headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """One feed fetch under the global and per-host bounds, all of it within the timeout."""
        host = (URL(url).host or "").lower()
        # Per host first: a task waiting for a busy host must not hold one of the global slots.
        async with self._per_host[host], self._global:
            if self.stopping:
                raise ShuttingDown
            try:
                async with asyncio.timeout(self.settings.fetch_timeout_seconds):
                    return await self._fetch(url, etag, last_modified)
            except TimeoutError:
                raise FetchError(f"timed out after {self.settings.fetch_timeout_seconds:g} s") from None

    async def _fetch(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        session = self._client()
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        permanent: str | None = None
        all_permanent = True
        visited = {url}
        for _hop in range(self.settings.max_redirects + 1):
            self._check_literal(current)
            try:
                async with session.get(current, headers=headers, allow_redirects=False) as resp:
                    if resp.status in _REDIRECTS and "Location" in resp.headers:
                        target = urljoin(current, resp.headers["Location"])
                        if not target.lower().startswith(("http://", "https://")):
                            raise FetchError(f"redirected to a non-web URL {target!r}", status=resp.status)
                        if target in visited:
                            raise FetchError(f"redirect loop at {target}", status=resp.status)
                        visited.add(target)
                        all_permanent = all_permanent and resp.status in _PERMANENT
                        permanent = target if all_permanent else None
                        current = target
                        continue
                    return await self._finish(resp, current, permanent)
            except FetchError:
                raise
            except RefusedAddressError:
                raise
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, RefusedAddressError):
                    raise exc.os_error from None
                raise FetchError(f"cannot connect to {exc.host}:{exc.port}: {exc.os_error.strerror or exc.os_error}") from None
            except aiohttp.TooManyRedirects:
                raise FetchError("too many redirects") from None
            except aiohttp.ClientPayloadError as exc:
                raise FetchError(f"broken response body: {exc}") from None
            except aiohttp.ClientResponseError as exc:
                raise FetchError(f"bad HTTP response: {exc.message}", status=exc.status) from None
            except aiohttp.ClientError as exc:
                raise FetchError(f"HTTP error: {exc.__class__.__name__}: {exc}") from None
        raise FetchError(f"too many redirects (more than {self.settings.max_redirects})")

    def _check_literal(self, url: str) -> None:
        if self.settings.allow_private_feeds:
            return
        host = URL(url).host or ""
        refusal = literal_refusal(host)
        if refusal:
            raise RefusedAddressError(f"refused: {refusal}; {ALLOW_HINT}")

    async def _finish(self, resp: aiohttp.ClientResponse, url: str, permanent: str | None) -> FetchResult:
        now = datetime.now(UTC)
        status = resp.status
        if status == 304:
            body = b""
        elif status in (429, 503):
            retry = parse_retry_after(resp.headers.get("Retry-After"), now)
            hint = f"; server asks to retry in {int(retry.total_seconds())} s" if retry is not None else ""
            what = "rate limited" if status == 429 else "service unavailable"
            raise FetchError(f"HTTP {status} ({what}){hint}", status=status, retry_after=retry)
        elif status == 410:
            raise FetchError("HTTP 410 Gone: the feed was removed; paused", status=status, gone=True)
        elif status >= 400:
            raise FetchError(f"HTTP {status} {clean_header(resp.reason) or ''}".strip()[:200], status=status)
        elif status != 200:
            raise FetchError(f"unexpected HTTP {status} {clean_header(resp.reason) or ''}".strip()[:200], status=status)
        else:
            body = await self._read_capped(resp)
        return FetchResult(
            url=url,
            status=status,
            body=body,
            content_type=clean_header(resp.headers.get("Content-Type")),
            etag=validator(resp.headers.get("ETag")),
            last_modified=validator(resp.headers.get("Last-Modified")),
            max_age=_max_age(resp.headers.get("Cache-Control")),
            permanent_url=permanent,
        )

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        cap = self.settings.max_body_bytes
        declared = resp.content_length
        if declared is not None and declared > cap and not resp.headers.get("Content-Encoding"):
            raise FetchError(f"response too large: {declared} bytes declared, limit {cap}", status=resp.status)
        parts: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > cap:
                raise FetchError(f"response too large: over {cap} bytes (after decompression)", status=resp.status)
            parts.append(chunk)
        return b"".join(parts)
