"""The topic query language, compiled to SQLite FTS5.

Terms and "quoted phrases" joined by AND, OR, NOT (upper case) and parentheses; adjacent terms mean
AND; `term*` is a prefix. Precedence as in FTS5: NOT binds tighter than AND, AND tighter than OR.
Every term is emitted as a quoted FTS5 phrase, so punctuation ("28-point", "U.S.") never breaks the
query, and every term in an alias group is widened to (variant OR variant ...)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from planwatch.errors import UsageError
from planwatch.topics.aliases import alias_index, alias_key

MAX_QUERY = 2_000
MAX_DEPTH = 12
MAX_TERMS = 200  # FTS5's own parser overflows on very long expressions
_TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|"(?P<phrase>[^"]*)"(?P<pstar>\*)?|(?P<word>[^\s()"]+))')
_HAS_WORD_CHAR = re.compile(r"\w")
# FTS5 column filters (`title:kremlin`, `{title text}:x`, `-text:x`): refused rather than read as words,
# which would quietly match nothing. A URL's `https://` and a time's `10:30` are not filters.
_COLUMN_FILTER = re.compile(r"^-?(?:[^\W\d]\w*)?:(?!//)|^-?\{|\}:")


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Op:
    kind: str  # AND | OR | NOT
    parts: tuple[Node, ...]


Node = Term | Op


def _tokens(query: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    stripped = query.rstrip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if not match or match.end() == pos:
            rest = stripped[pos:].lstrip()
            if rest.startswith('"'):
                raise UsageError("bad query: a quoted phrase is not closed")
            raise UsageError(f"bad query: cannot read {rest[:20]!r}")
        pos = match.end()
        if match["lp"]:
            out.append(("(", "("))
        elif match["rp"]:
            out.append((")", ")"))
        elif match["phrase"] is not None:
            out.append(("term*" if match["pstar"] else "term", match["phrase"]))
        else:
            word = match["word"]
            if _COLUMN_FILTER.search(word):
                hint = f'; to search for the words, quote them: "{word}"' if _HAS_WORD_CHAR.search(word) else ""
                raise UsageError(
                    f"bad query: column filters such as {word!r} are not supported (terms match titles and texts alike){hint}"
                )
            if word in ("AND", "OR", "NOT"):
                out.append((word, word))
            elif word.endswith("*") and len(word) > 1:
                out.append(("term*", word[:-1]))
            else:
                out.append(("term", word))
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise UsageError("bad query: it is empty")
        node = self.or_expr()
        if self.pos < len(self.tokens):
            kind = self.peek()
            raise UsageError("bad query: unbalanced ')'" if kind == ")" else f"bad query: unexpected {kind!r}")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Op("OR", tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self.peek() in ("AND", "term", "term*", "("):
            if self.peek() == "AND":
                self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else Op("AND", tuple(parts))

    def not_expr(self) -> Node:
        node = self.primary()
        while self.peek() == "NOT":
            self.take()
            node = Op("NOT", (node, self.primary()))
        return node

    def primary(self) -> Node:
        kind = self.peek()
        if kind is None:
            raise UsageError("bad query: it ends where a term was expected")
        if kind == "(":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise UsageError(f"bad query: parentheses nested more than {MAX_DEPTH} deep")
            if self.peek() == ")":
                raise UsageError("bad query: empty parentheses")
            node = self.or_expr()
            if self.peek() != ")":
                raise UsageError("bad query: '(' is not closed")
            self.take()
            self.depth -= 1
            return node
        if kind in ("term", "term*"):
            _, text = self.take()
            if not _HAS_WORD_CHAR.search(text):
                raise UsageError(f"bad query: {text!r} has no letters or digits to match")
            return Term(" ".join(text.split()), prefix=kind == "term*")
        if kind == "NOT":
            raise UsageError("bad query: NOT needs a term before it, as in: ukraine NOT football")
        if kind == ")":
            raise UsageError("bad query: unbalanced ')'")
        raise UsageError(f"bad query: {kind} needs a term on each side")


def parse_query(query: str) -> Node:
    if len(query) > MAX_QUERY:
        raise UsageError(f"bad query: longer than {MAX_QUERY} characters")
    tokens = _tokens(query)
    if sum(kind.startswith("term") for kind, _ in tokens) > MAX_TERMS:
        raise UsageError(f"bad query: more than {MAX_TERMS} terms")
    return _Parser(tokens).parse()


def _phrase(text: str, prefix: bool) -> str:
    quoted = '"' + text.replace('"', '""') + '"'
    return f"{quoted} *" if prefix else quoted


def _emit(node: Node, aliases: dict[str, tuple[str, ...]]) -> str:
    if isinstance(node, Term):
        variants = aliases.get(alias_key(node.text), (node.text,)) if not node.prefix else (node.text,)
        if node.text not in variants:
            variants = (node.text, *variants)
        rendered = [_phrase(v, node.prefix) for v in variants]
        return rendered[0] if len(rendered) == 1 else "(" + " OR ".join(rendered) + ")"
    inner = f" {node.kind} ".join(_emit(part, aliases) for part in node.parts)
    return f"({inner})"


def compile_query(query: str, extra_aliases: list[list[str]] | None = None) -> str:
    """The FTS5 MATCH expression for a topic query; UsageError with the reason if it is malformed."""
    return _emit(parse_query(query), alias_index(extra_aliases))


def query_terms(query: str, extra_aliases: list[list[str]] | None = None) -> list[tuple[str, str]]:
    """Each distinct term of a query as it is written and as its own FTS5 expression (aliases widened):
    to say which of a query's words a report contains when the query is explained."""
    aliases = alias_index(extra_aliases)
    found: dict[str, str] = {}

    def walk(node: Node) -> None:
        if isinstance(node, Term):
            shown = f"{node.text}*" if node.prefix else node.text
            found.setdefault(shown, _emit(node, aliases))
            return
        for part in node.parts:
            walk(part)

    walk(parse_query(query))
    return list(found.items())
