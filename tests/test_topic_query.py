"""The topic query language: what it accepts, what it refuses and why, and alias widening."""

from __future__ import annotations

import pytest

from planwatch.errors import UsageError
from planwatch.topics.query import compile_query


def test_terms_become_phrases_with_aliases() -> None:
    """Every term is quoted for FTS5 and widened to its spelling variants."""
    fts = compile_query('kyiv AND "28-point" NOT football')
    assert '"kiev"' in fts and '"kyiv"' in fts
    assert '"28 point"' in fts and '"28-point"' in fts
    assert 'NOT "football"' in fts


def test_topic_aliases_extend_builtin_groups() -> None:
    """A topic's own alias group joins the built-in one."""
    fts = compile_query("witkoff", [["witkoff", "whitkoff"]])
    assert fts == '("whitkoff" OR "witkoff")'


def test_prefix_and_quotes_inside_phrases() -> None:
    """Prefix terms keep their star; FTS5 syntax inside a phrase is only text, never an operator."""
    assert compile_query("sanction*") == '"sanction" *'
    assert compile_query('"title: NEAR(a b) OR x"') == '"title: NEAR(a b) OR x"'
    with pytest.raises(UsageError, match="not closed"):
        compile_query('a"b')


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "empty"),
        ("ukraine AND", "ends where a term"),
        ("NOT sport", "NOT needs a term before it"),
        ("(ukraine OR kyiv", "not closed"),
        ("ukraine)", "unbalanced"),
        ('"peace plan', "not closed"),
        ("---", "no letters or digits"),
        ("a OR OR b", "OR needs a term"),
        ("x" * 2001, "longer than"),
    ],
)
def test_bad_queries_say_why(query: str, reason: str) -> None:
    """A malformed query is refused with the reason."""
    with pytest.raises(UsageError, match=reason):
        compile_query(query)
