"""A loopback HTTP server for the sample feeds. Their dates are tokens (@@AGO_RFC822:30@@ = 30 hours
ago) filled in at request time, so the demo story is always fresh."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from aiohttp import web

FEEDS_DIR = Path(__file__).resolve().parent / "feeds"
_TOKEN = re.compile(rb"@@AGO_(RFC822|RFC3339):(\d+)@@")


def render_feed(raw: bytes, now: datetime) -> bytes:
    def replace(match: re.Match[bytes]) -> bytes:
        when = (now - timedelta(hours=int(match[2]))).replace(microsecond=0)
        text = format_datetime(when, usegmt=True) if match[1] == b"RFC822" else when.isoformat().replace("+00:00", "Z")
        return text.encode("ascii")

    return _TOKEN.sub(replace, raw)


def sample_feed_names(folder: Path = FEEDS_DIR) -> list[str]:
    return sorted(p.name for p in folder.glob("*.xml"))


class DemoServer:
    def __init__(self, folder: Path = FEEDS_DIR, now: datetime | None = None) -> None:
        self.folder = folder
        self.now = now
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def _feed(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        path = self.folder / name
        if "/" in name or not name.endswith(".xml") or not path.is_file():
            raise web.HTTPNotFound()
        body = render_feed(path.read_bytes(), self.now or datetime.now(UTC))
        content_type = "application/atom+xml" if b"<feed" in body[:400] else "application/rss+xml"
        return web.Response(body=body, content_type=content_type)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/feeds/{name}", self._feed)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    def url(self, name: str) -> str:
        return f"{self.base_url}/feeds/{name}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
