"""The public subscribe form under abuse (issue 8, item 2), against the real app on a real listening
port, a real SQLite file and a real SMTP server. Distinct clients are distinct source addresses on
loopback (Linux routes all of 127.0.0.0/8 there), so the server sees each one as its own peer."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, ClientSession, TCPConnector
from aiohttp.test_utils import TestServer

from bot.client import PlanwatchBot
from bot.context import BotContext
from digests.form_guard import HONEYPOT_FIELD, TOKEN_FIELD, ClientResolver, check_origin, form_token, origin_of
from digests.jobs import deliver
from digests.web import make_app
from planwatch.config import Settings, load_settings
from planwatch.errors import ConfigError
from planwatch.services.topics import GLOBAL_SCOPE
from planwatch.store import Store
from planwatch.store.limits import COUNT_WINDOW, PRUNE, LimitKind, LimitRepo
from planwatch.timeutil import utcnow
from planwatch.tokens import Token, signer_for
from tests.discord_harness import DiscordSpec, add_guild, interaction_payload, invoke, option, prepare_client, stop_views
from tests.smtp_server import SmtpServer
from tests.test_digests import PUBLIC, TOPIC, Markup, outbox
from tests.test_web import flipped, hidden_fields

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Site:
    """The web app on a real port; `client(source)` is a browser on that loopback address."""

    store: Store
    settings: Settings
    base: str
    smtp: SmtpServer

    @asynccontextmanager
    async def client(self, source: str = "127.0.0.1") -> AsyncIterator[ClientSession]:
        async with ClientSession(connector=TCPConnector(local_addr=(source, 0))) as session:
            yield session

    async def form(self, session: ClientSession, headers: Mapping[str, str] | None = None) -> dict[str, str]:
        response = await session.get(f"{self.base}/subscribe", headers=headers)
        assert response.status == 200
        return hidden_fields(await response.text())

    async def post(self, session: ClientSession, fields: Mapping[str, str], *, origin: str | None = PUBLIC,
                   headers: Mapping[str, str] | None = None) -> ClientResponse:  # fmt: skip
        sent = {**({"Origin": origin} if origin is not None else {}), **(headers or {})}
        return await session.post(f"{self.base}/subscribe", data=dict(fields), headers=sent)

    async def subscribe(self, session: ClientSession, email: str, **fields: str) -> ClientResponse:
        """A person on the public site: load the form, fill it in, press Subscribe."""
        return await self.post(session, {**await self.form(session), "email": email, "topics": TOPIC, **fields})

    async def mails(self) -> list[str]:
        """Deliver what is queued; every address the SMTP server received mail for so far."""
        await deliver(self.store, self.settings)
        return [address for received in self.smtp.handler.received for address in received.rcpt_tos]


@asynccontextmanager
async def serving(store: Store, settings: Settings, smtp: SmtpServer, **changes: Any) -> AsyncIterator[Site]:
    configured = settings.with_overrides(public_url=PUBLIC, smtp_url=smtp.url, mail_rate=1000.0, **changes)
    server = TestServer(await make_app(store, configured), host="127.0.0.1")
    await server.start_server()
    try:
        yield Site(store, configured, str(server.make_url("")).rstrip("/"), smtp)
    finally:
        await server.close()


@pytest.fixture
async def site(store: Store, settings: Settings, smtp: SmtpServer) -> AsyncIterator[Site]:
    async with serving(store, settings, smtp) as running:
        yield running


async def status_and_text(response: ClientResponse) -> tuple[int, str]:
    return response.status, Markup(await response.text()).text


def retry_after(response: ClientResponse) -> int:
    value = int(response.headers["Retry-After"])
    assert 1 <= value <= 3600, value
    return value


# --- the legitimate visitor ------------------------------------------------------------------------------
async def test_a_visitor_on_the_public_site_subscribes_and_gets_exactly_one_mail(site: Site) -> None:
    async with site.client() as browser:
        page = await browser.get(f"{site.base}/subscribe")
        # Under no-referrer a browser would send "Origin: null" with the POST: the page must not say so.
        assert page.headers["Referrer-Policy"] == "same-origin"
        markup = Markup(await page.text())
        assert ("content", "no-referrer") not in markup.attributes
        assert TOKEN_FIELD in hidden_fields(await page.text())
        status, text = await status_and_text(await site.subscribe(browser, "reader@example.org"))
    assert status == 200 and "Check your inbox" in text
    assert await site.mails() == ["reader@example.org"]
    found = await site.store.subscribers.find("reader@example.org", GLOBAL_SCOPE)
    assert found is not None and found.status == "pending"


async def test_a_referer_from_the_public_site_or_no_header_at_all_is_accepted_with_a_good_token(site: Site) -> None:
    """Without Origin, Referer decides; with neither (an old browser, a privacy proxy), the token does."""
    async with site.client() as browser:
        fields = {**await site.form(browser), "email": "referer@example.org"}
        response = await site.post(browser, fields, origin=None, headers={"Referer": f"{PUBLIC}/subscribe"})
        assert response.status == 200, await response.text()
        fields = {**await site.form(browser), "email": "noheader@example.org"}
        assert (await site.post(browser, fields, origin=None)).status == 200
        # The default port spelled out is the same origin.
        fields = {**await site.form(browser), "email": "port@example.org"}
        assert (await site.post(browser, fields, origin="HTTPS://Planwatch.Example:443")).status == 200
    assert sorted(await site.mails()) == ["noheader@example.org", "port@example.org", "referer@example.org"]


# --- where the POST came from ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("origin", "referer"),
    [
        ("https://evil.example", None),
        ("null", None),  # a sandboxed frame, or a page with no-referrer: any site can send this
        ("http://planwatch.example", None),  # same host, another scheme
        ("https://planwatch.example:8443", None),  # same host, another port
        ("https://planwatch.example.evil.example", None),
        (None, "https://evil.example/page"),
        (None, "not a url"),
    ],
)
async def test_a_post_from_another_origin_is_refused_and_sends_nothing(
    site: Site, origin: str | None, referer: str | None
) -> None:
    async with site.client() as browser:
        fields = {**await site.form(browser), "email": "victim@example.org", "topics": TOPIC}  # a valid token
        response = await site.post(browser, fields, origin=origin, headers={"Referer": referer} if referer else None)
        status, text = await status_and_text(response)
    assert status == 403 and "came from another site" in text and "nothing was sent" in text
    assert await site.store.subscribers.list_all() == [] and await outbox(site.store) == []
    assert await site.mails() == []


# --- the form token ------------------------------------------------------------------------------------------
async def test_a_missing_expired_tampered_or_borrowed_form_token_is_refused(site: Site) -> None:
    signer = await signer_for(site.store, site.settings)
    async with site.client("127.0.0.2") as elsewhere:
        borrowed = (await site.form(elsewhere))[TOKEN_FIELD]  # fetched by one address...
    async with site.client("127.0.0.3") as browser:  # ...and posted from another
        good = (await site.form(browser))[TOKEN_FIELD]
        cases = {
            "missing": {},
            "empty": {TOKEN_FIELD: ""},
            "expired": {TOKEN_FIELD: form_token(signer, "127.0.0.3", utcnow() - timedelta(hours=3))},
            "tampered payload": {TOKEN_FIELD: flipped(good, 5)},
            "tampered signature": {TOKEN_FIELD: flipped(good, len(good) - 2)},
            "made for another address": {TOKEN_FIELD: borrowed},
            "a confirm link's token": {TOKEN_FIELD: signer.sign(Token("confirm", 0), valid_for=timedelta(hours=1))},
        }
        for name, token in cases.items():
            fields = {"email": "victim@example.org", "topics": TOPIC, "timezone": "Europe/Kyiv", **token}
            response = await site.post(browser, fields)
            html = await response.text()
            assert response.status == 403, (name, html)
            assert "out of date or did not come from this page" in Markup(html).text, name
            # The form comes back filled in, with a fresh token that works: a person presses once more.
            refilled = Markup(html).attributes
            assert ("value", "victim@example.org") in refilled and ("value", "Europe/Kyiv") in refilled
            fresh = hidden_fields(html)[TOKEN_FIELD]
        assert await site.store.subscribers.list_all() == [] and await site.mails() == []
        again = await site.post(browser, {"email": "victim@example.org", "topics": TOPIC, TOKEN_FIELD: fresh})
        assert again.status == 200, await again.text()
    assert await site.mails() == ["victim@example.org"]


# --- the honeypot --------------------------------------------------------------------------------------------
async def test_the_honeypot_is_hidden_from_people_and_a_filled_one_sends_nothing(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:  # fmt: skip
    async with site.client() as browser:
        html = await (await browser.get(f"{site.base}/subscribe")).text()
        # Hidden by CSS, out of the tab order and the accessibility tree, never autofilled.
        start = html.index(f'name="{HONEYPOT_FIELD}"')
        tag = html[html.rindex("<input", 0, start) : html.index(">", start)]
        assert 'tabindex="-1"' in tag and 'autocomplete="off"' in tag and 'value=""' in tag
        wrapper = html[html.rindex("<div", 0, start) : start]
        assert 'class="hp"' in wrapper and 'aria-hidden="true"' in wrapper
        assert ".hp{position:absolute;left:-10000px" in html

        real = await status_and_text(await site.subscribe(browser, "real@example.org"))
        caplog.set_level(logging.INFO, logger="planwatch.web")
        bot = await site.subscribe(browser, "bot-target@example.org", **{HONEYPOT_FIELD: "https://spam.example"})
        assert await status_and_text(bot) == real == (200, real[1])  # looks exactly like success
    assert await site.store.subscribers.find("bot-target@example.org", GLOBAL_SCOPE) is None
    assert await site.mails() == ["real@example.org"]
    lines = [r for r in caplog.records if "hidden field was filled" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO


# --- floods --------------------------------------------------------------------------------------------------
async def test_one_client_flooding_gets_429_pages_after_its_hourly_limit(store: Store, settings: Settings,
                                                                         smtp: SmtpServer) -> None:  # fmt: skip
    async with serving(store, settings, smtp, subscribe_per_hour=3) as site:
        async with site.client("127.0.0.4") as flooder:
            responses = [await site.subscribe(flooder, f"target{n}@example.org") for n in range(8)]
        assert [r.status for r in responses] == [200] * 3 + [429] * 5
        for response in responses[3:]:
            retry_after(response)
            _, text = await status_and_text(response)
            assert "Too many subscription requests from your address this hour" in text and "Nothing was sent" in text
        async with site.client("127.0.0.5") as someone_else:  # the limit is the flooder's, not everyone's
            assert (await site.subscribe(someone_else, "other@example.org")).status == 200
        assert sorted(await site.mails()) == ["other@example.org", "target0@example.org", "target1@example.org",
                                              "target2@example.org"]  # fmt: skip


async def test_a_flood_from_many_addresses_gets_at_most_the_hourly_cap_in_mail(
    store: Store, settings: Settings, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:  # fmt: skip
    caplog.set_level(logging.WARNING, logger="planwatch.subscriptions")
    async with serving(store, settings, smtp, subscribe_per_hour=2, confirmations_per_hour=4) as site:

        async def one(n: int) -> ClientResponse:
            async with site.client(f"127.0.0.{10 + n}") as client:
                response = await site.subscribe(client, f"flood{n}@example.org")
                await response.read()
                return response

        responses = await asyncio.gather(*(one(n) for n in range(16)))  # at once: the cap must hold under races
        statuses = sorted(r.status for r in responses)
        assert statuses == [200] * 4 + [429] * 12
        for response in responses:
            if response.status == 429:
                retry_after(response)
                assert "as many confirmation mails as it may this hour" in Markup(await response.text()).text
        later = [await one(n) for n in range(16, 20)]
        assert {r.status for r in later} == {429}
        assert len(await site.mails()) == 4 == len(smtp.handler.received)
        for n, response in enumerate(responses):  # a capped request leaves no pending row behind
            found = await site.store.subscribers.find(f"flood{n}@example.org", GLOBAL_SCOPE)
            assert (found is None) == (response.status == 429)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings  # once an hour, not once per refused request
    assert "cap is 4" in warnings[0] and "4 queued in the last hour" in warnings[0]
    assert "PLANWATCH_CONFIRMATIONS_PER_HOUR" in warnings[0]


async def test_the_limits_survive_a_restart(settings: Settings, smtp: SmtpServer) -> None:
    """Both hourly limits live in the database: restarting the service resets neither."""
    limits = {"subscribe_per_hour": 2, "confirmations_per_hour": 3}
    async with await Store.open(settings.db_path) as store, serving(store, settings, smtp, **limits) as site:
        async with site.client("127.0.0.30") as first:
            assert [(await site.subscribe(first, f"a{n}@example.org")).status for n in range(2)] == [200, 200]
        async with site.client("127.0.0.31") as second:
            assert (await site.subscribe(second, "b0@example.org")).status == 200
    async with await Store.open(settings.db_path) as store, serving(store, settings, smtp, **limits) as site:
        async with site.client("127.0.0.30") as first:
            response = await site.subscribe(first, "a2@example.org")
            assert response.status == 429 and "from your address" in Markup(await response.text()).text
        async with site.client("127.0.0.32") as third:
            response = await site.subscribe(third, "c0@example.org")
            assert response.status == 429 and "confirmation mails" in Markup(await response.text()).text
        assert len(await site.mails()) == 3


async def via(site: Site, peer: ClientSession, forwarded: str, email: str) -> int:
    """A request that arrives from `peer` with this X-Forwarded-For, on the form and on the POST."""
    headers = {"X-Forwarded-For": forwarded}
    fields = {**await site.form(peer, headers), "email": email, "topics": TOPIC}
    return (await site.post(peer, fields, headers=headers)).status


async def test_forwarded_for_is_believed_only_from_a_trusted_proxy(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    async with serving(store, settings, smtp, subscribe_per_hour=2) as site, site.client("127.0.0.40") as peer:
        # Not configured: anyone can write the header, so it changes nothing.
        assert [await via(site, peer, f"198.51.100.{n}", f"x{n}@example.org") for n in range(4)] == [200, 200, 429, 429]
    trusting = {"subscribe_per_hour": 2, "trusted_proxies": ("127.0.0.0/8",)}
    async with serving(store, settings, smtp, **trusting) as site, site.client("127.0.0.41") as proxy:
        # The proxy appends the address it saw; what the client wrote before that is its own claim.
        claims = [await via(site, proxy, f"10.9.9.{n}, 203.0.113.7", f"y{n}@example.org") for n in range(3)]
        assert claims == [200, 200, 429]
        assert await via(site, proxy, "203.0.113.8", "z@example.org") == 200


# --- the other ways in: Discord counts toward the cap, the operator's CLI does not -----------------------------
@pytest.fixture
def spec() -> DiscordSpec:
    return DiscordSpec.load()


@pytest.fixture
def capped_bot(store: Store, settings: Settings, smtp: SmtpServer) -> Iterator[PlanwatchBot]:
    configured = settings.with_overrides(public_url=PUBLIC, smtp_url=smtp.url, confirmations_per_hour=2)
    client = prepare_client(PlanwatchBot(BotContext(store, configured)))
    add_guild(client)
    yield client
    stop_views(client)


async def test_discord_requests_count_toward_the_hourly_cap(capped_bot: PlanwatchBot, spec: DiscordSpec, store: Store,
                                                             settings: Settings, smtp: SmtpServer) -> None:  # fmt: skip
    async def member_subscribes(user: int, email: str) -> str:
        calls = await invoke(capped_bot.tree, capped_bot, interaction_payload(
            name="digest", subcommand="subscribe", options=[option("email", email)], user_id=user))  # fmt: skip
        for call in calls:
            spec.validate_call(call)
        return " ".join(str(embed.get("description", "")) for call in calls for embed in call.embeds)

    assert "on its way" in await member_subscribes(1_100_000_000_000_000_501, "m1@example.org")
    async with serving(store, settings, smtp, confirmations_per_hour=2) as site, site.client() as browser:
        assert (await site.subscribe(browser, "w1@example.org")).status == 200
        # The hour's two mails are spent, one by Discord, one by the web: both ways in are refused now.
        assert (await site.subscribe(browser, "w2@example.org")).status == 429
        refusal = await member_subscribes(1_100_000_000_000_000_502, "m2@example.org")
        assert "as many confirmation mails as it may this hour" in refusal
        assert await store.subscribers.find("m2@example.org", GLOBAL_SCOPE) is None
        assert sorted(await site.mails()) == ["m1@example.org", "w1@example.org"]


async def test_the_operator_cli_is_exempt_from_the_cap(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    async with serving(store, settings, smtp, confirmations_per_hour=1) as site, site.client() as browser:
        assert (await site.subscribe(browser, "w1@example.org")).status == 200
        assert (await site.subscribe(browser, "w2@example.org")).status == 429
    env = {**os.environ, "PLANWATCH_SMTP_URL": smtp.url, "PLANWATCH_PUBLIC_URL": PUBLIC,
           "PLANWATCH_CONFIRMATIONS_PER_HOUR": "1", "PLANWATCH_MAIL_RATE": "1000"}  # fmt: skip
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "planwatch.cli", "--db", str(settings.db_path), "subscribers", "add", "op@example.org"],
        capture_output=True, text=True, timeout=60, check=False, env=env, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "op@example.org: confirmation sent" in proc.stdout
    assert "op@example.org" in [a for received in smtp.handler.received for a in received.rcpt_tos]


# --- the parts: the limit table, origins, client addresses, settings ------------------------------------------
async def test_the_limit_table_keeps_one_hour_and_reads_through_its_indexes(store: Store) -> None:
    limits = LimitRepo(store)
    start = utcnow() - timedelta(hours=3)
    for n in range(50):
        assert (await limits.take(LimitKind.WEB_CLIENT, f"192.0.2.{n}", 2, start)).admitted
    assert (await limits.take(LimitKind.WEB_CLIENT, "192.0.2.1", 2, start + timedelta(minutes=5))).admitted
    refused = await limits.take(LimitKind.WEB_CLIENT, "192.0.2.1", 2, start + timedelta(minutes=10))
    assert not refused.admitted and refused.retry_after(start + timedelta(minutes=10)) == timedelta(minutes=50)
    # An hour on, the first events have left the window and the table: it holds an hour, not the history.
    later = start + timedelta(minutes=61)
    assert (await limits.take(LimitKind.WEB_CLIENT, "192.0.2.1", 2, later)).counted == 2
    assert await store.scalar("SELECT count(*) FROM subscribe_limits") == 2
    for sql, params, index in ((COUNT_WINDOW, ("web-client", "192.0.2.1", "2000-01-01"), "subscribe_limits_window"),
                               (PRUNE, ("2000-01-01",), "subscribe_limits_age")):  # fmt: skip
        plan = " ".join(str(row[3]) for row in await store.fetchall(f"EXPLAIN QUERY PLAN {sql}", params))
        assert index in plan, plan


# --- the parts: origins, client addresses, settings ----------------------------------------------------------
def test_origins_are_compared_as_browsers_serialise_them() -> None:
    assert origin_of("https://Planwatch.Example:443/subscribe?x=1") == "https://planwatch.example"
    assert origin_of("http://localhost:8080") == "http://localhost:8080"
    assert origin_of("https://bücher.example/") == "https://xn--bcher-kva.example"
    assert origin_of("http://[::1]:8080/") == "http://[::1]:8080"
    for bad in ("null", "", "ftp://planwatch.example", "https://", "https://planwatch.example:99999/", "javascript:x"):
        assert origin_of(bad) is None, bad
    public = "https://planwatch.example"
    assert check_origin(["https://planwatch.example"], [], public).check.value == "same"
    assert check_origin(["https://planwatch.example", "https://evil.example"], [], public).check.value == "foreign"
    assert check_origin([], ["https://planwatch.example/subscribe"], public).check.value == "same"
    assert check_origin(["https://evil.example"], ["https://planwatch.example/"], public).check.value == "foreign"
    assert check_origin([], [], public).check.value == "absent"


def test_client_addresses_as_the_limits_count_them() -> None:
    direct = ClientResolver(())
    assert direct.key("2001:db8:1:2:aaaa::1", []) == direct.key("2001:db8:1:2:bbbb::9", []) == "2001:db8:1:2::/64"
    assert direct.key("::ffff:192.0.2.1", []) == "192.0.2.1"
    assert direct.key("192.0.2.1", ["203.0.113.5"]) == "192.0.2.1"
    assert direct.key(None, []) == "unknown"
    proxied = ClientResolver(("10.0.0.0/8",))
    assert proxied.key("10.0.0.2", ["198.51.100.1, 10.0.0.9"]) == "198.51.100.1"  # past the inner proxy
    assert proxied.key("10.0.0.2", ["1.2.3.4", "198.51.100.1"]) == "198.51.100.1"  # two header lines
    assert proxied.key("10.0.0.2", ["garbage, 198.51.100.1"]) == "198.51.100.1"
    assert proxied.key("10.0.0.2", ["198.51.100.1, garbage"]) == "10.0.0.2"
    assert proxied.key("10.0.0.2", []) == "10.0.0.2"
    assert proxied.key("192.0.2.7", ["198.51.100.1"]) == "192.0.2.7"  # not a trusted peer: header ignored


def test_limit_settings_load_from_the_environment_and_bad_ones_are_refused() -> None:
    loaded = load_settings(env={"PLANWATCH_SUBSCRIBE_PER_HOUR": "7", "PLANWATCH_CONFIRMATIONS_PER_HOUR": "250",
                                "PLANWATCH_TRUSTED_PROXIES": "10.0.0.1, 2001:db8::/32"})  # fmt: skip
    assert (loaded.subscribe_per_hour, loaded.confirmations_per_hour) == (7, 250)
    assert loaded.trusted_proxies == ("10.0.0.1/32", "2001:db8::/32")
    with pytest.raises(ConfigError, match="PLANWATCH_TRUSTED_PROXIES"):
        load_settings(env={"PLANWATCH_TRUSTED_PROXIES": "10.0.0.1, proxy.internal"})
    with pytest.raises(ConfigError, match="confirmations_per_hour must be >= 1"):
        load_settings(env={"PLANWATCH_CONFIRMATIONS_PER_HOUR": "0"})
