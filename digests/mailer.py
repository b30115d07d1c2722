"""Where mail goes: an SMTP server (aiosmtplib, one connection reused across a batch), or, with no
SMTP configured, .eml files in the outbox folder (the embedded default). Every outcome is one of
three: sent, a temporary failure (retry later), a permanent refusal of the address."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from types import TracebackType
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from planwatch.errors import ConfigError


class TemporaryFailure(Exception):
    """4xx reply, lost connection, timeout: the same message is tried again later."""


class PermanentFailure(Exception):
    """5xx reply for the address: this delivery failed."""


class SenderFailure(Exception):
    """The server refuses Planwatch itself (the sender, authentication, the message as such): no
    reader is at fault, so none is counted against; the batch stops and is tried again later."""


class Mailer(Protocol):
    async def send(self, sender: str, recipient: str, data: bytes, *, key: str) -> None: ...

    async def close(self) -> None: ...


class DirectoryMailer:
    """One .eml file per message, named by its outbox key: writing it again replaces it (no duplicates)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, sender: str, recipient: str, data: bytes, *, key: str) -> None:
        await asyncio.to_thread(self._write, key, data)

    def _write(self, key: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)[:120] + ".eml"
        target = self.folder / name
        temporary = target.with_suffix(".eml.part")
        temporary.write_bytes(data)
        temporary.replace(target)  # whole or not at all

    async def close(self) -> None:
        return None


class SmtpMailer:
    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError("PLANWATCH_SMTP_URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465")
        self.hostname = parts.hostname
        self.implicit_tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self.client: aiosmtplib.SMTP | None = None

    async def _connect(self) -> aiosmtplib.SMTP:
        if self.client is not None and self.client.is_connected:
            return self.client
        client = aiosmtplib.SMTP(
            hostname=self.hostname,
            port=self.port,
            use_tls=self.implicit_tls,
            # Credentials are never sent in the clear: STARTTLS is required then, else used when offered.
            start_tls=None if self.implicit_tls or not self.username else True,
            timeout=self.timeout,
        )
        try:
            await client.connect()
            if self.username and self.password:
                await client.login(self.username, self.password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            client.close()
            raise SenderFailure(f"the SMTP server refused Planwatch's login: {exc.code} {exc.message}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            client.close()
            raise TemporaryFailure(f"cannot connect to {self.hostname}:{self.port}: {exc}") from None
        self.client = client
        return client

    async def send(self, sender: str, recipient: str, data: bytes, *, key: str) -> None:
        client = await self._connect()
        try:
            errors, _ = await client.sendmail(sender, [recipient], data)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0]
            raise (PermanentFailure if refusal.code >= 500 else TemporaryFailure)(f"{refusal.code} {refusal.message}") from None
        except aiosmtplib.SMTPResponseException as exc:  # MAIL FROM or DATA refused: not this reader's address
            raise (SenderFailure if exc.code >= 500 else TemporaryFailure)(f"{exc.code} {exc.message}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self.client = None
            raise TemporaryFailure(f"connection lost: {exc.__class__.__name__}") from None
        if errors:
            code, message = next(iter(errors.values()))
            raise (PermanentFailure if code >= 500 else TemporaryFailure)(f"{code} {message}")

    async def close(self) -> None:
        if self.client is not None and self.client.is_connected:
            try:
                await self.client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                self.client.close()
        self.client = None

    async def __aenter__(self) -> SmtpMailer:
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()


def mailer_for(smtp_url: str | None, outbox_dir: Path) -> Mailer:
    return SmtpMailer(smtp_url) if smtp_url else DirectoryMailer(outbox_dir)


def outbox_key(digest_date: str, kind: str, subscriber_id: int, message_id: str) -> str:
    return f"{digest_date}-{kind}-{subscriber_id}-{hashlib.sha1(message_id.encode(), usedforsecurity=False).hexdigest()[:10]}"
