"""Test discord.py slash commands, autocomplete and views end to end, with no network.

The harness feeds a real ``discord.Interaction``, built from the INTERACTION_CREATE payload Discord
would send, through the real ``CommandTree`` (or the real view store for button presses), and records
the HTTP requests discord.py would make instead of making them. Tests then assert on that JSON and
check it against Discord's OpenAPI spec (``DiscordSpec``)::

    client = make_client()
    tree = app_commands.CommandTree(client)
    ...                                     # register commands on tree
    calls = await invoke(tree, client, interaction_payload(name="follow", options=[option("topic", "x")]))
    defer, follow_up = calls                # e.g. defer(ephemeral=True), then followup.send(embed=...)
    assert (defer.type, defer.data, follow_up.method) == (5, {"flags": 64}, "execute_webhook")
    DiscordSpec.load().validate_call(follow_up)

API
    RecordingAdapter            stands in for discord.py's webhook HTTP adapter; ``.calls``, ``.messages``,
                                ``.fail_next(...)``, ``.installed()``, ``RecordingAdapter.current()``
    Call, RecordedFile          one recorded request (``method``, ``payload``, ``files``, ``params``, ...)
    Calls                       list[Call] returned by invoke/press, with ``.interaction``
    make_client(), prepare_client(client)   a Client that looks logged in, without login or gateway
    add_guild(client, roles=..., channels=...)   cache a guild, as the guilds intent would
    snowflake(at=None)          a snowflake id carrying a time ("now" by default)
    option(name, value, type=None)          one command option as Discord sends it
    interaction_payload(...)    INTERACTION_CREATE for slash commands (type 2) and autocomplete (type 4)
    component_payload(...)      INTERACTION_CREATE for a button or select on a message (type 3)
    modal_payload(...)          INTERACTION_CREATE for a submitted modal (type 5)
    Origin                      the sender/place/time keywords the three builders share
    invoke(tree, client, payload), press(client, payload)   run an interaction, return the recorded calls
    stop_views(client)          stop the views a test left listening (cancels their timeout tasks)
    DiscordSpec                 JSON-schema validation against ../shared/corpus/discord-api-spec/openapi.json:
                                ``validate(name, x)``, ``errors(name, x)``, ``validate_call(call)``,
                                ``validate_commands(payload)``; ``SpecViolation``, ``normalise_ids``,
                                ``embed_total_chars``

discord.py internals this relies on (the project pins ``discord.py>=2.7,<2.8``; re-check on upgrade):
    * ``discord.webhook.async_.async_context``, the ContextVar holding the adapter that every
      interaction response, follow-up and webhook-message edit goes through, and
      ``AsyncWebhookAdapter.request(route, session, *, payload, multipart, files, params, ...)``, the one
      method that touches the network. ``RecordingAdapter`` overrides only ``request`` and names each
      call after the adapter method that builds that route (``_ROUTES``); ``discord.http.Route``'s
      ``method``, ``path``, ``url``, ``webhook_id``, ``webhook_token``.
    * What discord.py 2.7 expects back: every callback is POSTed with ``?with_response=1`` and the reply
      is parsed into an ``InteractionCallbackResponse`` (``{"interaction": {...}, "resource": {"type",
      "message"}}``; ``send_message`` stores a view under ``response_message_id``); follow-ups are
      ``execute_webhook`` with ``wait=1`` and need the created message back; edits need the message.
    * ``Client._connection`` (``ConnectionState``): ``user`` (a ``ClientUser``), ``application_id``,
      ``loop``, ``_view_store.dispatch_view`` / ``dispatch_modal`` (what ``parse_interaction_create``
      does for types 3 and 5), ``_add_guild`` (``add_guild``) and, in ``stop_views``, ``_view_store._views`` /
      ``_synced_message_views`` / ``_modals``. ``Client.loop`` and ``Client.http.loop`` are set as
      ``login`` sets them; ``Client.http.request`` is replaced by a function that refuses (so a command
      that calls the REST API, e.g. ``channel.send`` or ``tree.sync``, fails loudly instead of trying).
    * ``CommandTree._call(interaction)`` inside the wrapper ``CommandTree._from_interaction`` runs as a
      task, which sends an ``AppCommandError`` raised by ``_call`` itself (unknown command, failed
      ``interaction_check``, signature mismatch) to ``CommandTree._dispatch_error``.
    * The view timeout task is a coroutine named ``...__timeout_task_impl``: not waited for.
    Not discord.py: to wait for the tasks an interaction starts, the harness installs a task factory
    on the running loop (chained to any existing one) that reports tasks to a ContextVar.

Spec validation (``DiscordSpec``). discord.py 2.7's JSON is validated as it would go over the wire,
with one normalisation, ``normalise_ids``: discord.py writes two kinds of ids as JSON integers
(``attachments[].id``, the index of a new upload, and ``allowed_mentions.users`` / ``.roles``) where
the spec's ``SnowflakeType`` is a decimal string; Discord takes the integers, so ``validate_call``
writes them as strings first. Nothing else needed changing: the spec allows ``null`` wherever
discord.py sends it (``content: null``, ``default_member_permissions: null``, ``embeds: []``), and
``embed.type: "rich"``. No limit is loosened; two checks are added: the 6,000-character total across
a message's embeds (Discord's docs; not in the spec) and a callback's schema chosen by its own
``type``. Formats (``uri``, ``date-time``, ``snowflake``) are not asserted, as JSON Schema's default.
Mind what the spec cannot catch: its schemas allow unknown properties (one ``additionalProperties:
false`` in the whole file), so a misspelled key validates; assert on the exact JSON too.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypedDict, TypeVar, Unpack, cast

import aiohttp
import discord
from discord import app_commands
from discord.http import Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context
from jsonschema import Draft202012Validator  # type: ignore[import-untyped,unused-ignore]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

JSON = dict[str, Any]
ClientT = TypeVar("ClientT", bound=discord.Client)

DISCORD_EPOCH_MS = 1_420_070_400_000
APPLICATION_ID = 1_234_567_890_123_456_789  # also the bot user's id, as for every modern application
GUILD_ID = 1_100_000_000_000_000_001
CHANNEL_ID = 1_100_000_000_000_000_002
USER_ID = 1_100_000_000_000_000_003
# What a plain member has in a plain channel; widen it in a test, e.g. EVERYONE_PERMISSIONS | (1 << 5).
EVERYONE_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, use_application_commands=True).value
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, embed_links=True, attach_files=True, read_message_history=True
).value
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
EPHEMERAL = 64
LOADING = 128

_increment = itertools.count()


def snowflake(at: datetime | None = None) -> int:
    """A snowflake whose timestamp is ``at`` (default now, UTC); the low bits keep ids unique."""
    when = at or datetime.now(UTC)
    millis = int(when.timestamp() * 1000) - DISCORD_EPOCH_MS
    return (millis << 22) | (next(_increment) & 0xFFF)


def _iso(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).isoformat()


# --------------------------------------------------------------------------------------------------
# Recording adapter
# --------------------------------------------------------------------------------------------------

# (HTTP method, route template) -> the AsyncWebhookAdapter method that builds it.
_ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/interactions/{webhook_id}/{webhook_token}/callback"): "create_interaction_response",
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"): "get_original_interaction_response",
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"): "edit_original_interaction_response",
    ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"): "delete_original_interaction_response",
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"): "execute_webhook",
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"): "get_webhook_message",
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"): "edit_webhook_message",
    ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"): "delete_webhook_message",
}

# Fields of a message request body that become fields of the message.
_MESSAGE_FIELDS = ("content", "embeds", "components", "attachments", "tts", "poll")


@dataclass(frozen=True)
class RecordedFile:
    filename: str
    data: bytes
    description: str | None = None
    spoiler: bool = False


@dataclass(frozen=True)
class Call:
    """One HTTP request discord.py made through the adapter (and did not send)."""

    method: str  # the AsyncWebhookAdapter method, e.g. "create_interaction_response", "execute_webhook"
    http_method: str  # "POST", "PATCH", ...
    path: str  # route template, e.g. "/webhooks/{webhook_id}/{webhook_token}"
    url: str
    payload: JSON | None  # the JSON body; for multipart uploads the decoded ``payload_json`` part
    files: tuple[RecordedFile, ...] = ()
    params: dict[str, Any] | None = None  # the query string, e.g. {"wait": 1, "with_components": 0}
    webhook_id: int | None = None  # interaction id for callbacks, application id for webhooks
    token: str | None = None
    message_id: str | None = None  # "@original" or a message id, for message routes
    response: Any = None  # what the adapter answered (None when it raised)

    @property
    def type(self) -> int | None:
        """The interaction callback type (4 message, 5 deferred, 6/7 update, 8 autocomplete, 9 modal)."""
        if self.method != "create_interaction_response" or self.payload is None:
            return None
        return cast(int, self.payload["type"])

    @property
    def data(self) -> JSON | None:
        """The callback's ``data`` object as sent (``None`` when absent, e.g. a plain defer)."""
        if self.method != "create_interaction_response" or self.payload is None:
            return None
        return cast("JSON | None", self.payload.get("data"))

    @property
    def body(self) -> JSON:
        """The message fields of the request whatever its kind: callback ``data`` or the webhook body."""
        if self.method == "create_interaction_response":
            return self.data or {}
        return self.payload or {}

    @property
    def content(self) -> str | None:
        return cast("str | None", self.body.get("content"))

    @property
    def embeds(self) -> list[JSON]:
        return cast("list[JSON]", self.body.get("embeds") or [])

    @property
    def components(self) -> list[JSON]:
        return cast("list[JSON]", self.body.get("components") or [])

    @property
    def flags(self) -> int:
        return cast(int, self.body.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def message(self) -> JSON | None:
        """The message the fake Discord answered with (created or edited), if any."""
        response = self.response
        if not isinstance(response, dict):
            return None
        if "interaction" in response:
            resource = response.get("resource") or {}
            return cast("JSON | None", resource.get("message"))
        return response if "channel_id" in response else None


class Calls(list[Call]):
    """The calls one ``invoke``/``press`` made (those with its token), in order, and its ``Interaction``."""

    interaction: discord.Interaction[discord.Client]

    def of(self, method: str) -> list[Call]:
        return [c for c in self if c.method == method]


class _FakeResponse:
    """Just enough of an aiohttp response for ``discord.HTTPException``."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason


@dataclass
class _Failure:
    status: int
    code: int
    message: str


@dataclass
class _Context:
    """What the fake Discord knows about one interaction it delivered."""

    payload: JSON
    author: JSON  # the bot user, as a message author


class RecordingAdapter(AsyncWebhookAdapter):
    """Records every webhook/interaction request and answers like Discord would (roughly, see below).

    Answers: a callback returns an InteractionCallbackResponse (``interaction`` and, for types 4 and 7,
    ``resource.message``); ``execute_webhook`` with ``wait`` returns the new message; message edits
    return the edited message; gets return the stored message; deletes return None. Messages are kept
    in ``messages`` (id -> payload) so an edit or a later button press sees the message as it now is.
    Routes it does not know (webhook management) are recorded and then raise NotImplementedError.
    """

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # discord.py leaves it unannotated
        self.calls: list[Call] = []
        self.messages: dict[int, JSON] = {}
        self._contexts: dict[int, _Context] = {}  # interaction id -> context
        self._by_token: dict[str, _Context] = {}
        self._originals: dict[str, int] = {}  # interaction token -> original response message id
        self._failures: dict[str, list[_Failure]] = {}

    # -- set-up ------------------------------------------------------------------------------------

    @classmethod
    def current(cls) -> RecordingAdapter:
        """The recorder installed in this context; installs a new one (for the current task) if none."""
        adapter = async_context.get()
        if isinstance(adapter, RecordingAdapter):
            return adapter
        recorder = cls()
        async_context.set(recorder)
        return recorder

    @contextlib.contextmanager
    def installed(self) -> Iterator[RecordingAdapter]:
        """Make this the adapter discord.py uses inside the ``with`` block (and in tasks started there)."""
        token = async_context.set(self)
        try:
            yield self
        finally:
            async_context.reset(token)

    def track(self, payload: Mapping[str, Any], client: discord.Client) -> None:
        """Remember an interaction so answers to it carry the right channel, author and message."""
        user = client.user
        author = _user(user.id, user.name, bot=True) if user else _user(int(payload["application_id"]), bot=True)
        context = _Context(payload=dict(payload), author=author)
        self._contexts[int(payload["id"])] = context
        self._by_token[str(payload["token"])] = context
        message = payload.get("message")
        if isinstance(message, dict):
            message_id = int(message["id"])
            self.messages.setdefault(message_id, copy.deepcopy(message))
            # For a component interaction "@original" is the message the component is on.
            self._originals.setdefault(str(payload["token"]), message_id)

    def fail_next(self, method: str, *, status: int = 404, code: int = 10062, message: str = "Unknown interaction") -> None:
        """Make the next ``method`` call (e.g. "create_interaction_response") fail as Discord would.

        The defaults are what Discord answers when the 3-second window was missed. 403 raises
        ``discord.Forbidden``, 404 ``discord.NotFound``, 5xx ``discord.DiscordServerError``, else
        ``discord.HTTPException``. The call is still recorded (with ``response=None``).
        """
        self._failures.setdefault(method, []).append(_Failure(status, code, message))

    # -- the one method that would touch the network ---------------------------------------------

    async def request(
        self,
        route: Route,
        session: aiohttp.ClientSession,
        *,
        payload: dict[str, Any] | None = None,
        multipart: list[dict[str, Any]] | None = None,
        proxy: str | None = None,
        proxy_auth: aiohttp.BasicAuth | None = None,
        files: Sequence[discord.File] | None = None,
        reason: str | None = None,
        auth_token: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        method = _ROUTES.get((route.method, route.path), f"{route.method} {route.path}")
        body = copy.deepcopy(payload) if payload is not None else None
        if body is None and multipart:
            for part in multipart:
                if part.get("name") == "payload_json":
                    body = json.loads(part["value"])
        message_id: str | None = None
        if "/messages/" in route.path:
            message_id = route.url.rsplit("/", 1)[-1]
        webhook_id = int(route.webhook_id) if route.webhook_id is not None else None
        call = Call(
            method=method,
            http_method=route.method,
            path=route.path,
            url=route.url,
            payload=body,
            files=tuple(_record_file(f) for f in files or ()),
            params=dict(params) if params is not None else None,
            webhook_id=webhook_id,
            token=route.webhook_token,
            message_id=message_id,
        )
        failures = self._failures.get(method)
        if failures:
            self.calls.append(call)
            raise _http_error(failures.pop(0))
        response = self._answer(call)
        self.calls.append(_with_response(call, response))
        return copy.deepcopy(response)

    # -- fake Discord -------------------------------------------------------------------------------

    def _answer(self, call: Call) -> Any:
        token = call.token or ""
        context = self._by_token.get(token)
        if call.method == "create_interaction_response":
            return self._callback(call, self._contexts.get(call.webhook_id or 0) or context)
        if call.method == "execute_webhook":
            if not (call.params or {}).get("wait"):
                return None
            return self._new_message(call.payload or {}, context, message_type=0)
        if call.method in ("get_original_interaction_response", "get_webhook_message"):
            return self._stored(self._message_id(call))
        if call.method in ("edit_original_interaction_response", "edit_webhook_message"):
            return self._edit(self._message_id(call), call.payload or {}, context)
        if call.method in ("delete_original_interaction_response", "delete_webhook_message"):
            self._stored(self._message_id(call))
            self.messages.pop(self._message_id(call) or 0, None)
            return None
        raise NotImplementedError(f"RecordingAdapter has no answer for {call.http_method} {call.path}")

    def _callback(self, call: Call, context: _Context | None) -> JSON:
        body = call.payload or {}
        callback_type = int(body["type"])
        data: JSON = body.get("data") or {}
        interaction_type = int(context.payload["type"]) if context else 2
        answer: JSON = {"interaction": {"id": str(call.webhook_id), "type": interaction_type}}
        info = answer["interaction"]
        if context is not None:
            if context.payload.get("channel_id"):
                info["channel_id"] = str(context.payload["channel_id"])
            if context.payload.get("guild_id"):
                info["guild_id"] = str(context.payload["guild_id"])
        if callback_type == 4:
            message = self._new_message(data, context, message_type=20 if interaction_type == 2 else 0)
            self._originals[call.token or ""] = int(message["id"])
            info.update(
                response_message_id=message["id"],
                response_message_loading=False,
                response_message_ephemeral=bool(message["flags"] & EPHEMERAL),
            )
            answer["resource"] = {"type": 4, "message": message}
        elif callback_type == 5:
            # Discord shows a "thinking..." message (flag LOADING) that the follow-up edits.
            flags = int(data.get("flags") or 0) | LOADING
            message = self._new_message({"flags": flags}, context, message_type=20 if interaction_type == 2 else 0)
            self._originals[call.token or ""] = int(message["id"])
            info.update(
                response_message_id=message["id"],
                response_message_loading=True,
                response_message_ephemeral=bool(flags & EPHEMERAL),
            )
        elif callback_type in (6, 7):
            message_id = self._originals.get(call.token or "")
            if message_id is not None:
                info["response_message_id"] = str(message_id)
            if callback_type == 7:
                message = self._edit(message_id, data, context)
                answer["resource"] = {"type": 7, "message": message}
        return answer

    def _message_id(self, call: Call) -> int | None:
        if call.message_id == "@original":
            return self._originals.get(call.token or "")
        return int(call.message_id) if call.message_id and call.message_id.isdigit() else None

    def _stored(self, message_id: int | None) -> JSON:
        if message_id is None or message_id not in self.messages:
            raise _http_error(_Failure(404, 10008, "Unknown Message"))
        return self.messages[message_id]

    def _new_message(self, body: Mapping[str, Any], context: _Context | None, *, message_type: int) -> JSON:
        payload = context.payload if context else {}
        application_id = str(payload.get("application_id", APPLICATION_ID))
        author = context.author if context else _user(int(application_id), bot=True)
        message = _bare_message(snowflake(), message_type, payload.get("channel_id", CHANNEL_ID), author)
        message.update(webhook_id=application_id, application_id=application_id)
        if payload.get("guild_id"):
            message["guild_id"] = str(payload["guild_id"])
        if context is not None:
            user = (payload.get("member") or {}).get("user") or payload.get("user") or {}
            message["interaction_metadata"] = {
                "id": str(payload["id"]),
                "type": int(payload["type"]),
                "user": user,
                "authorizing_integration_owners": payload.get("authorizing_integration_owners", {}),
            }
            if isinstance(payload.get("message"), dict):
                message["interaction_metadata"]["interacted_message_id"] = str(payload["message"]["id"])
        _apply(message, body)
        self.messages[int(message["id"])] = message
        return message

    def _edit(self, message_id: int | None, body: Mapping[str, Any], context: _Context | None) -> JSON:
        if message_id is None or message_id not in self.messages:
            message = self._new_message({}, context, message_type=0)
            if message_id is not None:
                del self.messages[int(message["id"])]
                message["id"] = str(message_id)
                self.messages[message_id] = message
        else:
            message = self.messages[message_id]
        _apply(message, body)
        message["flags"] = int(message.get("flags") or 0) & ~LOADING
        message["edited_timestamp"] = _iso()
        return message


def _apply(message: JSON, body: Mapping[str, Any]) -> None:
    """Apply a message request body to a stored message, as Discord does (null clears)."""
    for key in _MESSAGE_FIELDS:
        if key in body:
            value = copy.deepcopy(body[key])
            message[key] = value if value is not None else ([] if key != "content" else "")
    if body.get("flags") is not None:
        message["flags"] = int(body["flags"])
    for embed in message.get("embeds") or []:
        embed.setdefault("type", "rich")
    _number_components(message.get("components") or [], itertools.count(1))
    for index, attachment in enumerate(message.get("attachments") or []):
        if not isinstance(attachment.get("id"), str):  # a new upload names its file index: Discord assigns an id
            attachment["id"] = str(snowflake())
        attachment.setdefault("filename", f"file{index}")
        attachment.setdefault("size", 0)
        attachment.setdefault("url", f"https://cdn.discordapp.com/attachments/0/{attachment['id']}")
        attachment.setdefault("proxy_url", attachment["url"])


def _number_components(components: list[JSON], ids: Iterator[int]) -> None:
    """As Discord answers components: numeric ``id``s assigned depth first from 1, null fields left out."""
    for component in components:
        _drop_nulls(component)
        component.setdefault("id", next(ids))
        _number_components(component.get("components") or [], ids)
        if isinstance(component.get("component"), dict):  # a section's or label's single child
            _number_components([component["component"]], ids)
        if isinstance(component.get("accessory"), dict):
            _number_components([component["accessory"]], ids)


def _drop_nulls(value: Any) -> None:
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for item in value.values():
            _drop_nulls(item)
    elif isinstance(value, list):
        for item in value:
            _drop_nulls(item)


def _record_file(file: discord.File) -> RecordedFile:
    file.reset(seek=0)
    data = file.fp.read()
    file.reset(seek=0)
    return RecordedFile(filename=file.filename or "", data=bytes(data), description=file.description, spoiler=file.spoiler)


def _with_response(call: Call, response: Any) -> Call:
    return Call(**{**call.__dict__, "response": copy.deepcopy(response)})


def _http_error(failure: _Failure) -> discord.HTTPException:
    reasons = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests"}
    response = cast(Any, _FakeResponse(failure.status, reasons.get(failure.status, "Error")))
    message = {"code": failure.code, "message": failure.message}
    if failure.status == 403:
        return discord.Forbidden(response, message)
    if failure.status == 404:
        return discord.NotFound(response, message)
    if failure.status >= 500:
        return discord.DiscordServerError(response, message)
    return discord.HTTPException(response, message)


# --------------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------------


def prepare_client(client: ClientT, *, application_id: int = APPLICATION_ID, bot_name: str = "Planwatch") -> ClientT:
    """Make a client look logged in (a ``ClientUser`` and an application id), without any I/O.

    Use it on clients you build yourself (e.g. the project's own ``Client``/``Bot`` subclass).
    """
    state = client._connection
    state.user = discord.ClientUser(
        state=state,
        data={
            "id": str(application_id),
            "username": bot_name,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
        },
    )
    state.application_id = application_id

    async def no_network(route: Route, **kwargs: Any) -> Any:
        raise RuntimeError(
            f"no network in tests: discord.py called Client.http for {route.method} {route.path}; "
            "the harness records interaction and webhook calls only"
        )

    client.http.request = no_network  # type: ignore[method-assign]
    return client


def make_client(*, application_id: int = APPLICATION_ID, intents: discord.Intents | None = None) -> discord.Client:
    """A real ``discord.Client`` (``Intents.none()`` unless given) that looks logged in; no network."""
    client = discord.Client(intents=intents if intents is not None else discord.Intents.none(), application_id=application_id)
    return prepare_client(client, application_id=application_id)


def add_guild(
    client: discord.Client,
    *,
    guild_id: int = GUILD_ID,
    name: str = "Test guild",
    roles: Mapping[int, str] | None = None,
    channels: Mapping[int, str] | None = None,
) -> discord.Guild:
    """Cache a guild as its GUILD_CREATE would (a bot with the guilds intent has it), with text channels.

    Without it the guild an interaction comes from is a stub built from the payload, as for a bot
    without the guilds intent: it has no roles or channels, so ``checks.has_role`` refuses everyone and
    ``discord.TextChannel``/``discord.Role`` options fail to convert (``AppCommandChannel`` works).
    ``roles`` and ``channels`` map ids to names; the @everyone role gets ``EVERYONE_PERMISSIONS``.
    """
    role_payloads: list[JSON] = [{"id": str(guild_id), "name": "@everyone", "permissions": str(EVERYONE_PERMISSIONS)}]
    role_payloads += [{"id": str(i), "name": n, "permissions": "0"} for i, n in (roles or {}).items()]
    for position, role in enumerate(role_payloads):
        role.update(position=position, color=0, hoist=False, managed=False, mentionable=False, flags=0)
    data = {
        "id": str(guild_id),
        "name": name,
        "owner_id": str(USER_ID + 1),
        "roles": role_payloads,
        "channels": [
            {"id": str(i), "type": 0, "name": n, "position": p, "permission_overwrites": [], "guild_id": str(guild_id)}
            for p, (i, n) in enumerate((channels or {CHANNEL_ID: "general"}).items())
        ],
        "emojis": [],
        "stickers": [],
        "features": [],
        "members": [],
        "threads": [],
        "member_count": 2,
    }
    guild = discord.Guild(data=cast(Any, data), state=client._connection)
    client._connection._add_guild(guild)
    return guild


def _bind_loop(client: discord.Client) -> None:
    """What ``login`` does first: give the client and its state the running loop."""
    loop = asyncio.get_running_loop()
    if client.loop is not loop:
        client.loop = loop
        client.http.loop = loop
        client._connection.loop = loop


def stop_views(client: discord.Client) -> None:
    """Stop every view still listening on this client (their timeout tasks would outlive the test)."""
    store = client._connection._view_store
    views = {item.view for items in store._views.values() for item in items.values() if item.view is not None}
    views.update(store._synced_message_views.values())
    views.update(store._modals.values())
    for view in views:
        view.stop()


# --------------------------------------------------------------------------------------------------
# Payloads
# --------------------------------------------------------------------------------------------------

_OPTION_TYPES: dict[type, int] = {bool: 5, int: 4, float: 10, str: 3}


def option(name: str, value: Any, type: int | None = None, *, focused: bool = False) -> JSON:
    """One option as Discord sends it; ``type`` is inferred from ``value`` (str 3, int 4, bool 5, float 10).

    For user/channel/role/mentionable/attachment options pass ``type`` and the id as ``value``, and
    the matching ``resolved`` data to ``interaction_payload``.
    """
    if type is None:
        type = _OPTION_TYPES.get(value.__class__)
        if type is None:
            raise TypeError(f"cannot infer the option type of {value!r}; pass type=")
    result: JSON = {"name": name, "type": type, "value": value}
    if focused:
        result["focused"] = True
    return result


def _bare_message(message_id: int | str, message_type: int, channel_id: int | str, author: JSON) -> JSON:
    """A message object with every field Discord always sends, empty."""
    return {
        "id": str(message_id),
        "type": message_type,
        "channel_id": str(channel_id),
        "author": author,
        "content": "",
        "timestamp": _iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": False,
        "flags": 0,
    }


def _user(user_id: int, name: str | None = None, *, bot: bool = False) -> JSON:
    """A user object with every field the spec's ``UserResponse`` requires."""
    user: JSON = {
        "id": str(user_id),
        "username": name or f"user{user_id % 10_000}",
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": None,
    }
    if bot:
        user["bot"] = True
    return user


class Origin(TypedDict, total=False):
    """Who sends an interaction, from where, and when (keyword arguments of the payload builders)."""

    guild_id: int | None  # default GUILD_ID; None makes it a DM (``user`` instead of ``member``)
    channel_id: int  # default CHANNEL_ID
    user_id: int  # default USER_ID
    user_name: str | None
    permissions: int  # the member's resolved permissions in the channel; default EVERYONE_PERMISSIONS
    roles: Sequence[int]  # the member's role ids
    interaction_id: int | None  # default a snowflake of ``at``
    at: datetime | None  # when the interaction happens (default now): cooldowns read it from the id
    app_permissions: int  # the bot's permissions in the channel; default BOT_PERMISSIONS
    application_id: int
    locale: str
    token: str | None


def _base_payload(type: int, data: JSON, origin: Origin) -> JSON:
    """The INTERACTION_CREATE fields every interaction type shares, as Discord sends them."""
    at = origin.get("at")
    interaction_id = origin.get("interaction_id")
    if interaction_id is None:
        interaction_id = snowflake(at)
    guild_id = origin.get("guild_id", GUILD_ID)
    channel_id = origin.get("channel_id", CHANNEL_ID)
    permissions = origin.get("permissions", EVERYONE_PERMISSIONS)
    user = _user(origin.get("user_id", USER_ID), origin.get("user_name"))
    payload: JSON = {
        "id": str(interaction_id),
        "application_id": str(origin.get("application_id", APPLICATION_ID)),
        "type": type,
        "data": data,
        "channel_id": str(channel_id),
        "token": origin.get("token") or f"harness-token-{interaction_id}",
        "version": 1,
        "app_permissions": str(origin.get("app_permissions", BOT_PERMISSIONS)),
        "locale": origin.get("locale", "en-US"),
        "entitlements": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if guild_id is None:
        payload["user"] = user
        payload["context"] = 1  # BOT_DM
        payload["authorizing_integration_owners"] = {"0": "0"}
        payload["channel"] = {
            "id": str(channel_id),
            "type": 1,
            "recipients": [user],
            "last_message_id": None,
            "flags": 0,
        }
        return payload
    payload["guild_id"] = str(guild_id)
    payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
    payload["guild_locale"] = "en-US"
    payload["context"] = 0  # GUILD
    payload["authorizing_integration_owners"] = {"0": str(guild_id)}
    payload["channel"] = {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(guild_id),
        "name": "general",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }
    payload["member"] = {
        "user": user,
        "roles": [str(r) for r in origin.get("roles", ())],
        "permissions": str(permissions),
        "joined_at": "2024-01-01T00:00:00+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "nick": None,
        "avatar": None,
        "communication_disabled_until": None,
    }
    return payload


def interaction_payload(
    *,
    name: str,
    options: Sequence[Mapping[str, Any]] | None = None,
    type: int = 2,
    subcommand: str | None = None,
    subcommand_group: str | None = None,
    focused: str | None = None,
    resolved: Mapping[str, Any] | None = None,
    command_id: int | None = None,
    command_guild_id: int | None = None,
    **origin: Unpack[Origin],
) -> JSON:
    """INTERACTION_CREATE for a chat-input command (``type=2``) or its autocomplete (``type=4``).

    ``options`` are the leaf options (see ``option``); they are nested under ``subcommand`` and
    ``subcommand_group`` as Discord nests them. ``focused`` names the option being typed in (autocomplete;
    its value is sent as the string typed so far). ``resolved`` carries the users, members, roles,
    channels and attachments that id-valued options refer to. ``command_guild_id`` is set when the
    command is registered in a guild: Discord then sends ``data.guild_id`` and the tree looks the
    command up there. The sender, place and time are ``Origin`` keywords: ``guild_id``, ``user_id``,
    ``permissions``, ``roles``, ``channel_id``, ``interaction_id``, ``at``, ...
    """
    leaves = [dict(o) for o in options or ()]
    if focused is not None:
        matches = [o for o in leaves if o["name"] == focused]
        if not matches:
            raise ValueError(f"focused option {focused!r} is not among the options")
        for leaf in leaves:
            leaf.pop("focused", None)
        matches[0]["focused"] = True
        matches[0]["value"] = str(matches[0]["value"])
    nested: list[JSON] = leaves
    if subcommand is not None:
        nested = [{"name": subcommand, "type": 1, "options": nested}]
    if subcommand_group is not None:
        if subcommand is None:
            raise ValueError("a subcommand_group needs a subcommand")
        nested = [{"name": subcommand_group, "type": 2, "options": nested}]
    data: JSON = {
        "id": str(command_id if command_id is not None else snowflake(datetime(2024, 1, 1, tzinfo=UTC))),
        "name": name,
        "type": 1,
        "options": nested,
    }
    if command_guild_id is not None:
        data["guild_id"] = str(command_guild_id)
    if resolved:
        data["resolved"] = dict(resolved)
    return _base_payload(type, data, origin)


def component_payload(
    custom_id: str,
    message_id: int | None = None,
    *,
    message: Mapping[str, Any] | None = None,
    component_type: int = 2,
    values: Sequence[str] | None = None,
    **origin: Unpack[Origin],
) -> JSON:
    """INTERACTION_CREATE for a click on a button (``component_type=2``) or a select (3, with ``values``).

    Pass the ``message`` the component is on (e.g. ``call.message`` of the call that sent it, or
    ``adapter.messages[id]``) so the view store finds the view by message id, as in production;
    or only ``message_id`` for a minimal message.
    """
    if message is None:
        if message_id is None:
            raise ValueError("give the message (or at least message_id) the component is on")
        author = _user(origin.get("application_id", APPLICATION_ID), bot=True)
        message = _bare_message(message_id, 0, origin.get("channel_id", CHANNEL_ID), author)
    data: JSON = {"custom_id": custom_id, "component_type": component_type}
    if values is not None:
        data["values"] = list(values)
    payload = _base_payload(3, data, origin)
    payload["message"] = copy.deepcopy(dict(message))
    return payload


def modal_payload(
    custom_id: str, values: Mapping[str, str], *, message: Mapping[str, Any] | None = None, **origin: Unpack[Origin]
) -> JSON:
    """INTERACTION_CREATE for a submitted modal (type 5): ``values`` maps text inputs' custom ids to text.

    Each input comes in an action row, as Discord sends classic text-input modals. ``message`` is the
    message whose button opened the modal, if any.
    """
    rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]
    payload = _base_payload(5, {"custom_id": custom_id, "components": rows}, origin)
    if message is not None:
        payload["message"] = copy.deepcopy(dict(message))
    return payload


# --------------------------------------------------------------------------------------------------
# Running interactions
# --------------------------------------------------------------------------------------------------


# Tasks created while an interaction is delivered are appended to the list in this ContextVar. The
# variable is read in the creating task's context, and tasks inherit a copy of it, so tasks started by
# those tasks are caught too, and two interactions delivered concurrently keep separate lists.
_spawned: ContextVar[list[asyncio.Task[Any]] | None] = ContextVar("discord_harness_spawned", default=None)


def _track_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Install (once per loop) a task factory that reports new tasks to ``_spawned``."""
    previous = loop.get_task_factory()
    if getattr(previous, "discord_harness", False):
        return

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Future[Any]:
        task = previous(loop, coro, **kwargs) if previous is not None else asyncio.Task(coro, loop=loop, **kwargs)
        sink = _spawned.get()
        if sink is not None and isinstance(task, asyncio.Task):
            sink.append(task)
        return task

    factory.discord_harness = True  # type: ignore[attr-defined]
    loop.set_task_factory(factory)


def _is_background(task: asyncio.Task[Any]) -> bool:
    """A view's timeout task lives as long as the view: waiting for it would wait for the timeout."""
    name = getattr(task.get_coro(), "__qualname__", "")
    return isinstance(name, str) and name.endswith("__timeout_task_impl")


async def _settle(spawned: list[asyncio.Task[Any]], timeout: float) -> None:
    """Wait for the tasks the interaction started (and the tasks they start); re-raise their errors."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while pending := [t for t in spawned if not t.done() and not _is_background(t)]:
        remaining = deadline - loop.time()
        if remaining <= 0:
            names = ", ".join(sorted(t.get_name() for t in pending))
            raise TimeoutError(f"tasks still running {timeout}s after the interaction: {names}")
        await asyncio.wait(pending, timeout=remaining)
    errors = [e for t in spawned if t.done() and not t.cancelled() and (e := t.exception()) is not None]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise BaseExceptionGroup("tasks started by the interaction failed", errors)


async def _deliver(
    client: discord.Client,
    payload: Mapping[str, Any],
    tree: app_commands.CommandTree[Any] | None,
    adapter: RecordingAdapter | None,
    timeout: float,
) -> Calls:
    """What ``ConnectionState.parse_interaction_create`` does, with the recorder installed."""
    _bind_loop(client)
    _track_tasks(asyncio.get_running_loop())
    recorder = adapter or RecordingAdapter.current()
    spawned: list[asyncio.Task[Any]] = []
    with recorder.installed():
        sink = _spawned.set(spawned)
        try:
            recorder.track(payload, client)
            start = len(recorder.calls)
            state = client._connection
            interaction: discord.Interaction[discord.Client] = discord.Interaction(data=cast(Any, payload), state=state)
            kind = int(payload["type"])
            data = payload.get("data") or {}
            if kind in (2, 4):
                if tree is None:
                    raise ValueError("application command and autocomplete interactions need the tree: use invoke")
                # Held in ``spawned`` by the task factory, like every task the interaction starts.
                asyncio.create_task(_run_tree(tree, interaction), name="CommandTree-invoker")  # noqa: RUF006
            elif kind == 3:
                state._view_store.dispatch_view(int(data["component_type"]), str(data["custom_id"]), interaction)
            elif kind == 5:
                state._view_store.dispatch_modal(
                    str(data["custom_id"]), interaction, data["components"], data.get("resolved", {})
                )
            else:
                raise ValueError(f"interaction type {kind} is not handled by the harness")
            client.dispatch("interaction", interaction)
        finally:
            _spawned.reset(sink)
        await _settle(spawned, timeout)
    # This interaction's calls: they carry its token (other interactions may run meanwhile).
    calls = Calls(c for c in recorder.calls[start:] if c.token == payload["token"])
    calls.interaction = interaction
    return calls


async def _run_tree(tree: app_commands.CommandTree[Any], interaction: discord.Interaction[discord.Client]) -> None:
    # The body of the task CommandTree._from_interaction starts.
    try:
        await tree._call(interaction)
    except app_commands.AppCommandError as error:
        await tree._dispatch_error(interaction, error)


async def invoke(
    tree: app_commands.CommandTree[Any],
    client: discord.Client,
    payload: Mapping[str, Any],
    *,
    adapter: RecordingAdapter | None = None,
    timeout: float = 5.0,
) -> Calls:
    """Run a command or autocomplete interaction through ``tree`` and return the HTTP calls it made.

    Builds ``discord.Interaction(data=payload, state=client._connection)``, runs ``tree._call`` (errors
    go to the tree's error handlers as in production), then waits up to ``timeout`` seconds for the tasks
    that started (view callbacks, ``on_interaction`` listeners, your own ``create_task``s), re-raising
    their exceptions. Returns the calls made with this interaction's token, in order (``adapter.calls``
    has every call). ``adapter`` defaults to the recorder installed in this task (one is installed if
    none is), so consecutive calls in a test share the fake Discord's messages; pass one explicitly
    when interactions run concurrently (e.g. a command that waits for a button press).
    """
    return await _deliver(client, payload, tree, adapter, timeout)


async def press(
    client: discord.Client,
    payload: Mapping[str, Any],
    *,
    adapter: RecordingAdapter | None = None,
    timeout: float = 5.0,
) -> Calls:
    """Deliver a component (type 3) or modal submit (type 5) interaction to the views on ``client``.

    Dispatches like ``ConnectionState.parse_interaction_create``: ``_view_store.dispatch_view`` by
    ``(component_type, custom_id)`` and the message id (then views stored without one). A custom id no
    view listens to is dropped silently, as discord.py does: expect no calls then.
    """
    return await _deliver(client, payload, None, adapter, timeout)


# --------------------------------------------------------------------------------------------------
# Discord's OpenAPI spec
# --------------------------------------------------------------------------------------------------

SPEC_URI = "urn:discord-api-spec:openapi.json"

# Interaction callback type -> request schema of that callback.
CALLBACK_SCHEMAS: dict[int, str] = {
    1: "PongInteractionCallbackRequest",
    4: "CreateMessageInteractionCallbackRequest",
    5: "CreateMessageInteractionCallbackRequest",
    6: "UpdateMessageInteractionCallbackRequest",
    7: "UpdateMessageInteractionCallbackRequest",
    8: "ApplicationCommandAutocompleteCallbackRequest",
    9: "ModalInteractionCallbackRequest",
    12: "LaunchActivityInteractionCallbackRequest",
}
# Adapter method -> request schema of its JSON body.
BODY_SCHEMAS: dict[str, str] = {
    "execute_webhook": "IncomingWebhookRequestPartial",
    "edit_webhook_message": "IncomingWebhookUpdateRequestPartial",
    "edit_original_interaction_response": "IncomingWebhookUpdateRequestPartial",
}
EMBED_TOTAL_LIMIT = 6000  # Discord docs ("Embed Limits"); not in the OpenAPI spec


class SpecViolation(AssertionError):
    """JSON that Discord's spec (or its documented limits) rejects; lists every problem."""


def embed_total_chars(embeds: Sequence[Mapping[str, Any]]) -> int:
    """Characters counted by Discord's 6,000 limit: title, description, field names and values,
    footer text and author name, across all embeds of one message."""
    total = 0
    for embed in embeds:
        total += len(embed.get("title") or "") + len(embed.get("description") or "")
        for embed_field in embed.get("fields") or []:
            total += len(embed_field.get("name") or "") + len(embed_field.get("value") or "")
        total += len((embed.get("footer") or {}).get("text") or "")
        total += len((embed.get("author") or {}).get("name") or "")
    return total


@lru_cache(maxsize=4)
def _load_spec(path: Path) -> JSON:
    return cast(JSON, json.loads(path.read_text(encoding="utf-8")))


@dataclass
class DiscordSpec:
    """Validates JSON against a named schema of ``components.schemas`` in Discord's OpenAPI 3.1 spec.

    The spec's schemas are JSON Schema 2020-12 (OpenAPI 3.1); ``$ref``s ("#/components/schemas/X")
    resolve inside the spec document, registered with ``referencing`` under ``SPEC_URI``.
    Unknown keywords (``x-discord-union``) are ignored and formats are not asserted, as JSON Schema says.
    """

    path: Path
    document: JSON = field(init=False, repr=False)
    _validators: dict[str, Any] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.document = _load_spec(self.path.resolve())
        resource: Resource[Any] = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)

    @classmethod
    def load(cls) -> DiscordSpec:
        """The spec in ../shared/corpus; skips the calling test, saying why, when ../shared is absent."""
        from tests.conftest import shared_path

        return cls(shared_path("corpus", "discord-api-spec", "openapi.json"))

    @property
    def schema_names(self) -> list[str]:
        return sorted(self.document["components"]["schemas"])

    def _validator(self, schema_name: str) -> Any:
        validator = self._validators.get(schema_name)
        if validator is None:
            if schema_name not in self.document["components"]["schemas"]:
                raise KeyError(f"no schema {schema_name!r} in the spec")
            schema = {"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"}
            validator = Draft202012Validator(schema, registry=self._registry)
            self._validators[schema_name] = validator
        return validator

    def errors(self, schema_name: str, instance: Any) -> list[str]:
        """Every violation, as "path: message" (for oneOf/anyOf, the closest branch's errors too)."""
        problems: list[str] = []
        for error in sorted(self._validator(schema_name).iter_errors(instance), key=lambda e: list(e.path)):
            problems.append(_describe(error))
        return problems

    def validate(self, schema_name: str, instance: Any) -> None:
        problems = self.errors(schema_name, instance)
        if problems:
            raise SpecViolation(f"{schema_name}: " + "\n  ".join(problems))

    def validate_commands(self, payload: Sequence[Mapping[str, Any]]) -> None:
        """The bulk-overwrite body ``[c.to_dict(tree) for c in tree.get_commands()]`` (PUT .../commands)."""
        problems = [f"[{i}] {p}" for i, c in enumerate(payload) for p in self.errors("ApplicationCommandUpdateRequest", c)]
        if len(payload) > 130:  # the PUT body's maxItems in the spec
            problems.append(f"{len(payload)} commands; a bulk overwrite takes at most 130")
        if problems:
            raise SpecViolation("ApplicationCommandUpdateRequest: " + "\n  ".join(problems))

    def validate_call(self, call: Call) -> None:
        """Validate a recorded request body against the schema for its kind, plus the embed total.

        Callbacks by their ``type`` (see ``CALLBACK_SCHEMAS``); follow-ups against
        ``IncomingWebhookRequestPartial``; edits against ``IncomingWebhookUpdateRequestPartial``; gets
        and deletes must have no body. Integer ids are written as strings first (``normalise_ids``).
        """
        if call.method == "create_interaction_response":
            schema = CALLBACK_SCHEMAS.get(call.type or 0)
            if schema is None:
                raise SpecViolation(f"unknown interaction callback type {call.type}")
        elif call.method in BODY_SCHEMAS:
            schema = BODY_SCHEMAS[call.method]
        elif call.http_method in ("GET", "DELETE"):
            if call.payload is not None:
                raise SpecViolation(f"{call.method} sends no body, got {call.payload!r}")
            return
        else:
            raise KeyError(f"no schema known for {call.method}")
        problems = self.errors(schema, normalise_ids(call.payload))
        total = embed_total_chars(call.embeds)
        if total > EMBED_TOTAL_LIMIT:
            problems.append(f"embeds: {total} characters in all; Discord allows {EMBED_TOTAL_LIMIT}")
        if problems:
            raise SpecViolation(f"{call.method} ({schema}): " + "\n  ".join(problems))


def normalise_ids(payload: Any) -> Any:
    """A copy of a message request body (or callback) with integer ids written as strings.

    The one normalisation the harness applies, and why: discord.py sends two kinds of ids as JSON
    integers, ``attachments[].id`` (the upload's index, ``File.to_dict``) and ``allowed_mentions.users``
    / ``.roles`` (``AllowedMentions.to_dict``), while the spec types every id as ``SnowflakeType``, a
    decimal string. Discord takes these integers (discord.py has sent them this way for years; the
    docs describe a new upload's attachment id as the file's index), so this is the spec being stricter
    than the API, not a bug to catch. Only those paths change, only int -> str: no value, length or
    count limit is touched.
    """
    if not isinstance(payload, dict):
        return payload
    result = copy.deepcopy(payload)
    bodies = [result]
    if isinstance(result.get("data"), dict):  # an interaction callback: the message is in "data"
        bodies.append(result["data"])
    for body in bodies:
        for attachment in body.get("attachments") or []:
            if isinstance(attachment, dict) and isinstance(attachment.get("id"), int):
                attachment["id"] = str(attachment["id"])
        mentions = body.get("allowed_mentions")
        if isinstance(mentions, dict):
            for key in ("users", "roles"):
                if isinstance(mentions.get(key), list):
                    mentions[key] = [str(x) if isinstance(x, int) else x for x in mentions[key]]
    return result


def _describe(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    if error.validator in ("oneOf", "anyOf") and error.context:
        # No branch matched. Report the branch that was meant: leave out branches that are the wrong
        # kind outright (a "type" mismatch at the branch's root, e.g. the "null" branch of a nullable
        # object, or a discriminating "type" property outside the branch's enum), then take the one
        # whose errors got furthest into the instance, and list its errors.
        def wrong_kind(e: Any) -> bool:
            path = list(e.relative_path)
            return (e.validator == "type" and not path) or (e.validator == "enum" and path == ["type"])

        branches: dict[Any, list[Any]] = {}
        for e in error.context:
            branches.setdefault(e.relative_schema_path[0], []).append(e)
        meant = [errs for errs in branches.values() if not any(wrong_kind(x) for x in errs)] or list(branches.values())
        closest = max(meant, key=lambda errs: max(len(e.absolute_path) for e in errs))
        return f"{where}: matches no {error.validator} branch; closest: " + "; ".join(_describe(e) for e in closest)
    if error.validator in ("maxLength", "minLength", "maxItems", "minItems", "maxProperties"):
        return f"{where}: length {len(error.instance)} breaks {error.validator} {error.validator_value}"
    text = re.sub(r"\s+", " ", error.message)
    return f"{where}: {text if len(text) < 200 else text[:200] + '...'}"
