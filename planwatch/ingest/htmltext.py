"""HTML fragments from feeds to clean plain text: no markup, no script or style, entities decoded,
whitespace collapsed. Feed text is hostile by default; what leaves here is only characters.

Regular expressions rather than an HTML parser: the output is plain text that every edge escapes
again, so exact tree-building buys nothing, and this runs for every item of every poll (about 5x
faster than html.parser on typical feed descriptions)."""

from __future__ import annotations

import html
import re
import unicodedata

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


def _format_characters() -> list[int]:
    """Unicode's format characters (category Cf), from the planes that have any: 16 ms at import."""
    planes = (range(0x20000), range(0xE0000, 0xE1000))
    return [c for plane in planes for c in plane if unicodedata.category(chr(c)) == "Cf"]


# Characters a reader does not see but that change what is read: the bidi embeddings, overrides and
# isolates (U+202A-E, U+2066-9) can make a headline or a name display as another text, zero-width
# characters (U+200B-D, U+2060-4, U+FEFF) hide inside words and defeat search and dedup, a soft
# hyphen (U+00AD) splits a word for search. Every format character (Cf) goes, and every control
# character but tab and the line breaks. ZWJ and ZWNJ (U+200D, U+200C) go too, knowingly: emoji
# sequences then show as their parts (a family as three faces, a tag flag as a black flag) and some
# Persian and Indic words join their letters differently; the words still read the same.
_DELETE = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), *range(0x7F, 0x85), *range(0x86, 0xA0), *_format_characters()])

# A whitespace-free run longer than any word (German compounds and Finnish words stay under it): a
# base64 blob, a separator line or a hostile 20,000-character "word". It is dropped, not broken: broken
# into pieces it would still fill a summary point, a digest line or an embed with noise.
MAX_TOKEN = 64
MAX_URL_TOKEN = 2048  # a link written out in the text: kept when it is a plausible URL length
# Scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Myanmar,
# Tibetan): a whole clause is one run, so such runs are kept up to paragraph length.
MAX_SPACELESS_TOKEN = 2000
_LONG_RUN = re.compile(rf"\S{{{MAX_TOKEN + 1}}}")
_URL_START = re.compile(r"\W{0,3}(?:https?://|www\.)", re.I)
_SPACELESS = re.compile(
    "[\u0e00-\u0fff\u1000-\u109f\u1780-\u17ff\u3000-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\uff00-\uffef\U00020000-\U0003134f]"
)


def readable_token(token: str) -> bool:
    """Whether a whitespace-free run is something a reader reads (a word, a link, a clause of a
    language written without spaces) rather than a blob."""
    if len(token) <= MAX_TOKEN:
        return True
    if _URL_START.match(token):
        return len(token) <= MAX_URL_TOKEN
    return len(token) <= MAX_SPACELESS_TOKEN and 2 * len(_SPACELESS.findall(token)) >= len(token)


def strip_invisible(text: str) -> str:
    """Text without format or control characters (tab and line breaks stay)."""
    return text.translate(_DELETE)


def collapse(text: str, *, drop_long_tokens: bool = False) -> str:
    """Single spaces inside lines, single newlines between paragraphs, no control or format characters;
    with drop_long_tokens, no run longer than a word either (see readable_token).
    (str.split() knows every Unicode space: no-break, thin, ideographic ...)"""
    lines: list[str] = []
    for line in text.translate(_DELETE).splitlines():
        tokens = line.split()
        if drop_long_tokens and _LONG_RUN.search(line):
            tokens = [token for token in tokens if readable_token(token)]
        if tokens:
            lines.append(" ".join(tokens))
    return "\n".join(lines)


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
    text = collapse(text, drop_long_tokens=True)
    return text.replace("\n", " ") if single_line else text
