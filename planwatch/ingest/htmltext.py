"""HTML fragments from feeds to clean plain text: no markup, no script or style, entities decoded,
whitespace collapsed. Feed text is hostile by default; what leaves here is only characters."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "object", "svg", "math", "head"})
_BLOCK = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
        "table", "tr", "td", "th", "section", "article", "header", "footer", "figure", "figcaption", "hr",
        "dd", "dt", "aside",
    }
)  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.parts.append(data)


def collapse(text: str) -> str:
    """Single spaces inside lines, single newlines between paragraphs, no control characters."""
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n", text).strip()


def html_to_text(fragment: str | None, *, single_line: bool = False) -> str:
    if not fragment:
        return ""
    if "<" not in fragment:
        text = html.unescape(fragment) if "&" in fragment else fragment
    else:
        parser = _TextCollector()
        try:
            parser.feed(fragment)
            parser.close()
        except (AssertionError, ValueError):  # pragma: no cover - HTMLParser is lenient; belt and braces
            return collapse(re.sub(r"<[^>]*>", " ", fragment))
        text = "".join(parser.parts)
        if "<" in text and ">" in text:
            # Markup that was entity-escaped once more (&lt;b&gt;): strip the second layer too.
            return html_to_text(text, single_line=single_line)
    text = collapse(text)
    return text.replace("\n", " ") if single_line else text
