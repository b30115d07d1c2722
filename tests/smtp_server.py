"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the digest tests: it records what it accepts and can
refuse, greylist or stall on cue, so delivery is tested against the real protocol."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


# --- the server ------------------------------------------------------------------------------------
@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return parse(self.data)


@dataclass
class Recorder:
    """aiosmtpd handler: stores what it accepts; answers RCPT with a chosen reply per address; can stall
    the Nth DATA (never answering it) so that a test can stop the server under a message in flight."""

    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    stall_at: int | None = None
    data_commands: int = 0
    stalled: threading.Event = field(default_factory=threading.Event)
    stalled_server: SMTP | None = None
    mail_reply: str | None = None  # an answer to MAIL FROM (a server that refuses Planwatch itself)

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:  # fmt: skip
        if self.mail_reply is not None:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:  # fmt: skip
        reply = self.rcpt_replies.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_commands += 1
        if self.stall_at is not None and self.data_commands == self.stall_at:
            self.stalled_server = server
            self.stalled.set()
            await asyncio.Event().wait()  # no reply: the test stops the server under this message
        assert isinstance(envelope.content, bytes) and envelope.mail_from is not None
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 Message accepted for delivery"


def free_port() -> int:
    """A real free port (port 0 breaks the Controller's readiness check)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.handler = Recorder()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, server_hostname="smtp.test")
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def kill(self) -> None:
        """Drop the connection of the stalled message and stop the server. Deliberately blocking: the
        client (on the test's loop) sees the lost connection only once the server is really gone."""
        assert self.controller is not None
        server = self.handler.stalled_server
        if server is not None and server.transport is not None:
            self.controller.loop.call_soon_threadsafe(cast(asyncio.Transport, server.transport).abort)
        self.stop()

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.handler.received if address in r.rcpt_tos]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
