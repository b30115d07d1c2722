"""HTML fragments from feeds to clean plain text: no markup, no script or style, entities decoded,
whitespace collapsed. Feed text is hostile by default; what leaves here is only characters.

Regular expressions rather than an HTML parser: the output is plain text that every edge escapes
again, so exact tree-building buys nothing, and this runs for every item of every poll (about 5x
faster than html.parser on typical feed descriptions)."""

from __future__ import annotations

import html
import re

_SKIP = "script|style|noscript|template|iframe|object|svg|math|head|title"
# An element whose content is never text; an unclosed one swallows the rest, as a browser would.
# A tag holds no "<", and every run inside one is bounded: with [^>]* instead, text like "<p <p <p ..."
# with no ">" costs quadratic time, and one unclosed tag swallows the text after it.
_SKIPPED_ELEMENT = re.compile(rf"<({_SKIP})\b[^<>]{{0,2048}}>.*?(?:</\1\s*>|\Z)", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)|<!\[CDATA\[|\]\]>|<![^>]{0,2048}>|<\?[^>]{0,2048}>", re.S)
_BLOCK_TAGS = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 blockquote pre table tr td th section article header footer figure"
    " figcaption hr dd dt aside".split()
)
# One pass over every tag (a paragraph-like tag leaves a line break): in two passes, removing one tag
# could remove the "<" that ends the unclosed tag before it.
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)[^<>]{0,2048}(?:>|(?=<)|\Z)")
# Markup beyond this many characters of a field is not read (the text is cut far shorter anyway).
MAX_FRAGMENT = 400_000
_DELETE = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127, 0x200B, 0xFEFF])


def collapse(text: str) -> str:
    """Single spaces inside lines, single newlines between paragraphs, no control characters.
    (str.split() knows every Unicode space: no-break, thin, ideographic ...)"""
    lines = (" ".join(line.split()) for line in text.translate(_DELETE).splitlines())
    return "\n".join(line for line in lines if line)


def _tag(match: re.Match[str]) -> str:
    return "\n" if match[1].lower() in _BLOCK_TAGS else ""


def _strip(fragment: str) -> str:
    text = _SKIPPED_ELEMENT.sub(" ", fragment)
    text = _COMMENT.sub(" ", text)
    return _TAG.sub(_tag, text)


def html_to_text(fragment: str | None, *, single_line: bool = False) -> str:
    if not fragment:
        return ""
    fragment = fragment[:MAX_FRAGMENT]
    text = _strip(fragment) if "<" in fragment else fragment
    if "&" in text:
        text = html.unescape(text)
        if "<" in text and _TAG.search(text):
            # Markup that was entity-escaped once more (&lt;b&gt;): strip the second layer too.
            text = _strip(text)
    text = collapse(text)
    return text.replace("\n", " ") if single_line else text
