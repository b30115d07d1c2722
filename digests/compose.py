"""Mail messages: multipart/alternative with the text part first (RFC 2046 §5.1.4), the headers that
inbox providers require of bulk senders (List-Id, List-Unsubscribe with RFC 8058 one-click), and a
Message-ID made once, when the mail is queued, so a retry is the same message.

A digest body is rendered once per (topics, window) with placeholders for what differs per reader
(address and signed links): 10,000 subscribers at one hour cost one render and 10,000 replacements."""

from __future__ import annotations

import base64
import email.policy
import html
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

import jinja2

from digests.build import DigestBuilder, Window
from digests.render import MAX_HTML_BYTES, render_pair
from planwatch.config import Settings
from planwatch.services.stories import plural
from planwatch.store.subscribers import Subscriber
from planwatch.tokens import Signer, Token

# Placeholders for what differs per reader are random for each rendered body: feed text cannot name
# them (a fixed one would let a headline collect every reader's unsubscribe link). They look like links,
# so templates that only make hrefs from http(s) values keep them links; .invalid never resolves.


@dataclass(frozen=True, slots=True)
class _Marks:
    email: str
    unsubscribe: str
    view: str

    @classmethod
    def new(cls) -> _Marks:
        token = secrets.token_hex(16)
        return cls(f"@@{token}@@", f"https://{token}.invalid/unsubscribe", f"https://{token}.invalid/view")


# CRLF line ends as SMTP wants them, and RFC 5322's 998-character line limit: the default 78 makes the
# email package RFC 2047-encode a long List-Unsubscribe URL, which mail providers then cannot read.
MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)
# Inboxes show 40-70 characters of a subject; past this one is cut, at a word, by Planwatch, not mid-word
# by the client.
MAX_SUBJECT = 80
UNSUBSCRIBE_VALID = timedelta(days=400)  # a link in an old mail must still let the reader leave
VIEW_VALID = timedelta(days=30)
CONFIRM_VALID = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class Composed:
    """A mail: its headers (made by the email package, which folds and encodes them correctly) and its
    two parts. The MIME body is assembled here, each part base64-encoded: the email package's
    quoted-printable encoder took 3.5 of a digest's 5 ms for a 100 KB HTML part; base64 in C takes 0.5."""

    headers: EmailMessage
    text: str
    html: str
    has_news: bool

    @property
    def message_id(self) -> str:
        return str(self.headers["Message-ID"])

    def as_bytes(self) -> bytes:
        boundary = f"=_planwatch_{secrets.token_hex(12)}"  # '_' is not in the base64 alphabet
        head = self.headers.as_bytes().rstrip(b"\r\n")
        parts = [
            head,
            b"MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{boundary}"'.encode(),
            b"",
            f"--{boundary}".encode(),
            *_part("plain", self.text),
            f"--{boundary}".encode(),
            *_part("html", self.html),
            f"--{boundary}--".encode(),
            b"",
        ]
        return b"\r\n".join(parts)


def _part(subtype: str, content: str) -> list[bytes]:
    encoded = base64.encodebytes(content.encode("utf-8")).replace(b"\n", b"\r\n").rstrip(b"\r\n")
    return [
        f'Content-Type: text/{subtype}; charset="utf-8"'.encode(),
        b"Content-Transfer-Encoding: base64",
        b"",
        encoded,
    ]


_BREAKS = frozenset({"Cc", "Zl", "Zp"})  # control characters, line and paragraph separators


def header_text(value: str) -> str:
    """Feed text fit for a header: a CR or LF would start a header of its own and bidi controls reorder
    what the reader sees. Control and line-separator characters become spaces, other invisible ones
    (format, private use, unassigned) go, and runs of space become one."""
    chars = (" " if unicodedata.category(c) in _BREAKS else "" if unicodedata.category(c)[0] == "C" else c for c in value)
    return " ".join("".join(chars).split())


def clip(text: str, limit: int) -> str:
    """TEXT in at most LIMIT characters, cut at a word with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-\u2013\u2014") + "\u2026"


def digest_subject(sections: list[dict[str, Any]]) -> str:
    """The topic and its lead news ("Ukraine peace plan: 14 new reports: Kremlin denies new proposals"),
    which is what a reader decides by in the inbox; the date is in the Date header already."""
    shown = [s for s in sections if s["report_count"]]
    titles = [header_text(s["title"]) for s in shown or sections]
    if not titles:
        return "Planwatch: nothing new since yesterday"
    head = titles[0] if len(titles) == 1 else f"{titles[0]} and {plural(len(titles) - 1, 'more topic')}"
    if not shown:
        return clip(f"{head}: nothing new since yesterday", MAX_SUBJECT)
    subject = f"{head}: {plural(sum(s['report_count'] for s in shown), 'new report')}"
    lead = header_text(next((s["lead"] for s in shown if s["lead"]), "") or "")
    room = MAX_SUBJECT - len(subject) - 2
    if lead and room >= 20:  # a few words at least, or none
        subject += f": {clip(lead, room)}"
    return clip(subject, MAX_SUBJECT)


def _sender_domain(settings: Settings) -> str:
    address = parseaddr(settings.mail_from)[1]
    return address.rpartition("@")[2] or "localhost"


def links(settings: Settings, signer: Signer, subscriber: Subscriber, digest_date: date | None = None) -> dict[str, str]:
    base = settings.public_url.rstrip("/")
    unsubscribe = signer.sign(Token("unsubscribe", subscriber.id), valid_for=UNSUBSCRIBE_VALID)
    out = {"unsubscribe": f"{base}/unsubscribe/{unsubscribe}"}
    if digest_date is not None:
        view = signer.sign(Token("view", subscriber.id, digest_date.isoformat()), valid_for=VIEW_VALID)
        out["view"] = f"{base}/digest/{view}"
    return out


def _headers(message: EmailMessage, settings: Settings, to: str, subject: str, message_id: str | None,
             unsubscribe_url: str | None, list_id: str) -> None:  # fmt: skip
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = message_id or make_msgid(domain=_sender_domain(settings))
    message["List-Id"] = f"Planwatch {list_id} <{list_id}.planwatch.{_sender_domain(settings)}>"
    if unsubscribe_url:
        targets = [f"<{unsubscribe_url}>"]
        if settings.unsubscribe_mailto:
            targets.append(f"<mailto:{settings.unsubscribe_mailto}?subject=unsubscribe>")
        message["List-Unsubscribe"] = ", ".join(targets)
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"


@dataclass
class DigestComposer:
    settings: Settings
    signer: Signer
    env: jinja2.Environment
    builder: DigestBuilder
    bodies: dict[tuple[Any, ...], tuple[str, str, str, bool, _Marks]] = field(default_factory=dict)

    async def digest(self, subscriber: Subscriber, window: Window, message_id: str | None = None) -> Composed:
        sections = await self.builder.sections(subscriber, window)
        key = (
            subscriber.scope,
            tuple(subscriber.topics),
            window.start,
            window.end,
            subscriber.hour,
            subscriber.timezone,
        )
        if key not in self.bodies:
            self.bodies[key] = self._render(subscriber, window, sections)
        subject, html_body, text, has_news, marks = self.bodies[key]
        own = links(self.settings, self.signer, subscriber, window.digest_date)
        html_body = (
            html_body.replace(marks.email, html.escape(subscriber.email))
            .replace(marks.unsubscribe, html.escape(own["unsubscribe"]))
            .replace(marks.view, html.escape(own["view"]))
        )
        text = (
            text.replace(marks.email, subscriber.email)
            .replace(marks.unsubscribe, own["unsubscribe"])
            .replace(marks.view, own["view"])
        )
        message = EmailMessage(policy=MAIL_POLICY)
        _headers(message, self.settings, subscriber.email, subject, message_id, own["unsubscribe"], "digest")
        return Composed(message, text, html_body, has_news)

    def _render(
        self, subscriber: Subscriber, window: Window, sections: list[dict[str, Any]]
    ) -> tuple[str, str, str, bool, _Marks]:
        marks = _Marks.new()
        has_news = any(s["report_count"] for s in sections)
        shown = [s for s in sections if s["report_count"]]
        names = ", ".join(s["name"] for s in sections) or "your topics"
        titles = ", ".join(s["title"] for s in sections) or "your topics"
        day = window.digest_date.strftime("%A %d %B %Y")
        subject = digest_subject(sections)
        total = sum(s["report_count"] for s in shown)
        # The first text of the body is what inboxes show as its preview: a visible line, not hidden text
        # in a 1px font (SpamAssassin's FONT_INVIS_MSGID scores that as spam).
        preheader = (f"{plural(total, 'new report')} on {titles} since yesterday" if has_news
                     else f"Nothing new on {titles} since yesterday")  # fmt: skip
        frequency = f"daily at {subscriber.hour:02d}:00 {subscriber.timezone}"
        digest = {
            "subject": subject, "preheader": preheader, "date_label": day,
            "window_label": f"since {window.start.astimezone(window.zone).strftime('%A %H:%M')} ({subscriber.timezone})",
            "frequency_label": frequency,
            "reason": f"You get this because {marks.email} subscribed to Planwatch digests on {names} and confirmed it.",
            "email": marks.email, "unsubscribe_url": marks.unsubscribe, "view_url": marks.view,
            "nothing_new": not has_news, "topics": shown,
        }  # fmt: skip
        html_body, text = render_pair(self.env, "digest", digest=digest)
        if len(html_body.encode()) > MAX_HTML_BYTES:  # keep under Gmail's clipping: fewer stories
            trimmed = [dict(s, stories=s["stories"][:3], more_stories=s["more_stories"] + max(len(s["stories"]) - 3, 0))
                       for s in shown]  # fmt: skip
            html_body, text = render_pair(self.env, "digest", digest=dict(digest, topics=trimmed))
        return subject, html_body, text, has_news, marks

    def confirmation(self, subscriber: Subscriber, requested_via: str, message_id: str | None = None) -> Composed:
        base = self.settings.public_url.rstrip("/")
        token = self.signer.sign(Token("confirm", subscriber.id), valid_for=CONFIRM_VALID)
        confirm = {
            "email": subscriber.email, "topics": subscriber.topics,
            "frequency_label": f"daily at {subscriber.hour:02d}:00 {subscriber.timezone}",
            "confirm_url": f"{base}/confirm/{token}", "code": subscriber.confirm_code or "",
            "expires_label": "48 hours", "requested_via": requested_via,
        }  # fmt: skip
        html_body, text = render_pair(self.env, "confirm", confirm=confirm)
        message = EmailMessage(policy=MAIL_POLICY)
        _headers(message, self.settings, subscriber.email, "Confirm your Planwatch digest", message_id, None, "confirm")
        return Composed(message, text, html_body, True)
