"""What a digest reader sees: a subject that says what happened, one time per report, a headline
printed once, story titles as headings, the pill and link colours inline (for clients that strip
<style>), a visible preview line instead of hidden 1px text, and a footer that says "Unsubscribe".
Mail goes through the real composer and a real SMTP server and is read back from what it received."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from digests.compose import MAX_SUBJECT, digest_subject
from digests.jobs import deliver
from digests.schedule import composer_for, queue_for_date
from planwatch.config import Settings
from planwatch.models import Entry
from planwatch.store import Store
from tests.smtp_server import SmtpServer
from tests.test_digests import PUBLIC, add_subscriber, bodies, mail_settings, raw_header, squash, this_hour

KYIV = ZoneInfo("Europe/Kyiv")


async def add_report(store: Store, outlet: str, title: str, text: str, *, seen: datetime, published: datetime) -> None:
    """One report with the text and times a test chooses, stored and matched as a poll would."""
    name = re.sub(r"[^a-z0-9]+", "-", outlet.lower()).strip("-")
    feed = await store.feeds.add(f"https://{name}.example/rss", name=outlet, interval_minutes=15, now=seen)
    entry = Entry(f"{name}-1", f"https://{name}.example/news/1", title, text, None, "en", published, None)
    async with store.transaction() as db:
        batch = await store.reports.save_batch(db, feed_id=feed.id, outlet=outlet, entries=[entry], now=seen)
        await store.topics.match_reports(db, batch.new_ids, [], seen)
    assert batch.new == 1


async def digest_for(store: Store, settings: Settings, smtp: SmtpServer, *, tz: str = "UTC") -> tuple[EmailMessage, bytes]:
    """Today's digest for one reader whose hour is this hour, as the SMTP server received it."""
    mail = mail_settings(settings, smtp)
    now, _, _, slot = this_hour()
    local = slot.astimezone(ZoneInfo(tz))  # the same instant on the reader's clock (and calendar)
    await add_subscriber(store, "reader@example.com", hour=local.hour, tz=tz)
    assert (await queue_for_date(store, mail, await composer_for(store, mail), local.date(), now)).queued == 1
    assert (await deliver(store, mail)).sent == 1
    (received,) = smtp.handler.received
    return received.message, received.data


class Elements(HTMLParser):
    """Each element's tag, attributes and text, as a client that strips <style> would see them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str], list[str]]] = []
        self.open: list[list[str]] = []
        self.in_style = False
        self.body_text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_style = tag == "style"
        if tag in ("br", "meta", "img"):
            return
        text: list[str] = []
        self.found.append((tag, {k: v or "" for k, v in attrs}, text))
        self.open.append(text)

    def handle_endtag(self, tag: str) -> None:
        self.in_style = False
        if self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.in_style:
            return
        for text in self.open:
            text.append(data)
        if data.strip():
            self.body_text.append(data.strip())

    def all(self, tag: str) -> list[tuple[dict[str, str], str]]:
        return [(attrs, " ".join("".join(text).split())) for t, attrs, text in self.found if t == tag]


def styles(attrs: dict[str, str]) -> dict[str, str]:
    pairs = (d.split(":", 1) for d in attrs.get("style", "").split(";") if ":" in d)
    return {k.strip().lower(): v.strip().lower() for k, v in pairs}


LEAD = "Kremlin denies new 28-point plan proposals"
OTHER = "Witkoff flies to Kyiv with the 28-point plan"


async def two_stories(store: Store) -> tuple[datetime, datetime]:
    """Two unrelated stories; the Kremlin one told by two outlets, so it leads. Returns (seen, published)."""
    _, _, _, slot = this_hour()
    seen, published = slot - timedelta(hours=1), slot - timedelta(hours=4)
    denial = ("Kremlin spokesman Dmitry Peskov told reporters in Moscow that Russia had received no new proposals"
              " from Washington and that the 28-point plan for Ukraine was not under discussion.")  # fmt: skip
    await add_report(store, "Wire One", LEAD, denial, seen=seen, published=published)
    await add_report(store, "Daily Two", LEAD, denial + " Peskov repeated it twice.", seen=seen, published=published)
    trip = ("US envoy Steve Witkoff landed in Kyiv on Tuesday carrying the 28-point plan, officials in the"
            " Ukrainian capital said, for talks with President Zelensky's chief of staff.")  # fmt: skip
    await add_report(store, "Harbour Post", OTHER, trip, seen=seen, published=published - timedelta(hours=1))
    return seen, published


# --- the subject -----------------------------------------------------------------------------------------------
async def test_subject_is_the_topics_title_and_its_lead_news(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    await two_stories(store)
    message, _ = await digest_for(store, settings, smtp)
    assert message["Subject"] == f"Ukraine peace plan: 3 new reports: {LEAD}"
    html = bodies(message)[1]
    assert Elements(html).all("title")[0][1] == message["Subject"]


async def test_a_hostile_lead_makes_a_bounded_single_line_subject(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    _, _, _, slot = this_hour()
    hostile = "Kremlin\r\nBcc: victim@example.com\r\n \u202edenies\u200b new 28-point plan for Ukraine " + "word " * 60
    await add_report(store, "Wire One", hostile, "The 28-point plan for Ukraine was denied by the Kremlin today.",
                     seen=slot - timedelta(hours=1), published=slot - timedelta(hours=2))  # fmt: skip
    message, data = await digest_for(store, settings, smtp)
    subject = str(message["Subject"])
    head = data.split(b"\r\n\r\n", 1)[0]
    assert message["Bcc"] is None and not re.search(rb"^Bcc:", head, re.MULTILINE)  # no header of its own
    assert "\r" not in subject and "\n" not in subject and "\u202e" not in subject and "\u200b" not in subject
    assert len(subject) <= MAX_SUBJECT and subject.endswith("\u2026")
    assert subject.startswith("Ukraine peace plan: 1 new report: Kremlin Bcc: victim@example.com denies new")
    assert "\n" not in raw_header(data, "Subject")


def test_subject_for_several_topics_and_for_a_quiet_day() -> None:
    topic = {"title": "Ukraine peace plan", "report_count": 4, "lead": "Kremlin denies new proposals"}
    other = {"title": "Geneva talks", "report_count": 1, "lead": "Swiss offer to host"}
    quiet = {"title": "Grain deal", "report_count": 0, "lead": None}
    assert digest_subject([topic, other]) == "Ukraine peace plan and 1 more topic: 5 new reports: Kremlin denies new proposals"
    assert digest_subject([quiet, topic]) == "Ukraine peace plan: 4 new reports: Kremlin denies new proposals"
    assert digest_subject([quiet]) == "Grain deal: nothing new since yesterday"


# --- one time per report, one headline per story -------------------------------------------------------------------
async def test_a_report_shows_its_published_time_in_key_points_and_stories(
    store: Store, settings: Settings, smtp: SmtpServer
) -> None:
    seen, published = await two_stories(store)
    message, _ = await digest_for(store, settings, smtp, tz="Europe/Kyiv")
    text, html = bodies(message)
    shown, first_seen = (t.astimezone(KYIV).strftime("%a %d %b %H:%M") for t in (published, seen))
    visible = squash(" ".join(Elements(html).body_text).replace("\xa0", " "))
    key_points, stories = text.split("STORIES")
    assert "KEY POINTS" in key_points and f"Wire One, {shown}" in key_points  # key point source lines
    assert f"Wire One · {shown}" in stories  # story list source lines
    assert visible.count(f"Wire One {shown}") >= 1 and visible.count(f"Wire One · {shown}") == 1
    for part in (text, visible):
        assert first_seen not in part  # first sight is never shown when the report has a published date


async def test_a_source_headline_that_repeats_its_story_title_is_printed_once(
    store: Store, settings: Settings, smtp: SmtpServer
) -> None:
    await two_stories(store)
    message, _ = await digest_for(store, settings, smtp)
    text, html = bodies(message)
    stories_text = text.split("STORIES")[1]
    assert stories_text.count(LEAD) == 1 and stories_text.count(OTHER) == 1
    page = Elements(html)
    assert [t for _, t in page.all("h3")].count(LEAD) == 1
    assert not [t for _, t in page.all("a") if t == LEAD]  # not again as a link under its heading
    # The outlet's name carries the link instead, so the article is still one click away.
    links = {t: a["href"] for a, t in page.all("a")}
    assert links["Wire One"] == "https://wire-one.example/news/1" and links["Daily Two"] == "https://daily-two.example/news/1"


# --- structure and styles ------------------------------------------------------------------------------------------
async def test_story_titles_are_headings_under_the_topic(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    await two_stories(store)
    message, _ = await digest_for(store, settings, smtp)
    page = Elements(bodies(message)[1])
    assert [t for _, t in page.all("h1")] == ["Planwatch"]
    assert [t for _, t in page.all("h2")] == ["Ukraine peace plan"]
    assert [t for _, t in page.all("h3")] == [LEAD, OTHER]


async def test_pill_and_link_colours_survive_a_client_that_strips_style(
    store: Store, settings: Settings, smtp: SmtpServer
) -> None:
    await two_stories(store)
    message, _ = await digest_for(store, settings, smtp)
    page = Elements(bodies(message)[1])  # <style> contents ignored: only what is inline counts
    pills = [styles(a) for a, t in page.all("span") if t == "first to report"]
    assert len(pills) == 2
    for pill in pills:
        assert pill["background"] == "#1e3a5f" and pill["color"] == "#fff" and pill["border-radius"] == "8px"
    links = page.all("a")
    assert links and all(styles(a).get("color") == "#1a56a8" for a, _ in links)


async def test_the_preview_line_is_visible_text_not_hidden(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    await two_stories(store)
    message, _ = await digest_for(store, settings, smtp)
    html = bodies(message)[1]
    page = Elements(html)
    assert page.body_text[1] == "3 new reports on Ukraine peace plan since yesterday"  # after the <title>
    for attrs, _ in [e for tag in ("div", "span", "p", "td") for e in page.all(tag)]:
        css = styles(attrs)
        assert css.get("display") != "none" and css.get("font-size") not in ("0", "0px", "1px"), attrs
    assert "\u200c" not in html and "\u034f" not in html and "&zwnj;" not in html


async def test_the_footer_says_unsubscribe(store: Store, settings: Settings, smtp: SmtpServer) -> None:
    await two_stories(store)
    message, _ = await digest_for(store, settings, smtp)
    text, html = bodies(message)
    leave = [t for a, t in Elements(html).all("a") if a["href"].startswith(f"{PUBLIC}/unsubscribe/")]
    assert leave == ["Unsubscribe"]
    assert re.search(rf"^Unsubscribe: <{re.escape(PUBLIC)}/unsubscribe/[\w.-]+>$", text, re.MULTILINE)
    # The link opens a page with a button (a GET changes nothing): the mail does not promise one click.
    assert "one click" not in text.lower() and "one click" not in html.lower()
