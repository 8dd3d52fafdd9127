"""The Rust regex dialect of `$regex`, checked without chromadb (test_compat_records.py
compares a larger corpus against chromadb itself)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from achroma.emulation.rust_regex import RegexSyntaxError, compile_pattern


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        ("e$", "pie\n", False),  # `$` is the very end, not before a final newline
        ("e\\z", "pie", True),
        ("(?m)e$", "pie\n", True),
        ("[[:alpha:]]", "é", False),  # POSIX classes are ASCII
        ("\\pL", "é", True),
        ("[a-z&&[^aeiou]]", "e", False),
        ("[a-z--[aeiou]]", "b", True),
        ("a**", "", True),  # nested repetition, not an error
        ("(?i)straße", "STRASSE", False),  # simple case folding only
        ("(?i)Ä", "ä", True),
        ("(?x) a b # comment", "ab", True),
        ("(?U)a+", "aaa", True),
        ("\\b{start}x", "a x", True),
        ("\\x{1F600}", "\U0001f600", True),
    ],
)
def test_matches_like_the_rust_crate(pattern: str, text: str, found: bool) -> None:
    assert compile_pattern(pattern).is_match(text) is found


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(", "regex parse error:\n    (\n    ^\nerror: unclosed group"),
        (
            "a(?=b)",
            "regex parse error:\n    a(?=b)\n     ^^^\n"
            "error: look-around, including look-ahead and look-behind, is not supported",
        ),
        (
            "(?P<a>x)(?P<a>y)",
            "regex parse error:\n    (?P<a>x)(?P<a>y)\n        ^       ^\n"
            "error: duplicate capture group name",
        ),
        (
            "a\nb(",
            "regex parse error:\n" + "~" * 79 + "\n1: a\n2: b(\n    ^\n" + "~" * 79 + "\n"
            "error: unclosed group",
        ),
        ("[a&&b]", "Byte pattern is not allowed"),
    ],
)
def test_errors_carry_the_crates_notation(pattern: str, message: str) -> None:
    with pytest.raises(RegexSyntaxError) as caught:
        compile_pattern(pattern)
    assert str(caught.value) == message


# Patterns whose meaning is the same in Python's `re` and in the Rust crate.
_common = st.recursive(
    st.sampled_from(["a", "b", "ab", "\\d", "\\w", "[ab]", "[^a]", "x", "."]),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, inner).map("|".join),
        inner.map(lambda p: f"(?:{p})"),
        st.tuples(inner, st.sampled_from(["*", "+", "?", "{1,2}"])).map(
            lambda t: f"(?:{t[0]}){t[1]}"
        ),
    ),
    max_leaves=6,
)


@given(_common, st.text(alphabet="abx1 \n", max_size=8))
def test_agrees_with_python_re_where_the_dialects_agree(pattern: str, text: str) -> None:
    assert compile_pattern(pattern).is_match(text) == (re.search(pattern, text) is not None)
