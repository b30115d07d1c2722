"""The web endpoints that mail links to, through aiohttp's test client against the real app and a real
store: confirm, the unsubscribe page (a GET changes nothing), RFC 8058 one-click, view in browser, the
subscribe form, /healthz; bad, tampered, expired and misdirected tokens get a 400 page and change nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta

import pytest
from aiohttp import ClientResponse, ClientSession, web
from aiohttp.test_utils import TestClient, TestServer

from digests.jobs import deliver
from digests.web import make_app
from planwatch.config import Settings
from planwatch.services.subscriptions import check_request, subscribe
from planwatch.services.topics import GLOBAL_SCOPE
from planwatch.store import Store
from planwatch.store.subscribers import Subscriber
from planwatch.timeutil import utcnow
from planwatch.tokens import Signer, Token, signer_for
from tests.smtp_server import SmtpServer
from tests.test_digests import HOSTILE, PUBLIC, TOPIC, Markup, add_reports, outbox, this_hour

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
Client = TestClient[web.Request, web.Application]


@dataclass
class Site:
    store: Store
    settings: Settings
    signer: Signer
    client: Client

    def token(self, purpose: str, subscriber: Subscriber, extra: str = "", *, valid_for: timedelta | None = None) -> str:
        return self.signer.sign(Token(purpose, subscriber.id, extra), valid_for=valid_for)

    async def status(self, subscriber: Subscriber) -> str:
        return (await self.store.subscribers.get(subscriber.id)).status


@pytest.fixture
async def site(store: Store, settings: Settings, smtp: SmtpServer) -> AsyncIterator[Site]:
    configured = settings.with_overrides(public_url=PUBLIC, smtp_url=smtp.url, mail_rate=1000.0)
    async with TestClient(TestServer(await make_app(store, configured))) as client:
        yield Site(store, configured, await signer_for(store, configured), client)


async def confirmed(store: Store, address: str, hour: int = 7) -> Subscriber:
    return (await subscribe(store, check_request(address, [TOPIC], hour, "UTC"), scope=GLOBAL_SCOPE, now=utcnow(),
                            confirmed=True)).subscriber  # fmt: skip


async def pending(store: Store, address: str, hours_ago: float = 0) -> Subscriber:
    request = check_request(address, [TOPIC], 7, "UTC")
    return (await subscribe(store, request, scope=GLOBAL_SCOPE, now=utcnow() - timedelta(hours=hours_ago))).subscriber


async def page(response: ClientResponse, status: int) -> str:
    """The response's HTML after checking its status, type and security headers."""
    body = await response.text()
    assert response.status == status, body
    assert response.content_type == "text/html"
    for name in SECURITY_HEADERS:
        assert response.headers.get(name), f"{name} missing"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return body


async def one_click(client: Client, path: str) -> ClientResponse:
    """RFC 8058: a POST with this body, no cookie; a redirect would not be followed by a mail provider."""
    return await client.post(path, data=b"List-Unsubscribe=One-Click", headers=FORM, allow_redirects=False)


def flipped(token: str, index: int) -> str:
    return token[:index] + ("B" if token[index] != "B" else "C") + token[index + 1 :]


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of the subscribe form (its signed form token), as a browser would send them."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


async def subscribe_via_form(
    client: Client | ClientSession, fields: Mapping[str, str], *, origin: str | None = PUBLIC, base: str = ""
) -> ClientResponse:
    """What a browser on the public site does: load the form, then post it with its token and Origin."""
    form = await client.get(f"{base}/subscribe")
    assert form.status == 200, await form.text()
    headers = {"Origin": origin} if origin is not None else {}
    return await client.post(f"{base}/subscribe", data={**hidden_fields(await form.text()), **fields}, headers=headers)


# --- confirm ------------------------------------------------------------------------------------------------
async def test_confirm_link_shows_a_button_and_the_post_confirms(site: Site) -> None:
    """A GET (a mail scanner, a preview) confirms nothing; the button's POST does, once."""
    subscriber = await pending(site.store, "new@example.com")
    token = site.token("confirm", subscriber, valid_for=timedelta(hours=48))
    body = await page(await site.client.get(f"/confirm/{token}"), 200)
    assert "new@example.com" in body and TOPIC in body and 'method="post"' in body
    assert await site.status(subscriber) == "pending"
    body = await page(await site.client.post(f"/confirm/{token}", allow_redirects=False), 200)
    assert await site.status(subscriber) == "confirmed"
    await page(await site.client.post(f"/confirm/{token}", allow_redirects=False), 200)
    await page(await site.client.get(f"/confirm/{token}"), 200)
    assert await site.status(subscriber) == "confirmed"


async def test_confirm_refuses_expired_links_and_stale_requests(site: Site) -> None:
    subscriber = await pending(site.store, "late@example.com")
    expired = site.signer.sign(Token("confirm", subscriber.id), valid_for=timedelta(hours=48), now=utcnow() - timedelta(hours=49))
    body = await page(await site.client.get(f"/confirm/{expired}"), 400)
    assert "expired" in body and "Nothing was changed" in body
    assert await site.status(subscriber) == "pending"

    # A link that is still valid for a request older than 48 h: refused as well.
    stale = await pending(site.store, "stale@example.com", hours_ago=49)
    body = await page(await site.client.post(f"/confirm/{site.token('confirm', stale, valid_for=timedelta(hours=48))}"), 400)
    assert "expired" in body
    assert await site.status(stale) == "pending"

    # An ended subscription is not revived by an old confirmation link.
    left = await confirmed(site.store, "left@example.com")
    await page(await one_click(site.client, f"/unsubscribe/{site.token('unsubscribe', left)}"), 200)
    await page(await site.client.post(f"/confirm/{site.token('confirm', left, valid_for=timedelta(hours=1))}"), 400)
    assert await site.status(left) == "unsubscribed"


# --- unsubscribe ----------------------------------------------------------------------------------------------
async def test_unsubscribe_get_shows_a_button_and_changes_nothing(site: Site) -> None:
    subscriber = await confirmed(site.store, "reader@example.com")
    path = f"/unsubscribe/{site.token('unsubscribe', subscriber, valid_for=timedelta(days=400))}"
    for _ in range(2):  # mail scanners fetch links, sometimes more than once
        body = await page(await site.client.get(path, allow_redirects=False), 200)
        markup = Markup(body)
        assert "form" in markup.tags and "button" in markup.tags
        assert ("method", "post") in [(k, (v or "").lower()) for k, v in markup.attributes]
        assert ("action", path) in markup.attributes
        assert "reader@example.com" in markup.text
    head = await site.client.head(path)
    assert head.status == 200
    assert await site.status(subscriber) == "confirmed"


async def test_one_click_post_unsubscribes_without_cookie_or_redirect(site: Site) -> None:
    subscriber = await confirmed(site.store, "leaver@example.com")
    path = f"/unsubscribe/{site.token('unsubscribe', subscriber, valid_for=timedelta(days=400))}"
    response = await one_click(site.client, path)
    body = await page(response, 200)
    assert not response.history and "Location" not in response.headers and "Set-Cookie" not in response.headers
    assert "leaver@example.com" in body
    assert await site.status(subscriber) == "unsubscribed"
    # Again (a retrying mail provider), and the page afterwards: no error, no form.
    await page(await one_click(site.client, path), 200)
    after = Markup(await page(await site.client.get(path), 200))
    assert "form" not in after.tags
    assert await site.status(subscriber) == "unsubscribed"


# --- view in browser ----------------------------------------------------------------------------------------------
async def test_view_in_browser_shows_that_days_digest(site: Site) -> None:
    _, day, hour, slot = this_hour()
    titles = [HOSTILE, "Umerov answers the 28-point plan for Ukraine"]
    await add_reports(site.store, "Wire One", titles, slot - timedelta(hours=2))
    subscriber = await confirmed(site.store, "viewer@example.com", hour=hour)
    token = site.token("view", subscriber, day.isoformat(), valid_for=timedelta(days=30))
    body = await page(await site.client.get(f"/digest/{token}"), 200)
    markup = Markup(body)
    assert "Umerov answers the 28-point plan for Ukraine" in markup.text
    assert "2 new reports from 1 outlet" in markup.text
    assert "script" not in markup.tags and "&lt;script&gt;" in body
    assert await site.status(subscriber) == "confirmed"
    bad_day = site.token("view", subscriber, "not-a-date", valid_for=timedelta(days=30))
    await page(await site.client.get(f"/digest/{bad_day}"), 400)


# --- bad tokens: a 400 page, nothing changed -----------------------------------------------------------------------
async def test_bad_tokens_get_a_400_page_and_change_nothing(site: Site) -> None:
    reader = await confirmed(site.store, "keeps@example.com")
    asked = await pending(site.store, "asks@example.com")
    unsubscribe = site.token("unsubscribe", reader, valid_for=timedelta(days=400))
    confirm = site.token("confirm", asked, valid_for=timedelta(hours=48))
    view = site.token("view", reader, utcnow().date().isoformat(), valid_for=timedelta(days=30))
    elsewhere = Signer("another planwatch's secret, not ours")
    cases = {
        "unsubscribe payload tampered": flipped(unsubscribe, 5),
        "unsubscribe signature tampered": flipped(unsubscribe, len(unsubscribe) - 3),
        "unsubscribe expired": site.token("unsubscribe", reader, valid_for=timedelta(seconds=-1)),
        "unsubscribe from another Planwatch": elsewhere.sign(Token("unsubscribe", reader.id), valid_for=timedelta(days=1)),
        "a view token used to unsubscribe": view,
        "a confirm token used to unsubscribe": site.token("confirm", reader, valid_for=timedelta(hours=48)),
        "truncated": unsubscribe.partition(".")[0],
        "garbage": "not-a-token.at-all",
    }
    reasons = {
        "unsubscribe payload tampered": "not valid", "unsubscribe signature tampered": "not valid",
        "unsubscribe expired": "expired", "unsubscribe from another Planwatch": "not valid",
        "a view token used to unsubscribe": "not meant for this page",
        "a confirm token used to unsubscribe": "not meant for this page",
        "truncated": "incomplete", "garbage": "not valid",
    }  # fmt: skip
    for name, token in cases.items():
        for method in ("GET", "POST"):
            path = f"/unsubscribe/{token}"
            response = await (one_click(site.client, path) if method == "POST" else site.client.get(path, allow_redirects=False))
            body = await page(response, 400)
            assert reasons[name] in body and "Nothing was changed" in body, (name, method, body)
    assert await site.status(reader) == "confirmed"

    for name, token in {
        "confirm tampered": flipped(confirm, 4),
        "confirm expired": site.signer.sign(Token("confirm", asked.id), valid_for=timedelta(hours=-1)),
        "an unsubscribe token used to confirm": site.token("unsubscribe", asked, valid_for=timedelta(days=400)),
    }.items():
        assert "Nothing was changed" in await page(await site.client.get(f"/confirm/{token}"), 400), name
    assert await site.status(asked) == "pending"

    for token in (flipped(view, 6), site.token("unsubscribe", reader, valid_for=timedelta(days=1)),
                  site.token("view", reader, utcnow().date().isoformat(), valid_for=timedelta(seconds=-1))):  # fmt: skip
        await page(await site.client.get(f"/digest/{token}"), 400)
    missing = site.signer.sign(Token("unsubscribe", 9999), valid_for=timedelta(days=1))
    await page(await one_click(site.client, f"/unsubscribe/{missing}"), 400)
    assert await site.status(reader) == "confirmed" and await site.status(asked) == "pending"


# --- the subscribe form -------------------------------------------------------------------------------------------
async def test_subscribe_form_queues_one_confirmation(site: Site, smtp: SmtpServer) -> None:
    form = Markup(await page(await site.client.get("/subscribe"), 200))
    assert "form" in form.tags and ("name", "email") in form.attributes

    fields = {"email": "web@example.com", "topics": TOPIC, "hour": "8", "timezone": "Europe/Kyiv"}
    body = await page(await subscribe_via_form(site.client, fields), 200)
    assert "inbox" in body.lower()
    found = await site.store.subscribers.find("web@example.com", GLOBAL_SCOPE)
    assert found is not None and (found.status, found.hour, found.timezone) == ("pending", 8, "Europe/Kyiv")
    again = await page(await subscribe_via_form(site.client, fields), 200)
    assert "already" in again.lower()
    assert [(r["kind"], r["status"]) for r in await outbox(site.store)] == [("confirm", "queued")]

    assert (await deliver(site.store, site.settings)).sent == 1
    (mail,) = smtp.handler.received
    assert mail.rcpt_tos == ["web@example.com"] and "List-Unsubscribe" not in mail.message


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"email": "not an address"}, "is not an email address"),
        ({"email": "x@example.com", "hour": "25"}, "hour must be between 0 and 23"),
        ({"email": "x@example.com", "hour": "soon"}, "hour must be a whole number"),
        ({"email": "x@example.com", "timezone": "Mars/Olympus"}, "is not a time zone"),
        ({"email": "x@example.com", "topics": "no-such-topic"}, "no-such-topic"),
    ],
)
async def test_subscribe_form_refuses_bad_requests(site: Site, fields: dict[str, str], reason: str) -> None:
    body = await page(await subscribe_via_form(site.client, fields), 400)
    assert reason in Markup(body).text
    assert ("value", fields["email"]) in Markup(body).attributes  # the form comes back filled in
    assert await site.store.subscribers.list_all() == [] and await outbox(site.store) == []


# --- health and the rest ---------------------------------------------------------------------------------------------
async def test_healthz_and_security_headers_everywhere(site: Site) -> None:
    response = await site.client.get("/healthz")
    assert response.status == 200 and response.content_type == "application/json"
    health = await response.json()
    assert health["status"] == "ok" and health["database"] == "ok"
    for name in SECURITY_HEADERS:
        assert response.headers.get(name)
    missing = await site.client.get("/no/such/page")
    assert missing.status == 404
    for name in SECURITY_HEADERS:
        assert missing.headers.get(name), name
