"""Signed tokens for the links in mail: confirm, unsubscribe, view in browser. HMAC-SHA256 with the
operator's secret; a token names what it is for and, where that fits, when it stops working. A token
that is tampered with, expired, or for another purpose is refused, and nothing changes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from planwatch.errors import UsageError
from planwatch.timeutil import utcnow

if TYPE_CHECKING:
    from planwatch.config import Settings
    from planwatch.store import Store

SECRET_KEY = "secret.signing"  # noqa: S105 - the name of a service_state row, not a secret


class BadToken(UsageError):
    """The link is damaged, expired or not meant for this page."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Token:
    purpose: str  # "confirm" | "unsubscribe" | "view"
    subscriber_id: int
    extra: str = ""  # e.g. the digest date for "view"


class Signer:
    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the signing secret must be at least 16 characters")
        self.key = hashlib.sha256(f"planwatch-links:{secret}".encode()).digest()

    def sign(self, token: Token, *, valid_for: timedelta | None = None, now: datetime | None = None) -> str:
        body: dict[str, Any] = {"p": token.purpose, "s": token.subscriber_id}
        if token.extra:
            body["x"] = token.extra
        if valid_for is not None:
            body["e"] = int(((now or utcnow()) + valid_for).timestamp())
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        mac = _b64(hmac.new(self.key, payload.encode(), hashlib.sha256).digest()[:18])
        return f"{payload}.{mac}"

    def verify(self, text: str, purpose: str, *, now: datetime | None = None) -> Token:
        payload, _, mac = text.partition(".")
        if not payload or not mac or len(text) > 512:
            raise BadToken("this link is incomplete: copy the whole link from the mail")
        expected = _b64(hmac.new(self.key, payload.encode(), hashlib.sha256).digest()[:18])
        if not hmac.compare_digest(expected, mac):
            raise BadToken("this link is not valid: it was changed or belongs to another Planwatch")
        try:
            body = json.loads(_unb64(payload))
        except (ValueError, UnicodeDecodeError):
            raise BadToken("this link is not valid") from None
        if body.get("p") != purpose or not isinstance(body.get("s"), int):
            raise BadToken("this link is not meant for this page")
        expires = body.get("e")
        if isinstance(expires, int) and (now or utcnow()).timestamp() > expires:
            raise BadToken("this link has expired")
        return Token(purpose, body["s"], str(body.get("x", "")))


async def signer_for(store: Store, settings: Settings) -> Signer:
    """The operator's PLANWATCH_SECRET, else one made once and kept in the database, so that links in
    mail already sent keep working across restarts."""
    if settings.secret:
        return Signer(settings.secret)
    stored = await store.state.get(SECRET_KEY)
    if stored is None:
        stored = await store.state.set_if_absent(SECRET_KEY, secrets.token_urlsafe(32), utcnow())
    return Signer(stored)
