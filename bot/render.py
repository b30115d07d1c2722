"""Embeds from the services' results, always within Discord's limits and never able to ping anyone.

Feed text is hostile: every string from a report is escaped for markdown and mentions here (and every
message is also sent with allowed_mentions none). Limits (Discord's docs and OpenAPI spec): title 256,
description 4096, 25 fields, field name 256 / value 1024, footer 2048, 6000 characters per message."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

import discord

from planwatch.ingest.htmltext import strip_invisible
from planwatch.ingest.urls import redact_credentials
from planwatch.models import Feed, Report, Topic
from planwatch.services.alerts import FeedNotice, StoryAlert
from planwatch.services.guilds import TopicTest
from planwatch.services.stories import SearchHit, SourceList, Summary, Timeline, plural
from planwatch.services.topics import Explanation
from planwatch.store.guilds import AlertChannel
from planwatch.store.stories import AnalysedReport

TITLE, DESCRIPTION, FIELDS, FIELD_NAME, FIELD_VALUE, FOOTER, TOTAL = 256, 4096, 25, 256, 1024, 2048, 6000
COLOUR = discord.Colour(0x2B6CB0)
LABELS = {"corroborated": "✅ corroborated", "single-source": "☑️ single source", "denied": "⛔ denied",
          "unconfirmed": "❔ unconfirmed", "disputed": "⚖️ disputed"}  # fmt: skip
STATUS = {"ok": "🟢 ok", "new": "⚪ new", "failing": "🟠 failing", "paused": "🔴 paused"}
PAGE_STORIES = 4  # stories per page of /sources
PAGE_LINES = 12  # lines per page of /timeline


# "scheme://" in feed text: Discord would make it a link of its own; escaped, it reads the same.
_AUTOLINK = re.compile(r"(?<=[A-Za-z0-9+.-]):(?=//)")


def clean(text: str | None, limit: int) -> str:
    """Feed text made inert: no markdown, no mentions, no links, no bidi or invisible characters (text
    stored before normalization removed them), and no longer than `limit`."""
    if not text:
        return ""
    safe = discord.utils.escape_mentions(discord.utils.escape_markdown(" ".join(strip_invisible(text).split())))
    safe = safe.replace("<@", "<\u200b@").replace("<#", "<\u200b#")  # role, user and channel mentions
    safe = _AUTOLINK.sub(lambda _: "\\:", safe)
    return safe if len(safe) <= limit else safe[: limit - 1].rstrip("\\") + "…"


# Inside a masked link's label, escape_markdown is not enough: it leaves "]" and "(" alone, so a label
# "x](https://evil.example" closes the label early and points the link elsewhere, and "[x](url)"
# nests a link. Square brackets become parentheses: Discord's label pattern pairs brackets whether
# escaped or not, so even an escaped lone "]" breaks the link. Then every character that can end a
# label, start a link, a mention, an emoji, a timestamp or formatting is escaped, backslash first;
# Discord shows the characters themselves.
_BRACKETS = str.maketrans("[]", "()")
_LABEL_SPECIAL = re.compile(r"([\\()*_~|`<>#:@!-])")
# Characters a link target may hold as is; anything else is percent-encoded (or the link is not made).
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "()<>\\")


def label(text: str | None, limit: int) -> str:
    """Feed text for the label of a masked link: it can never hold a link, a mention or markup."""
    plain = " ".join(strip_invisible(text or "").translate(_BRACKETS).split())
    if len(plain) > limit:
        plain = plain[: limit - 1] + "…"
    return discord.utils.escape_mentions(_LABEL_SPECIAL.sub(r"\\\1", plain))


def link(text: str, url: str | None, limit: int = 200) -> str:
    """A masked link `[label](url)` whose label is feed text; just the label when the URL is not a web
    link. In the target, characters that could end it early ("(", ")", "<", ">", a backslash, spaces)
    and anything outside printable ASCII (a bidi override, say) are percent-encoded."""
    shown = label(text, limit) or "link"
    if not url or not url.startswith(("http://", "https://")) or len(url) > 512:
        return shown
    target = quote(url, safe=_URL_SAFE)
    if len(target) > 1024:
        return shown
    return f"[{shown}]({target})"


def when(moment: datetime | None) -> str:
    return f"<t:{int(moment.timestamp())}:R>" if moment else "unknown time"


def _size(embed: discord.Embed) -> int:
    return len(embed)


def fit(embed: discord.Embed, budget: int = TOTAL) -> discord.Embed:
    """Drop trailing fields (saying how many) until the embed fits the per-message budget."""
    dropped = 0
    while _size(embed) > budget and len(embed.fields) > 1:
        embed.remove_field(len(embed.fields) - 1)
        dropped += 1
    if dropped:
        note = f"…and {dropped} more"
        if len(embed.fields) >= FIELDS or _size(embed) + len(note) + 2 > budget:
            embed.remove_field(len(embed.fields) - 1)
            dropped += 1
            note = f"…and {dropped} more"
        embed.add_field(name="\u200b", value=note, inline=False)
    return embed


def _base(title: str, description: str = "", footer: str | None = None) -> discord.Embed:
    embed = discord.Embed(title=clean(title, TITLE), description=description[:DESCRIPTION], colour=COLOUR)
    if footer:
        embed.set_footer(text=footer[:FOOTER])
    return embed


def message(text: str, *, title: str = "Planwatch") -> discord.Embed:
    """A plain reply (confirmations, refusals, empty windows); the text is ours, not a feed's."""
    return _base(title, text[:DESCRIPTION])


# --- members ------------------------------------------------------------------------------------------------
def summary_embed(result: Summary) -> discord.Embed:
    embed = _base(
        f"What is reported: {result.window.topic.name}",
        clean(result.header, 1000),
        footer="Every point is a sentence taken from a report. Labels count independent outlets.",
    )
    for number, point in enumerate(result.points, start=1):
        outlets = ", ".join(s.outlet for s in point.origins) or "through relays"
        if point.relays:
            outlets += f" (+{plural(len(point.relays), 'relay')})"
        name = f"{number}. {LABELS[point.label]} · {plural(point.source_count, 'source')} · {outlets}"
        links = " · ".join(link(s.outlet, s.url, 60) for s in point.sources[:4])
        first = f" · first {clean(point.first_outlet, 60)}" if point.first_outlet else ""
        approx = "~" if point.estimated else ""
        since = f"since {approx}{when(point.first_published_at)}{first}" if point.first_published_at else "time unknown"
        extra = ""
        if point.denies:
            extra = f"\nDenies: {clean(point.denies, 200)}"
        if point.unconfirms:
            extra = f"\nCould not confirm: {clean(point.unconfirms, 200)}"
        for version in point.versions:
            said = ", ".join(s.outlet for s in version.origins) or "relayed only"
            newest = " (newest)" if version.newest else ""
            extra += f"\n• {clean(', '.join(version.values), 40)}{newest}: {clean(said, 120)}"
        # The links and the time first: what may be cut is the text and the versions, never half a link.
        tail = f"\n{links} · {since}"
        room = FIELD_VALUE - len(tail) - 1
        body = clean(point.text, max(room - min(len(extra), room // 2), 40)) + extra
        value = body[: max(room, 0)] + tail if len(tail) < FIELD_VALUE else clean(point.text, FIELD_VALUE)
        embed.add_field(name=clean(name, FIELD_NAME), value=value[:FIELD_VALUE], inline=False)
    return fit(embed)


def _source_line(report: AnalysedReport, first: bool, originals: dict[int, AnalysedReport]) -> str:
    marks: list[str] = []
    if first:
        marks.append("first")
    if report.copy_of is not None:
        original = originals.get(report.copy_of)
        marks.append(f"copy of {original.outlet}" if original else "copy")
    if report.cites:
        marks.append("cites " + ", ".join(report.cites))
    tail = f" — {clean('; '.join(marks), 200)}" if marks else ""
    return f"• {link(report.outlet, report.url, 60)}: {clean(report.title, 180)} ({when(report.published_at)}){tail}"


def sources_pages(result: SourceList) -> list[discord.Embed]:
    window = result.window
    if not window.reports:
        return [message(window.empty_message, title=f"Sources: {window.topic.name}")]
    originals = {r.id: r for r in window.reports}
    header = (
        f"{plural(len(window.reports), 'report')} from {plural(len(window.outlets), 'outlet')} in "
        f"{plural(len(result.stories), 'story', 'stories')}, last {window.label}. Ranked by independent outlets."
    )
    pages: list[discord.Embed] = []
    groups = result.stories
    for start in range(0, len(groups), PAGE_STORIES):
        embed = _base(f"Sources: {window.topic.name}", clean(header, 1000))
        for story in groups[start : start + PAGE_STORIES]:
            lines = [_source_line(e.report, e.first, originals) for e in story.sources]
            value = ""
            for index, line in enumerate(lines):
                more = f"\n…and {len(lines) - index} more" if index else ""
                if len(value) + len(line) + 1 + len(more) > FIELD_VALUE - 40:
                    value += f"\n…and {len(lines) - index} more"
                    break
                value += ("\n" if value else "") + line
            name = f"{clean(story.title, 200)} · {plural(story.outlet_count, 'outlet')}"
            embed.add_field(name=name[:FIELD_NAME], value=value[:FIELD_VALUE] or "—", inline=False)
        pages.append(fit(embed))
    return _numbered(pages)


def _numbered(pages: list[discord.Embed]) -> list[discord.Embed]:
    if len(pages) > 1:
        for index, page in enumerate(pages, start=1):
            page.set_footer(text=f"Page {index} of {len(pages)}")
    return pages


def _lines_pages(title: str, header: str, lines: Sequence[str]) -> list[discord.Embed]:
    pages: list[discord.Embed] = []
    chunk: list[str] = []
    for line in lines:
        if len(chunk) >= PAGE_LINES or len("\n".join([header, *chunk, line])) > DESCRIPTION - 50:
            pages.append(_base(title, "\n".join([header, *chunk])))
            chunk = []
        chunk.append(line)
    if chunk or not pages:
        pages.append(_base(title, "\n".join([header, *chunk])))
    return _numbered(pages)


def timeline_pages(result: Timeline) -> list[discord.Embed]:
    title = f"Timeline: {result.window.topic.name}"
    if not result.events:
        return [message(result.window.empty_message, title=title)]
    kinds = {"first_report": "🆕 first report", "outlet_joined": "➕ joined", "copy": "📄 copy",
             "changed": "✏️ changed", "denial": "⛔ denial", "new_story": "🧵 new story",
             "revised_figure": "🔁 revised figure"}  # fmt: skip
    lines = []
    for e in result.events:
        detail = f" — {clean(e.detail, 300)}" if e.detail and e.kind in ("changed", "denial", "copy", "revised_figure") else ""
        lines.append(f"{when(e.at)} {kinds.get(e.kind, e.kind)} · {link(e.outlet, e.url, 60)}: {clean(e.title, 200)}{detail}")
    return _lines_pages(title, f"The story as it unfolded, last {result.window.label}:", lines)


def latest_pages(topic: Topic, reports: list[AnalysedReport]) -> list[discord.Embed]:
    title = f"Latest: {topic.name}"
    if not reports:
        return [message(f"nothing reported yet for {topic.name}", title=title)]
    lines = [f"{when(r.published_at)} · {link(r.outlet, r.url, 60)}: {clean(r.title, 250)}" for r in reports]
    return _lines_pages(title, f"The {plural(len(reports), 'newest report')}:", lines)


def search_pages(query: str, hits: list[SearchHit]) -> list[discord.Embed]:
    title = f"Search: {clean(query, 200)}"
    if not hits:
        return [message(f"no reports match {clean(query, 300)}", title=title)]
    lines = [
        f"{when(h.report.published_at)} · {link(h.report.outlet, h.report.url, 60)}: **{clean(h.report.title, 200)}**"
        f"\n> {clean(h.snippet, 300)}"
        for h in hits
    ]
    return _lines_pages(title, f"{plural(len(hits), 'match', 'matches')}, best first:", lines)


NO_DESCRIPTION = "No description yet."


def topics_embed(topics: list[Topic], counts: dict[int, int], guild_scope: str) -> discord.Embed:
    """For members: what each topic is about, in the moderators' words. The query is theirs to tune
    (a long boolean expression reads as noise); moderators see it in `/topic test`."""
    embed = _base("Topics this server watches", "Ask about any of them: `/summary topic:<name>`.")
    for topic in topics[:FIELDS]:
        where = "this server" if topic.scope == guild_scope else "global"
        value = f"{clean(topic.description, 400) or NO_DESCRIPTION}\n{counts.get(topic.id, 0)} reports · {where}"
        embed.add_field(name=clean(topic.name, FIELD_NAME), value=value[:FIELD_VALUE], inline=False)
    return fit(embed)


def topic_test_embed(result: TopicTest) -> discord.Embed:
    embed = _base(
        "Topic test (nothing saved)",
        f"`{clean(result.query, 900)}` matches {plural(result.total, 'report')} first seen in the window.",
    )
    lines = [f"• {link(r.outlet, r.url, 60)}: {clean(r.title, 200)}" for r in result.sample]
    if lines:
        embed.add_field(name="Newest matches", value="\n".join(lines)[:FIELD_VALUE], inline=False)
    return fit(embed)


def explanation_embed(found: Explanation) -> discord.Embed:
    """/topic test with a report: `topics explain`'s sentence, the report's text cleaned of mentions."""
    how = {"query": "by its words", "story": "by its story", "profile": "by the topic's profile", "pinned": "pinned"}
    verdict = how[found.matched_by] if found.matched_by else ("excluded" if found.excluded else "not the topic's")
    embed = _base(f"Topic test: report #{found.report_id} in {clean(found.topic, 100)}", clean(found.line(), 3500))
    embed.add_field(name="Verdict", value=verdict, inline=True)
    if found.profile_terms:
        embed.add_field(name="Shared with the profile", value=clean(", ".join(found.profile_terms), 900), inline=True)
    return fit(embed)


def feed_link(feed: Feed, limit: int = 200) -> str:
    """A feed by name, linked to its URL; a feed stored with a password in its URL (before those were
    refused) shows the masked URL and no link, so the password never reaches a message."""
    name = redact_credentials(feed.display_name)
    if redact_credentials(feed.url) != feed.url:
        return label(name, limit)
    return link(name, feed.url, limit)


def feeds_embed(feeds: list[Feed]) -> list[discord.Embed]:
    if not feeds:
        return [message("This server has added no feeds yet: `/feed add url`.", title="Feeds")]
    lines = []
    for f in feeds:
        detail = f"paused: {f.paused_reason}" if f.paused else f"next poll {when(f.next_poll_at)}"
        error = f"\n  last error: {clean(redact_credentials(f.last_error), 300)}" if f.last_error else ""
        lines.append(f"#{f.id} {STATUS[f.status]} · {feed_link(f, 80)} · {detail}{error}")
    return _lines_pages("Feeds of this server", "Health of the feeds this server added:", lines)


def alerts_status_embed(channels: list[AlertChannel]) -> discord.Embed:
    if not channels:
        return message("No alert channel is set: `/alerts set channel [topic]`.", title="Alerts")
    lines = [f"• {'all topics and feed health' if c.topic_name is None else c.topic_name} → <#{c.channel_id}>"
             for c in channels]  # fmt: skip
    return message("\n".join(lines), title="Alerts")


# --- alerts -------------------------------------------------------------------------------------------------
def story_alert_embed(alert: StoryAlert) -> discord.Embed:
    first = alert.first
    outlets = alert.outlets
    lead = "New story" if alert.kind == "new" else "Story update"
    count = f"now reported by {plural(len(outlets), 'outlet')}" if len(outlets) > 1 else f"first reported by {first.outlet}"
    embed = discord.Embed(
        title=clean(first.title, TITLE),
        url=first.url if first.url and len(first.url) <= 2048 else None,
        description=clean(f"{lead} on {alert.topic.name}: {count}.", 500),
        colour=COLOUR,
    )
    lines = [f"• {link(r.outlet, r.url, 60)} {when(r.published_at)}" for r in alert.reports if r.copy_of is None][:10]
    claim = alert.key_claim
    if claim is not None:
        origins = ", ".join(s.outlet for s in claim.origins) or "no outlet on its own reporting"
        relays = f"; relayed by {plural(len(claim.relays), 'outlet')}" if claim.relays else ""
        since = f" · since {'~' if claim.estimated else ''}{when(claim.first_published_at)}" if claim.first_published_at else ""
        embed.add_field(
            name=clean(f"Key claim · {LABELS[claim.label]}", FIELD_NAME),
            value=clean(f"{claim.text}\n{origins}{relays}", FIELD_VALUE - 80) + since,
            inline=False,
        )
    embed.add_field(
        name=clean(", ".join(outlets), FIELD_NAME) or "Outlets",
        value="\n".join(lines)[:FIELD_VALUE] or "—",
        inline=False,
    )
    embed.set_footer(text=f"Planwatch · {alert.topic.name} · one message per story, updated as outlets join")
    return fit(embed)


def feed_notice_embed(notice: FeedNotice) -> discord.Embed:
    feed = notice.feed
    if notice.status == "ok":
        text = f"Feed {feed_link(feed)} is working again."
    elif notice.status == "paused":
        text = f"Feed {feed_link(feed)} is paused: {clean(feed.paused_reason, 300)}. `/feed resume` polls it again."
    else:
        text = (f"Feed {feed_link(feed)} is failing ({feed.consecutive_failures} times in a row): "
                f"{clean(redact_credentials(feed.last_error or ''), 500)}. Planwatch keeps retrying with backoff.")  # fmt: skip
    return message(text, title="Feed health")


def report_line(report: Report) -> str:
    return f"{link(report.outlet, report.url, 60)}: {clean(report.title, 200)}"
