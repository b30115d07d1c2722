"""Daily digest emails end to end with real parts: a real SMTP server (aiosmtpd on a free loopback port),
a real SQLite store, the real composer, scheduler, deliverer and web app. Messages are parsed back from
what the server received, never from what Planwatch meant to send."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from digests.build import window_for
from digests.deliver import LEASE, DeliveryResult, deliver_due
from digests.jobs import deliver
from digests.mailer import DirectoryMailer, SmtpMailer, outbox_key
from digests.render import MAX_HTML_BYTES
from digests.schedule import QueueResult, composer_for, queue_confirmation, queue_due, queue_for_date
from digests.web import make_app
from planwatch.cli import main
from planwatch.config import Settings
from planwatch.errors import UsageError
from planwatch.models import Entry
from planwatch.services.subscriptions import check_request, expire_pending, subscribe
from planwatch.services.topics import GLOBAL_SCOPE
from planwatch.store import Store
from planwatch.store.subscribers import Subscriber
from planwatch.timeutil import from_db, utcnow
from planwatch.tokens import Token
from tests.smtp_server import SmtpServer, parse

TOPIC = "ukraine-peace-plan"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
HOSTILE = f"Witkoff's 28-point plan for Ukraine leaks {SCRIPT} {IMG}"
PUBLIC = "https://planwatch.example"
MAIL_FROM = "Planwatch Digest <digest@planwatch.example>"


def mail_settings(settings: Settings, smtp: SmtpServer, **changes: Any) -> Settings:
    """SMTP without credentials (no STARTTLS demanded), links under an https public URL."""
    return settings.with_overrides(smtp_url=smtp.url, mail_rate=1000.0, public_url=PUBLIC, mail_from=MAIL_FROM, **changes)


async def wait_for(event: threading.Event, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not event.is_set():
        assert loop.time() < deadline, "the SMTP server never got that far"
        await asyncio.sleep(0.005)


# --- a store with reports ----------------------------------------------------------------------------------
def slug(outlet: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", outlet.lower()).strip("-")


async def add_reports(store: Store, outlet: str, titles: Sequence[str], seen: datetime) -> list[int]:
    """One outlet's reports, first seen at SEEN and matched against the topics, as a poll would store them."""
    name = slug(outlet)
    feed = await store.feeds.add(f"https://{name}.example/rss", name=outlet, interval_minutes=15, now=seen)
    entries = [
        Entry(f"{name}-{i}", f"https://{name}.example/news/{i}", title,
              f"{title}. {outlet} reported detail number {i} about the talks between Kyiv, Moscow and Washington.",
              None, "en", seen - timedelta(minutes=30 + i), None)
        for i, title in enumerate(titles)
    ]  # fmt: skip
    async with store.transaction() as db:
        batch = await store.reports.save_batch(db, feed_id=feed.id, outlet=outlet, entries=entries, now=seen)
        await store.topics.match_reports(db, batch.new_ids, [], seen)
    assert batch.new == len(titles)
    return batch.new_ids


async def add_subscriber(store: Store, address: str, *, hour: int = 7, tz: str = "UTC") -> Subscriber:
    """A confirmed subscriber (an operator's import: no confirmation mail)."""
    request = check_request(address, [TOPIC], hour, tz)
    result = await subscribe(store, request, scope=GLOBAL_SCOPE, now=utcnow(), confirmed=True)
    assert result.status == "subscribed"
    return result.subscriber


def this_hour() -> tuple[datetime, date, int, datetime]:
    """(now, today, this hour, the start of this hour) in UTC: a subscriber at this hour has today's
    window end at the start of this hour, whenever the test runs."""
    now = utcnow()
    slot = now.replace(minute=0, second=0)
    return now, slot.date(), slot.hour, slot


async def outbox(store: Store) -> list[dict[str, Any]]:
    rows = await store.fetchall(
        "SELECT o.id, s.email, o.kind, o.digest_date, o.status, o.attempts, o.message_id, o.next_attempt_at, o.last_error,"
        " m.message FROM outbox o JOIN subscribers s ON s.id = o.subscriber_id"
        " LEFT JOIN outbox_messages m ON m.outbox_id = o.id ORDER BY o.id"
    )
    return [dict(zip(row.keys(), tuple(row), strict=True)) for row in rows]


# --- reading mail back -------------------------------------------------------------------------------------
def raw_header(data: bytes, name: str) -> str:
    """A header as it is on the wire (unfolded, not decoded): what a mail client's unsubscribe button reads."""
    value = email.message_from_bytes(data)[name]  # compat32: the raw text
    assert isinstance(value, str), f"no {name} header"
    return re.sub(r"\r?\n[ \t]", " ", value)


def bodies(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    return str(text.get_content()), str(html.get_content())


class Markup(HTMLParser):
    """Tags, attributes, links and visible text of an HTML document, as a browser would parse them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.hrefs: list[str] = []
        self.chunks: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs
        self.hrefs += [v for k, v in attrs if tag == "a" and k == "href" and v]

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.chunks).split())


def squash(text: str) -> str:
    return " ".join(text.split())


def link_path(url: str) -> str:
    return urlsplit(url).path


# --- 1. what arrives ----------------------------------------------------------------------------------------
async def test_delivered_digest_headers_parts_and_escaped_feed_html(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    mail = mail_settings(settings, smtp, unsubscribe_mailto="leave@planwatch.example")
    now, day, hour, slot = this_hour()
    await add_reports(store, "Wire One", [HOSTILE, "Witkoff and Dmitriev defend the 28-point plan for Ukraine"],
                      slot - timedelta(hours=2))  # fmt: skip
    await add_reports(store, "Daily Two", ["Kyiv studies the 28-point peace plan drafted by Witkoff"], slot - timedelta(hours=3))
    for address in ("alice@example.com", "bob@example.org"):
        await add_subscriber(store, address, hour=hour)

    assert await queue_for_date(store, mail, await composer_for(store, mail), day, now) == QueueResult(queued=2)
    assert await deliver(store, mail) == DeliveryResult(sent=2)

    rows = {row["email"]: row for row in await outbox(store)}
    assert {r["status"] for r in rows.values()} == {"sent"}
    assert sorted(r.rcpt_tos[0] for r in smtp.handler.received) == ["alice@example.com", "bob@example.org"]
    for received in smtp.handler.received:
        (to,) = received.rcpt_tos
        assert received.mail_from == "digest@planwatch.example"
        message = received.message
        assert message["From"] == MAIL_FROM
        assert message["To"] == to
        assert message["Subject"].startswith("Ukraine peace plan: 3 new reports: ")  # the topic's title, then its lead
        sent_at = message["Date"].datetime
        assert sent_at is not None and sent_at.tzinfo is not None and abs(sent_at - now) < timedelta(hours=1)
        assert re.fullmatch(r"<[^<>@\s]+@planwatch\.example>", message["Message-ID"])
        assert message["Message-ID"] == rows[to]["message_id"]  # made when queued
        assert message["List-Id"].endswith("<digest.planwatch.planwatch.example>")
        # On the wire, as a mail client reads it: the URL itself, not an RFC 2047 encoded-word.
        unsubscribe = raw_header(received.data, "List-Unsubscribe")
        pattern = rf"<({re.escape(PUBLIC)}/unsubscribe/[\w-]+\.[\w-]+)>, <mailto:leave@planwatch\.example\?subject=unsubscribe>"
        found = re.fullmatch(pattern, unsubscribe)
        assert found, f"List-Unsubscribe on the wire: {unsubscribe!r}"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        assert message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        text, html = bodies(message)
        assert len(html.encode()) < MAX_HTML_BYTES
        assert "3 new reports from 2 outlets" in squash(text)
        markup = Markup(html)
        assert "3 new reports from 2 outlets" in markup.text
        assert found.group(1) in markup.hrefs and found.group(1) in text  # the same signed link in both parts
        assert to in text and to in markup.text  # the footer says who it was sent to

        # Feed text is data: the hostile headline is shown, escaped, and never becomes markup.
        assert "script" not in markup.tags and "img" not in markup.tags
        assert not [name for name, _ in markup.attributes if name.startswith("on")]
        assert "<script" not in html.lower() and not re.search(r"<[^>]*\sonerror\s*=", html, re.IGNORECASE)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(2)&gt;" in html
        assert f"{SCRIPT} {IMG}" in markup.text  # readable as text
        assert all(h.startswith(("https://", "http://")) for h in markup.hrefs)


# --- 2. the links work against the real web app ---------------------------------------------------------------
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


async def test_links_in_the_mail_work_against_the_web_app(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    mail = mail_settings(settings, smtp)
    now, day, hour, slot = this_hour()
    await add_reports(store, "Wire One", [HOSTILE], slot - timedelta(hours=1))
    subscriber = await add_subscriber(store, "carol@example.com", hour=hour)
    await queue_for_date(store, mail, await composer_for(store, mail), day, now)
    assert (await deliver(store, mail)).sent == 1
    (received,) = smtp.handler.received
    text, html = bodies(received.message)
    unsubscribe = re.fullmatch(r"<([^>]+)>", raw_header(received.data, "List-Unsubscribe"))
    assert unsubscribe is not None
    views = re.findall(rf"{re.escape(PUBLIC)}/digest/[\w-]+\.[\w-]+", text)
    assert len(views) == 1

    async with TestClient(TestServer(await make_app(store, mail))) as client:
        # A GET (a mail scanner, or the reader) shows a page with a button and changes nothing.
        page = await client.get(link_path(unsubscribe.group(1)), allow_redirects=False)
        shown = Markup(await page.text())
        assert page.status == 200 and "form" in shown.tags and "button" in shown.tags
        assert ("method", "post") in [(k, (v or "").lower()) for k, v in shown.attributes]
        assert (await store.subscribers.get(subscriber.id)).status == "confirmed"

        # The browser view: this digest, as HTML.
        view = await client.get(link_path(views[0]), allow_redirects=False)
        view_body = await view.text()
        assert view.status == 200 and view.content_type == "text/html"
        assert "&lt;script&gt;" in view_body and "<script" not in view_body.lower()

        # RFC 8058 one-click: a POST with that body, no cookie, no redirect, 200.
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        post = await client.post(link_path(unsubscribe.group(1)), data=b"List-Unsubscribe=One-Click", headers=form,
                                 allow_redirects=False)  # fmt: skip
        assert post.status == 200 and not post.history and "Set-Cookie" not in post.headers
        assert (await store.subscribers.get(subscriber.id)).status == "unsubscribed"
        assert len(client.session.cookie_jar) == 0

        for response in (page, view, post):
            for name in SECURITY_HEADERS:
                assert response.headers.get(name), f"{name} missing on {response.url}"

    # The next day, nothing more goes to the address that left.
    tomorrow = day + timedelta(days=1)
    assert await queue_for_date(store, mail, await composer_for(store, mail), tomorrow, now + timedelta(days=1)) == QueueResult()
    # The HTML part carries the same two links as the text part.
    assert {unsubscribe.group(1), views[0]} <= set(Markup(html).hrefs)


# --- 3. double opt-in --------------------------------------------------------------------------------------------
async def test_double_opt_in_sends_only_the_confirmation_until_confirmed(store: Store, settings: Settings,
                                                                        smtp: SmtpServer) -> None:  # fmt: skip
    mail = mail_settings(settings, smtp)
    now, day, hour, slot = this_hour()
    await add_reports(store, "Wire One", ["Witkoff brings the 28-point plan to Kyiv"], slot - timedelta(hours=1))
    composer = await composer_for(store, mail)

    async def send(subscriber: Subscriber) -> bool:
        return await queue_confirmation(store, composer, subscriber, "a test", now)

    request = check_request("dave@example.com", [TOPIC], hour, "UTC")
    first = await subscribe(store, request, scope=GLOBAL_SCOPE, now=now, send_confirmation=send)
    assert first.status == "confirmation-sent" and first.subscriber.status == "pending"
    assert (await deliver(store, mail)).sent == 1
    (confirmation,) = smtp.handler.received
    assert confirmation.rcpt_tos == ["dave@example.com"]
    text, html = bodies(confirmation.message)
    code = first.subscriber.confirm_code
    assert code and code in text and code in Markup(html).text
    confirm_links = [h for h in Markup(html).hrefs if h.startswith(f"{PUBLIC}/confirm/")]
    assert len(confirm_links) == 1 and confirm_links[0] in text
    assert "List-Unsubscribe" not in confirmation.message  # nothing to leave yet

    # Asked again the same day: nothing more is sent.
    second = await subscribe(store, request, scope=GLOBAL_SCOPE, now=now + timedelta(minutes=5), send_confirmation=send)
    assert second.status == "confirmation-already-sent" and second.subscriber.confirm_code == code
    assert (await deliver(store, mail)).sent == 0
    # The day's digests go to confirmed subscribers only.
    assert await queue_for_date(store, mail, composer, day, now) == QueueResult()
    assert (await deliver(store, mail)).sent == 0
    assert len(smtp.handler.received) == 1

    async with TestClient(TestServer(await make_app(store, mail))) as client:
        response = await client.get(link_path(confirm_links[0]))  # a mail scanner's fetch: a button, nothing more
        assert response.status == 200 and "dave@example.com" in await response.text()
        assert (await store.subscribers.get(first.subscriber.id)).status == "pending"
        response = await client.post(link_path(confirm_links[0]), allow_redirects=False)  # the reader's click
        assert response.status == 200
    assert (await store.subscribers.get(first.subscriber.id)).status == "confirmed"

    assert await queue_for_date(store, mail, await composer_for(store, mail), day, now) == QueueResult(queued=1)
    assert (await deliver(store, mail)).sent == 1
    digest = smtp.handler.received[-1].message
    assert digest["To"] == "dave@example.com" and digest["Subject"].startswith("Ukraine peace plan: ")
    assert "Witkoff brings the 28-point plan to Kyiv" in bodies(digest)[0]


async def test_requests_are_rate_limited_and_pending_ones_expire(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    mail = mail_settings(settings, smtp)
    now = utcnow()
    composer = await composer_for(store, mail)

    async def send(subscriber: Subscriber) -> bool:
        return await queue_confirmation(store, composer, subscriber, "a test", now)

    request = check_request("erin@example.com", [TOPIC], 7, "UTC")
    statuses = []
    for n in range(3):
        result = await subscribe(store, request, scope=GLOBAL_SCOPE, now=now + timedelta(minutes=n), send_confirmation=send)
        statuses.append(result.status)
    assert statuses == ["confirmation-sent", "confirmation-already-sent", "confirmation-already-sent"]
    with pytest.raises(UsageError, match="too many subscription requests"):
        await subscribe(store, request, scope=GLOBAL_SCOPE, now=now + timedelta(minutes=3), send_confirmation=send)
    assert (await deliver(store, mail)).sent == 1  # one mail, whatever was asked

    # Pending requests older than 48 h are removed; younger ones stay.
    stale = check_request("frank@example.com", [TOPIC], 7, "UTC")
    fresh = check_request("gina@example.com", [TOPIC], 7, "UTC")
    await subscribe(store, stale, scope=GLOBAL_SCOPE, now=now - timedelta(hours=49))
    await subscribe(store, fresh, scope=GLOBAL_SCOPE, now=now - timedelta(hours=47))
    assert await expire_pending(store, now) == 1
    assert await store.subscribers.find("frank@example.com", GLOBAL_SCOPE) is None
    for kept in ("gina@example.com", "erin@example.com"):
        found = await store.subscribers.find(kept, GLOBAL_SCOPE)
        assert found is not None and found.status == "pending"


async def test_a_second_request_in_another_zone_gets_no_second_confirmation(store: Store, settings: Settings) -> None:
    """At 23:30 UTC it is already tomorrow in Kyiv: a second request naming UTC must not count as a new day."""
    composer = await composer_for(store, settings)
    late = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    results = []
    for minutes, zone in ((0, "Europe/Kyiv"), (5, "UTC")):
        now = late + timedelta(minutes=minutes)

        async def send(subscriber: Subscriber, now: datetime = now) -> bool:
            return await queue_confirmation(store, composer, subscriber, "a test", now)

        request = check_request("zoe@example.com", [TOPIC], 8, zone)
        results.append((await subscribe(store, request, scope=GLOBAL_SCOPE, now=now, send_confirmation=send)).status)
    assert results == ["confirmation-sent", "confirmation-already-sent"]


# --- 4. a 451 is retried later, and delivered once ----------------------------------------------------------------
async def test_a_451_is_retried_later_and_delivered_once(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    mail = mail_settings(settings, smtp, digest_send_empty=True)
    now, day, _, _ = this_hour()
    addresses = ["a@example.com", "busy@example.com", "c@example.com"]
    for address in addresses:
        await add_subscriber(store, address)
    await queue_for_date(store, mail, await composer_for(store, mail), day, now)
    smtp.handler.rcpt_replies["busy@example.com"] = "451 4.7.1 Greylisted, try again later"

    result = await deliver(store, mail)
    assert (result.sent, result.retried, result.failed) == (2, 1, 0)
    assert sorted(r.rcpt_tos[0] for r in smtp.handler.received) == ["a@example.com", "c@example.com"]
    row = next(r for r in await outbox(store) if r["email"] == "busy@example.com")
    assert row["status"] == "queued" and row["attempts"] == 1 and "451" in row["last_error"]
    assert from_db(row["next_attempt_at"]) > utcnow()  # later, not at once
    kept = {r["email"]: r["message"] is not None for r in await outbox(store)}
    assert kept == {"a@example.com": False, "busy@example.com": True, "c@example.com": False}  # sent bodies dropped

    smtp.handler.rcpt_replies.clear()
    assert (await deliver(store, mail)).sent == 0  # not due yet
    later = utcnow() + timedelta(minutes=5)
    retried = await deliver_due(store, SmtpMailer(smtp.url), mail.mail_from, rate=0, clock=lambda: later)
    assert retried == DeliveryResult(sent=1)
    again = await deliver_due(store, SmtpMailer(smtp.url), mail.mail_from, rate=0, clock=lambda: later + timedelta(hours=3))
    assert again == DeliveryResult()
    (busy,) = smtp.to("busy@example.com")
    assert busy["Message-ID"] == row["message_id"]  # the same message, not a new one
    assert Counter(r.rcpt_tos[0] for r in smtp.handler.received) == dict.fromkeys(addresses, 1)
    assert {r["status"] for r in await outbox(store)} == {"sent"}


# --- 5. a 550 fails that mail only; three in a row pause the subscriber ---------------------------------------------
async def test_a_550_fails_one_mail_and_three_in_a_row_pause_the_subscriber(store: Store, settings: Settings,
                                                                            smtp: SmtpServer) -> None:  # fmt: skip
    mail = mail_settings(settings, smtp, digest_send_empty=True)
    now = utcnow()
    good = [await add_subscriber(store, a) for a in ("first@example.com", "last@example.com")]
    gone = await add_subscriber(store, "gone@example.com")
    smtp.handler.rcpt_replies["gone@example.com"] = "550 5.1.1 No such user here"
    days = [now.date() - timedelta(days=n) for n in (3, 2, 1)]

    for n, day in enumerate(days, start=1):
        assert await queue_for_date(store, mail, await composer_for(store, mail), day, now) == QueueResult(queued=3)
        result = await deliver(store, mail)
        assert (result.sent, result.failed, result.retried) == (2, 1, 0)  # the rest of the batch went out
        assert result.paused == (1 if n == 3 else 0)
        failed = [r for r in await outbox(store) if r["email"] == "gone@example.com" and r["digest_date"] == day.isoformat()]
        assert [(r["status"], r["message"]) for r in failed] == [("failed", None)] and "550" in failed[0]["last_error"]
        state = await store.subscribers.get(gone.id)
        assert state.consecutive_failures == n and state.status == ("paused" if n == 3 else "confirmed")

    assert Counter(r.rcpt_tos[0] for r in smtp.handler.received) == {"first@example.com": 3, "last@example.com": 3}
    today = await queue_for_date(store, mail, await composer_for(store, mail), now.date(), now)
    assert today == QueueResult(queued=2)  # a paused subscriber gets nothing more
    assert [(await store.subscribers.get(s.id)).consecutive_failures for s in good] == [0, 0]


# --- 6. the server stopped mid-batch, and restarted ------------------------------------------------------------------
async def five_readers_queued(store: Store, mail: Settings) -> list[str]:
    now, day, _, _ = this_hour()
    addresses = [f"reader{n}@example.com" for n in range(5)]
    for address in addresses:
        await add_subscriber(store, address)
    assert await queue_for_date(store, mail, await composer_for(store, mail), day, now) == QueueResult(queued=5)
    return addresses


async def test_server_stopped_mid_batch_then_restarted_delivers_each_digest_once(store: Store, settings: Settings,
                                                                                 smtp: SmtpServer) -> None:  # fmt: skip
    mail = mail_settings(settings, smtp, digest_send_empty=True)
    addresses = await five_readers_queued(store, mail)
    queued_ids = {r["email"]: r["message_id"] for r in await outbox(store)}

    smtp.handler.stall_at = 3  # the third message is in flight when the server goes away
    batch = asyncio.create_task(deliver(store, mail))
    await wait_for(smtp.handler.stalled)
    first_server = smtp.handler
    smtp.kill()
    result = await batch
    assert (result.sent, result.retried, result.failed) == (2, 3, 0)
    rows = await outbox(store)
    assert Counter(r["status"] for r in rows) == {"sent": 2, "queued": 3}
    assert all(from_db(r["next_attempt_at"]) > utcnow() for r in rows if r["status"] == "queued")  # with backoff

    restarted = SmtpServer(smtp.port)  # the same address, a fresh server
    restarted.start()
    try:
        assert (await deliver(store, mail)).sent == 0  # retries wait for their time
        later = utcnow() + timedelta(minutes=10)
        resumed = await deliver_due(store, SmtpMailer(restarted.url), mail.mail_from, rate=0, clock=lambda: later)
        assert resumed == DeliveryResult(sent=3)
    finally:
        restarted.stop()

    everything = first_server.received + restarted.handler.received
    assert Counter(r.rcpt_tos[0] for r in everything) == dict.fromkeys(addresses, 1)
    assert {r.rcpt_tos[0]: r.message["Message-ID"] for r in everything} == queued_ids  # same Message-ID on retry
    assert {r["status"] for r in await outbox(store)} == {"sent"}


async def test_crash_mid_send_resumes_after_restart_without_duplicates(store: Store, settings: Settings,
                                                                       smtp: SmtpServer) -> None:  # fmt: skip
    """Planwatch stops while a message is in flight (left 'sending') and the server goes down with it."""
    mail = mail_settings(settings, smtp, digest_send_empty=True)
    addresses = await five_readers_queued(store, mail)

    smtp.handler.stall_at = 2
    batch = asyncio.create_task(deliver(store, mail))
    await wait_for(smtp.handler.stalled)
    batch.cancel()  # the process dies
    first_server = smtp.handler
    smtp.kill()
    with pytest.raises(asyncio.CancelledError):
        await batch
    # Mails are claimed in batches: the dead run still holds the four it had not recorded as sent.
    assert Counter(r["status"] for r in await outbox(store)) == {"sent": 1, "sending": 4}

    restarted = SmtpServer(smtp.port)
    restarted.start()
    try:
        assert await deliver(store, mail) == DeliveryResult()  # that run may still be alive: hands off
        # Once its lease is over, they go again: each exactly once.
        later = utcnow() + LEASE + timedelta(minutes=1)
        resumed = await deliver_due(store, SmtpMailer(restarted.url), mail.mail_from, rate=0, clock=lambda: later)
        assert resumed == DeliveryResult(sent=4)
    finally:
        restarted.stop()
    everything = first_server.received + restarted.handler.received
    assert Counter(r.rcpt_tos[0] for r in everything) == dict.fromkeys(addresses, 1)
    assert {r["status"] for r in await outbox(store)} == {"sent"}


async def test_two_deliveries_at_once_send_each_digest_once(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    """The service's minute tick and an operator's `digest send` or `subscribers add` (which delivers what
    is due) run at the same time, each with its own connection to the database."""
    mail = mail_settings(settings, smtp, digest_send_empty=True)
    now, day, _, _ = this_hour()
    addresses = [f"reader{n}@example.com" for n in range(6)]
    for address in addresses:
        await add_subscriber(store, address)
    await queue_for_date(store, mail, await composer_for(store, mail), day, now)
    other = await Store.open(settings.db_path)
    try:
        results = await asyncio.gather(deliver(store, mail), deliver(other, mail))
    finally:
        await other.close()
    assert Counter(r.rcpt_tos[0] for r in smtp.handler.received) == dict.fromkeys(addresses, 1)
    assert sum(r.sent for r in results) == len(addresses)
    assert {r["status"] for r in await outbox(store)} == {"sent"}


# --- 7. `digest send` ------------------------------------------------------------------------------------------------
async def test_digest_send_twice_sends_nothing_more_and_dry_run_sends_nothing(
    store: Store, settings: Settings, smtp: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANWATCH_SMTP_URL", smtp.url)
    monkeypatch.setenv("PLANWATCH_MAIL_RATE", "1000")
    _, day, hour, slot = this_hour()
    await add_reports(store, "Wire One", ["Witkoff and Umerov meet over the 28-point plan for Kyiv"], slot - timedelta(hours=2))
    for address in ("h@example.com", "i@example.com"):
        await add_subscriber(store, address, hour=hour)

    async def cli(*argv: str) -> tuple[int, str]:
        code = await asyncio.to_thread(main, ["--db", str(settings.db_path), *argv])
        out, err = capsys.readouterr()
        assert code == 0, err
        return code, out

    _, out = await cli("digest", "send", "--date", day.isoformat(), "--dry-run")
    assert f"would queue {day.isoformat()}'s digest for 2 of 2 confirmed subscribers" in out
    assert smtp.handler.received == [] and await outbox(store) == []

    _, out = await cli("digest", "send", "--date", day.isoformat())
    assert out.startswith(f"{day.isoformat()}: 2 queued, 0 with nothing new; sent 2 via SMTP")
    _, out = await cli("digest", "send", "--date", day.isoformat())
    assert out.startswith(f"{day.isoformat()}: 0 queued, 0 with nothing new; sent 0 via SMTP")
    _, out = await cli("digest", "send", "--date", day.isoformat(), "--dry-run")
    assert "for 0 of 2 confirmed subscribers" in out
    assert Counter(r.rcpt_tos[0] for r in smtp.handler.received) == {"h@example.com": 1, "i@example.com": 1}


# --- 8. no SMTP: .eml files -------------------------------------------------------------------------------------------
async def test_without_smtp_digests_are_eml_files_rewritten_not_duplicated(store: Store, settings: Settings) -> None:
    assert settings.smtp_url is None
    now, day, hour, slot = this_hour()
    await add_reports(store, "Wire One", ["Dmitriev says the 28-point plan for Ukraine is final"], slot - timedelta(hours=2))
    for address in ("j@example.com", "k@example.com"):
        await add_subscriber(store, address, hour=hour)
    await queue_for_date(store, settings, await composer_for(store, settings), day, now)

    # A crash right after the first file was written, before it was recorded as sent.
    first = (await store.outbox.due(utcnow()))[0]
    assert await store.outbox.claim([first.id], "crashed-run", utcnow(), LEASE) == {first.id}
    message = (await store.outbox.messages([first.id]))[first.id]
    key = outbox_key(first.digest_date, first.kind, first.subscriber_id, first.message_id)
    await DirectoryMailer(settings.outbox_dir).send(settings.mail_from, first.email, message, key=key)

    assert await deliver(store, settings) == DeliveryResult(sent=1)  # after the restart: the other one
    later = utcnow() + LEASE + timedelta(minutes=1)
    resumed = await deliver_due(store, DirectoryMailer(settings.outbox_dir), settings.mail_from, rate=0, clock=lambda: later)
    assert resumed == DeliveryResult(sent=1)  # the interrupted one, written again under the same name
    files = sorted(settings.outbox_dir.iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # no duplicate, no partial file
    messages = [parse(f.read_bytes()) for f in files]
    assert sorted(m["To"] for m in messages) == ["j@example.com", "k@example.com"]
    assert {m["Message-ID"] for m in messages} == {r["message_id"] for r in await outbox(store)}
    assert all("Witkoff" in bodies(m)[0] or "Dmitriev" in bodies(m)[0] for m in messages)

    # The next day: one more file per subscriber, with what is new since (windows chain: nothing twice).
    await add_reports(store, "Wire Three", ["Kremlin answers the 28-point plan for Ukraine"], now)
    next_day = now + timedelta(days=1)
    await queue_for_date(store, settings, await composer_for(store, settings), day + timedelta(days=1), next_day)
    await deliver_due(store, DirectoryMailer(settings.outbox_dir), settings.mail_from, rate=0, clock=lambda: next_day)
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 4


# --- 9. nothing new ---------------------------------------------------------------------------------------------------
async def test_nothing_new_sends_nothing_unless_asked_for_a_note(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    mail = mail_settings(settings, smtp)
    now, day, hour, slot = this_hour()
    await add_reports(store, "Wire One", ["Old news: Witkoff's 28-point plan for Ukraine"], slot - timedelta(hours=30))
    subscriber = await add_subscriber(store, "quiet@example.com", hour=hour)

    assert await queue_for_date(store, mail, await composer_for(store, mail), day, now) == QueueResult(skipped=1)
    assert await deliver(store, mail) == DeliveryResult()
    assert await store.outbox.for_subscriber(subscriber.id) == [("digest", day.isoformat(), "skipped", 0)]
    assert smtp.handler.received == []

    noted = mail.with_overrides(digest_send_empty=True)
    tomorrow = day + timedelta(days=1)
    next_day = now + timedelta(days=1)
    queued = await queue_for_date(store, noted, await composer_for(store, noted), tomorrow, next_day)
    assert queued == QueueResult(queued=1)
    assert (await deliver_due(store, SmtpMailer(smtp.url), noted.mail_from, rate=0, clock=lambda: next_day)).sent == 1
    (note,) = smtp.to("quiet@example.com")
    text, html = bodies(note)
    assert "nothing new" in text.lower() and "nothing new" in Markup(html).text.lower()
    assert "Old news" not in text and note["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


# --- 10. the grace window and the subscriber's own 24 hours -------------------------------------------------------------
def local_slot(now: datetime, zone: str, hours_ago: int) -> datetime:
    """The subscriber's delivery time (whole hour, local) that passed HOURS_AGO to HOURS_AGO+1 hours ago."""
    return (now - timedelta(hours=hours_ago)).astimezone(ZoneInfo(zone)).replace(minute=0, second=0, microsecond=0)


async def test_grace_window_and_the_local_24_hour_window(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    mail = mail_settings(settings, smtp)
    now = utcnow()
    tokyo = local_slot(now, "Asia/Tokyo", 2)  # Planwatch was down at 2 h ago: still sent
    new_york = local_slot(now, "America/New_York", 8)  # 8 h ago: beyond the 6 h grace
    late = await add_subscriber(store, "tokyo@example.jp", hour=tokyo.hour, tz="Asia/Tokyo")
    missed = await add_subscriber(store, "ny@example.com", hour=new_york.hour, tz="America/New_York")
    await add_reports(store, "Too Early", ["Witkoff first floated a 28-point plan for Ukraine"], tokyo - timedelta(hours=25))
    await add_reports(store, "In Window", ["Kyiv gets the 28-point plan from Witkoff"], tokyo - timedelta(hours=2))
    await add_reports(store, "After Slot", ["Putin comments on the 28-point plan by Witkoff"], tokyo + timedelta(minutes=30))

    result = await queue_due(store, mail, await composer_for(store, mail), now)
    assert result == QueueResult(queued=1)
    assert await store.outbox.for_subscriber(missed.id) == []
    assert [(k, d) for k, d, _, _ in await store.outbox.for_subscriber(late.id)] == [("digest", tokyo.date().isoformat())]
    assert await queue_due(store, mail, await composer_for(store, mail), now + timedelta(minutes=1)) == QueueResult()  # once

    assert (await deliver(store, mail)).sent == 1
    (digest,) = smtp.to("tokyo@example.jp")
    text, html = bodies(digest)
    shown = Markup(html).text
    assert "Kyiv gets the 28-point plan from Witkoff" in text and "Kyiv gets the 28-point plan from Witkoff" in shown
    for outside in ("Witkoff first floated", "Putin comments"):
        assert outside not in text and outside not in shown
    assert "1 new report from 1 outlet" in squash(text)
    assert digest["Subject"] == "Ukraine peace plan: 1 new report: Kyiv gets the 28-point plan from Witkoff"


def test_windows_chain_so_an_early_send_leaves_no_gap() -> None:
    """A digest sent before the reader's hour ends its window then; the next one starts there."""
    reader = Subscriber(1, "r@example.org", "global", ["ukraine-peace-plan"], 7, "UTC", "confirmed", None, None,
                        datetime(2026, 11, 1, tzinfo=UTC), None, 0)  # fmt: skip
    early = window_for(reader, date(2026, 11, 20), datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    assert early.end == datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    nxt = window_for(reader, date(2026, 11, 21), datetime(2026, 11, 21, 7, 5, tzinfo=UTC), early.end)
    assert (nxt.start, nxt.end) == (early.end, datetime(2026, 11, 21, 7, 0, tzinfo=UTC))  # 03:00 -> 07:00 next day
    stale = window_for(reader, date(2026, 11, 25), datetime(2026, 11, 25, 7, 5, tzinfo=UTC), early.end)
    assert stale.end - stale.start == timedelta(hours=24)  # after a long pause: the last day only


# --- found in review: each once a real failure ------------------------------------------------------------------
async def test_feed_text_cannot_collect_readers_links(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    """A headline or link naming the per-reader placeholders gets nothing: they are random per render."""
    mail = mail_settings(settings, smtp)
    now, day, hour, slot = this_hour()
    await add_reports(store, "Evil Wire", ["Ukraine peace plan @@PW-EMAIL@@ https://placeholder.planwatch.invalid/unsubscribe"],
                      slot - timedelta(hours=1))  # fmt: skip
    await add_subscriber(store, "victim@example.org", hour=hour)
    await queue_for_date(store, mail, await composer_for(store, mail), day, now)
    await deliver(store, mail)
    text, html = bodies(smtp.to("victim@example.org")[0])
    token_links = [h for h in Markup(html).hrefs if "/unsubscribe/" in h]
    assert len(token_links) == 1  # only the footer's own link carries a token
    assert "@@PW-EMAIL@@" in text  # the headline's text stays as written, nothing substituted into it
    assert "placeholder.planwatch.invalid/unsubscribe" in text


async def test_mail_queued_before_the_reader_left_is_not_sent(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    """Unsubscribed or paused after queueing: the digest is skipped, never sent."""
    from planwatch.services.subscriptions import unsubscribe

    mail = mail_settings(settings, smtp)
    now, day, hour, slot = this_hour()
    await add_reports(store, "Wire One", ["Witkoff 28-point plan for Ukraine"], slot - timedelta(hours=1))
    leaving = await add_subscriber(store, "leaving@example.org", hour=hour)
    await add_subscriber(store, "staying@example.org", hour=hour)
    await queue_for_date(store, mail, await composer_for(store, mail), day, now)
    await unsubscribe(store, leaving.id, now)
    assert (await deliver(store, mail)).sent == 1
    assert [r.rcpt_tos for r in smtp.handler.received] == [["staying@example.org"]]
    statuses = {r["email"]: r["status"] for r in await outbox(store)}
    assert statuses == {"leaving@example.org": "skipped", "staying@example.org": "sent"}


async def test_a_server_refusing_the_sender_pauses_nobody(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    """550 to MAIL FROM is the server refusing Planwatch: the batch stops and is retried, no reader is blamed."""
    mail = mail_settings(settings, smtp)
    now, day, hour, slot = this_hour()
    await add_reports(store, "Wire One", ["Witkoff 28-point plan for Ukraine"], slot - timedelta(hours=1))
    readers = [await add_subscriber(store, f"r{n}@example.org", hour=hour) for n in range(3)]
    await queue_for_date(store, mail, await composer_for(store, mail), day, now)
    smtp.handler.mail_reply = "550 5.7.1 sender not allowed"
    for _ in range(3):
        result = await deliver(store, mail)
        assert result.sent == 0 and result.failed == 0 and result.paused == 0
        async with store.transaction() as db:  # time passes: retry now
            await db.execute("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE status = 'queued'")
    assert {(await store.subscribers.get(r.id)).status for r in readers} == {"confirmed"}
    smtp.handler.mail_reply = None
    assert (await deliver(store, mail)).sent == 3


async def test_one_mailbox_is_one_address_for_the_limits(store: Store) -> None:
    """Letter case does not make new addresses: the per-address limit holds; encoded words are refused."""
    from planwatch.services.subscriptions import check_email, check_request, subscribe

    assert check_email("Victim@Example.ORG") == "victim@example.org"
    with pytest.raises(UsageError):
        check_email("=?utf-8?q?a=0D=0Ab?=@example.org")
    now = utcnow()
    for spelling in ("Victim@example.org", "vIctim@example.org", "VICTIM@example.org"):
        await subscribe(store, check_request(spelling, [TOPIC], None, None), scope="global", now=now)
    with pytest.raises(UsageError, match="too many subscription requests"):
        await subscribe(store, check_request("victiM@example.org", [TOPIC], None, None), scope="global", now=now)
    assert len(await store.subscribers.list_all()) == 1


async def test_links_never_act_on_a_later_subscriber(store: Store, settings: Settings) -> None:
    """Ids are never reused, so a removed reader's signed link cannot reach whoever comes next."""
    from planwatch.tokens import signer_for

    first = await add_subscriber(store, "first@example.org")
    await store.subscribers.remove(first.id)
    second = await add_subscriber(store, "second@example.org")
    assert second.id != first.id
    signer = await signer_for(store, settings)
    app = await make_app(store, settings)
    async with TestClient(TestServer(app)) as client:
        token = signer.sign(Token("unsubscribe", first.id))
        response = await client.post(f"/unsubscribe/{token}", data=b"List-Unsubscribe=One-Click")
        assert response.status == 400
    assert (await store.subscribers.get(second.id)).status == "confirmed"


async def test_another_member_cannot_take_over_a_pending_request(store: Store) -> None:
    """A second member asking for the same address while it waits for confirmation is refused."""
    from planwatch.services.subscriptions import check_request, subscribe

    now = utcnow()
    await subscribe(store, check_request("alice@example.org", [TOPIC], 7, "Europe/Kyiv"), scope="global", now=now,
                    discord_user_id="1")  # fmt: skip
    with pytest.raises(UsageError, match="already waiting to be confirmed"):
        await subscribe(store, check_request("alice@example.org", [TOPIC], 3, "Pacific/Kiritimati"), scope="global",
                        now=now, discord_user_id="2")  # fmt: skip
    found = await store.subscribers.find("alice@example.org", "global")
    assert found is not None and (found.hour, found.timezone, found.discord_user_id) == (7, "Europe/Kyiv", "1")


async def test_one_reader_failing_does_not_stop_the_others(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    """A digest that cannot be made (its topic was removed mid-way, a template error) skips that reader only."""
    mail = mail_settings(settings, smtp)
    now, day, hour, slot = this_hour()
    await add_reports(store, "Wire One", ["Witkoff 28-point plan for Ukraine"], slot - timedelta(hours=1))
    await add_subscriber(store, "good@example.org", hour=hour)
    broken = await add_subscriber(store, "broken@example.org", hour=hour)
    async with store.transaction() as db:  # a zone the database holds but this machine does not know
        await db.execute("UPDATE subscribers SET timezone = 'Mars/Olympus_Mons' WHERE id = ?", (broken.id,))
    result = await queue_for_date(store, mail, await composer_for(store, mail), day, now)
    assert result.queued == 1 and (await deliver(store, mail)).sent == 1
    assert [r.rcpt_tos for r in smtp.handler.received] == [["good@example.org"]]
