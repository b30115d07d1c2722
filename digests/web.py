"""The web endpoints that mail links to (aiohttp), plus /healthz.

A GET never changes anything (mail scanners fetch every link): /unsubscribe/{token} shows a button, and
only the POST (RFC 8058 one-click: no cookie, no redirect, 200) ends the subscription. Tokens are signed;
a bad, tampered or expired one gets a clear 400 page and changes nothing. Every response carries
security headers: no scripts, no framing, no referrer, nothing cached.

The subscribe form is public, and each request it accepts costs a mail to an address a stranger typed,
so before that it checks, in this order: the origin of the POST (403), the honeypot (answered as if
sent, nothing sent), the signed form token (403, the form shown again), the request itself (400), the
client's hourly limit and the global hourly cap on confirmation mails (429 with Retry-After); the
per-address limit of the service stays behind them. digests/form_guard.py says why both origin and token."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import jinja2
from aiohttp import web
from multidict import MultiDictProxy

from digests.build import window_for
from digests.form_guard import (
    HONEYPOT_FIELD,
    TOKEN_FIELD,
    ClientResolver,
    OriginCheck,
    check_form_token,
    check_origin,
    form_token,
    origin_of,
)
from digests.render import environment, render_page
from digests.schedule import composer_for, queue_confirmation
from planwatch.config import Settings
from planwatch.errors import ConfigError, NotFoundError, PlanwatchError, UsageError
from planwatch.services.subscriptions import (
    RateLimited,
    SubscriptionRequest,
    admit_web_client,
    check_request,
    confirm_subscriber,
    subscribe,
    unsubscribe,
)
from planwatch.services.topics import DEFAULT_TOPIC, GLOBAL_SCOPE
from planwatch.store import Store
from planwatch.timeutil import utcnow
from planwatch.tokens import BadToken, Signer, signer_for

log = logging.getLogger("planwatch.web")
HealthProbe = Callable[[], Awaitable[dict[str, Any]]]
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:;"
    " form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
STORE, SETTINGS, SIGNER, ENV, HEALTH = (
    web.AppKey("store", Store), web.AppKey("settings", Settings), web.AppKey("signer", Signer),
    web.AppKey("env", jinja2.Environment), web.AppKey("health", object),
)  # fmt: skip
CLIENTS, PUBLIC_ORIGIN = web.AppKey("clients", ClientResolver), web.AppKey("public_origin", str)
FIELDS = ("email", "topics", "hour", "timezone")
SENT = "Check your inbox: a confirmation mail is on its way. Nothing else is sent until you confirm."


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response as it is prepared: pages, 404s and 405s, and a 500 from a bug alike."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def _page(request: web.Request, status: int, title: str, message: str, **extra: Any) -> web.Response:
    page = {"title": title, "heading": title, "message": message, "form": None, "links": [], **extra}
    body = render_page(request.app[ENV], "page.html.j2", page=page)
    return web.Response(status=status, text=body, content_type="text/html", charset="utf-8")


def _bad_token(request: web.Request, exc: PlanwatchError) -> web.Response:
    return _page(request, 400, "This link does not work", f"{exc}. Nothing was changed.")


async def confirm_page(request: web.Request) -> web.Response:
    """The link in the confirmation mail: a page with a button (a scanner fetching the link confirms
    nothing; double opt-in means a person chose to)."""
    try:
        token = request.app[SIGNER].verify(request.match_info["token"], "confirm")
        subscriber = await request.app[STORE].subscribers.get(token.subscriber_id)
    except (BadToken, NotFoundError) as exc:
        return _bad_token(request, exc)
    if subscriber.status == "confirmed":
        return _page(request, 200, "Subscribed", f"{subscriber.email} already gets the Planwatch digest.")
    form = {"action": request.path, "button": "Confirm", "note": "Nothing is sent until you confirm."}
    return _page(request, 200, "Confirm your Planwatch digest",
                 f"Send the daily Planwatch digest on {', '.join(subscriber.topics)} to {subscriber.email}, "
                 f"daily at {subscriber.hour:02d}:00 {subscriber.timezone}?", form=form)  # fmt: skip


async def confirm(request: web.Request) -> web.Response:
    try:
        token = request.app[SIGNER].verify(request.match_info["token"], "confirm")
        subscriber = await confirm_subscriber(request.app[STORE], token.subscriber_id, utcnow())
    except (BadToken, NotFoundError, UsageError) as exc:
        return _bad_token(request, exc)
    return _page(request, 200, "Subscribed", f"{subscriber.email} gets the Planwatch digest on {', '.join(subscriber.topics)}"
                 f" daily at {subscriber.hour:02d}:00 {subscriber.timezone}. Every mail has a link to leave.")  # fmt: skip


async def unsubscribe_page(request: web.Request) -> web.Response:
    try:
        token = request.app[SIGNER].verify(request.match_info["token"], "unsubscribe")
        subscriber = await request.app[STORE].subscribers.get(token.subscriber_id)
    except (BadToken, NotFoundError) as exc:
        return _bad_token(request, exc)
    if subscriber.status == "unsubscribed":
        return _page(request, 200, "Unsubscribed", f"{subscriber.email} gets no more Planwatch digests.")
    form = {"action": request.path, "button": "Unsubscribe", "note": "One click: no more digests to this address."}
    return _page(request, 200, "Leave the Planwatch digest?", f"Stop the daily digest to {subscriber.email}?", form=form)


async def unsubscribe_post(request: web.Request) -> web.Response:
    """RFC 8058 one-click (and the page's button): ends the subscription at once; 200, no redirect."""
    try:
        token = request.app[SIGNER].verify(request.match_info["token"], "unsubscribe")
        subscriber = await unsubscribe(request.app[STORE], token.subscriber_id, utcnow())
    except (BadToken, NotFoundError) as exc:
        return _bad_token(request, exc)
    log.info("subscriber %s unsubscribed", subscriber.id)
    return _page(request, 200, "Unsubscribed", f"{subscriber.email} gets no more Planwatch digests.")


async def view_digest(request: web.Request) -> web.Response:
    try:
        token = request.app[SIGNER].verify(request.match_info["token"], "view")
        subscriber = await request.app[STORE].subscribers.get(token.subscriber_id)
        day = date.fromisoformat(token.extra)
        if subscriber.status == "unsubscribed":
            raise BadToken("this digest is no longer available: the subscription was ended")
    except (BadToken, NotFoundError, ValueError) as exc:
        return _bad_token(request, exc if isinstance(exc, PlanwatchError) else BadToken("this link is not valid"))
    composer = await composer_for(request.app[STORE], request.app[SETTINGS])
    composed = await composer.digest(subscriber, window_for(subscriber, day, utcnow()))
    return web.Response(text=composed.html, content_type="text/html", charset="utf-8")


def _client(request: web.Request) -> str:
    return request.app[CLIENTS].key(request.remote, request.headers.getall("X-Forwarded-For", []))


def _subscribe_page(
    request: web.Request, status: int = 200, message: str = "", values: dict[str, str] | None = None
) -> web.Response:
    """The form, empty or refilled with the last try and what was wrong with it; always a fresh token."""
    hidden = {TOKEN_FIELD: form_token(request.app[SIGNER], _client(request), utcnow())}
    page = {"title": "Planwatch digest", "heading": "Subscribe to the daily digest", "message": message,
            "form": {"action": "/subscribe", "button": "Subscribe", "note": "", "hidden": hidden,
                     "honeypot": HONEYPOT_FIELD},
            "values": values or {}, "links": []}  # fmt: skip
    body = render_page(request.app[ENV], "subscribe.html.j2", page=page)
    response = web.Response(status=status, text=body, content_type="text/html")
    # Not no-referrer here: under that policy a browser sends "Origin: null" with the form's POST, and
    # the origin check could not tell this page from any other. same-origin names this site to itself
    # only; the page's URL carries nothing secret.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _too_many(request: web.Request, exc: RateLimited) -> web.Response:
    reason = str(exc)
    response = _page(request, 429, "Too many requests", f"{reason[:1].upper()}{reason[1:]}. Nothing was sent.")
    response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after.total_seconds())))
    return response


async def subscribe_form(request: web.Request) -> web.Response:
    return _subscribe_page(request)


async def _read_request(store: Store, form: MultiDictProxy[Any]) -> SubscriptionRequest:
    topics = [t.strip().lower() for t in str(form.get("topics", "")).split(",") if t.strip()] or [DEFAULT_TOPIC]
    for name in topics:
        await store.topics.get(name, GLOBAL_SCOPE)
    hour_text = str(form.get("hour", "") or "7").strip()
    if not (hour_text.isascii() and hour_text.isdigit()):
        raise UsageError("hour must be a whole number from 0 to 23")
    return check_request(str(form.get("email", "")), topics, int(hour_text), str(form.get("timezone", "") or "UTC"))


async def subscribe_post(request: web.Request) -> web.Response:
    store, settings, public = request.app[STORE], request.app[SETTINGS], request.app[PUBLIC_ORIGIN]
    client = _client(request)
    verdict = check_origin(request.headers.getall("Origin", []), request.headers.getall("Referer", []), public)
    if verdict.check is OriginCheck.FOREIGN:
        log.info("subscribe form: refused a POST from %s sent from %r, not %s (PLANWATCH_PUBLIC_URL)",
                 client, verdict.seen, public)  # fmt: skip
        return _page(request, 403, "Sent from another site",
                     "This request came from another site, so it was refused and nothing was sent. "
                     "To subscribe, use Planwatch's own form.",
                     links=[{"label": "Subscribe", "url": f"{public}/subscribe"}])  # fmt: skip
    form = await request.post()
    values = {name: str(form.get(name, ""))[:300] for name in FIELDS}
    now = utcnow()
    if str(form.get(HONEYPOT_FIELD, "")):
        log.info("subscribe form: the hidden field was filled in from %s; answered as if sent, nothing sent", client)
        return _page(request, 200, "Almost there", SENT)
    try:
        check_form_token(request.app[SIGNER], str(form.get(TOKEN_FIELD, "")), client, now)
    except BadToken as exc:
        log.info("subscribe form: refused a request from %s: %s", client, exc)
        return _subscribe_page(request, 403, "This form is out of date or did not come from this page, so nothing "
                               "was sent. Check the details below and press Subscribe again.", values)  # fmt: skip
    try:
        request_ = await _read_request(store, form)
        await admit_web_client(store, client, settings.subscribe_per_hour, now)
        composer = await composer_for(store, settings)

        async def send(subscriber: Any) -> bool:
            return await queue_confirmation(store, composer, subscriber, "the web form", now)

        result = await subscribe(store, request_, scope=GLOBAL_SCOPE, now=now, send_confirmation=send,
                                 confirmations_per_hour=settings.confirmations_per_hour)  # fmt: skip
    except RateLimited as exc:
        return _too_many(request, exc)
    except PlanwatchError as exc:
        return _subscribe_page(request, 400, str(exc), values)
    message = {
        "confirmation-sent": SENT,
        "confirmation-already-sent": "A confirmation mail was already sent today: check your inbox (and spam folder).",
        "already-subscribed": "This address already gets the digest.",
    }.get(result.status, "Done.")
    return _page(request, 200, "Almost there", message)


async def healthz(request: web.Request) -> web.Response:
    probe = request.app[HEALTH]
    data: dict[str, Any] = await probe() if callable(probe) else {"status": "ok"}
    status = 200 if data.get("status") == "ok" else 503
    return web.json_response(data, status=status)


async def make_app(store: Store, settings: Settings, health: HealthProbe | None = None) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app.on_response_prepare.append(security_headers)
    app[STORE] = store
    app[SETTINGS] = settings
    app[SIGNER] = await signer_for(store, settings)
    app[ENV] = environment(settings.template_dir)
    app[HEALTH] = health or _default_health(store)
    public_origin = origin_of(settings.public_url)
    if public_origin is None:  # the origin check would have nothing to compare with
        raise ConfigError(f"PLANWATCH_PUBLIC_URL must be an absolute http(s) URL, not {settings.public_url[:80]!r}")
    app[PUBLIC_ORIGIN] = public_origin
    app[CLIENTS] = ClientResolver(settings.trusted_proxies)
    app.router.add_get("/confirm/{token}", confirm_page)
    app.router.add_post("/confirm/{token}", confirm)
    app.router.add_get("/unsubscribe/{token}", unsubscribe_page)
    app.router.add_post("/unsubscribe/{token}", unsubscribe_post)
    app.router.add_get("/digest/{token}", view_digest)
    app.router.add_get("/subscribe", subscribe_form)
    app.router.add_post("/subscribe", subscribe_post)
    app.router.add_get("/healthz", healthz)
    return app


def _default_health(store: Store) -> HealthProbe:
    async def probe() -> dict[str, Any]:
        try:
            await store.scalar("SELECT 1")
        except Exception as exc:  # the one place where any failure means "unhealthy"
            return {"status": "error", "database": f"unreachable: {exc.__class__.__name__}"}
        return {"status": "ok", "database": "ok", "scheduler": "not running", "discord": "off",
                "last_poll": await store.state.get("scheduler.last_tick_at")}  # fmt: skip

    return probe
