"""OPML 2.0 in and out: the format every feed reader trades subscriptions in."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from planwatch.errors import UsageError

MAX_OPML_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Outline:
    url: str
    title: str | None


def read_opml(data: bytes) -> list[Outline]:
    """Every outline with an xmlUrl, at any depth (folders are flattened)."""
    if len(data) > MAX_OPML_BYTES:
        raise UsageError(f"OPML file too large (over {MAX_OPML_BYTES // 1024 // 1024} MiB)")
    if b"<!ENTITY" in data:
        raise UsageError("OPML file declares XML entities; refusing it")
    try:
        root = ET.fromstring(data)  # noqa: S314 - entity declarations refused above
    except ET.ParseError as exc:
        raise UsageError(f"not a readable OPML file: {exc}") from None
    if root.tag.lower() != "opml":
        raise UsageError(f"not an OPML file: the root element is <{root.tag}>")
    found: list[Outline] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url:
            title = (outline.get("title") or outline.get("text") or "").strip() or None
            found.append(Outline(url, title))
    return found


def write_opml(feeds: list[tuple[str, str | None, str | None]], now: datetime, title: str = "Planwatch feeds") -> str:
    """feeds: (xml_url, name, site_url)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now)
    body = ET.SubElement(root, "body")
    for url, name, site in feeds:
        attrs = {"type": "rss", "text": name or url, "title": name or url, "xmlUrl": url}
        if site:
            attrs["htmlUrl"] = site
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
