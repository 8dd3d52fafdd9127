"""The RE2 translation of Chroma's regex dialect means what the `regex`-module translation
meant (tests/regex_v1_reference.py, kept as the oracle), and what chromadb 1.5.9 does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import re2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import achroma
import regex_v1_reference as reference
from achroma.emulation import unicode_sets
from achroma.emulation.rust_regex import RegexSyntaxError, compile_pattern, translate

ATOMS = [
    "a", "b", "k", "K", "é", "ß", "σ", "Σ", "1", " ", "\\n", "_", "-", ".",
    "\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "\\pL", "\\p{Greek}", "\\P{Lu}", "\\p{Nd}",
    "[a-c]", "[^a]", "[^k]", "[a-z&&[^aeiou]]", "[\\w--\\d]", "[a-c~~b-d]", "[[:alpha:]]",
    "[^[:alpha:]é]", "[\\p{Greek}&&\\p{Ll}]", "[\\pL--[a-z]]", "[^\\P{Lu}]", "[k[^a]]",
    "^", "$", "\\A", "\\z", "\\b", "\\B", "(?m:^)", "(?m:$)", "(?s:.)", "(?-u:\\b)",
]  # fmt: skip
FLAGS = ["(?i)", "(?m)", "(?s)", "(?U)", "(?x)", "(?i-u)", ""]
TEXT = st.text(alphabet="abkKéßσΣς1 \n_-—xK", max_size=10)

_pattern = st.recursive(
    st.sampled_from(ATOMS),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, inner).map("|".join),
        st.tuples(st.sampled_from(FLAGS), inner).map(lambda t: f"({t[0]}{t[1]})"),
        st.tuples(inner, st.sampled_from(["*", "+", "?", "{2}", "{1,3}", "{0,2}?", "+?"])).map(
            lambda t: f"(?:{t[0]}){t[1]}"
        ),
    ),
    max_leaves=6,
)
PATTERN = st.tuples(st.sampled_from(FLAGS), _pattern).map("".join)


def _reference_outcome(pattern: str, text: str) -> bool | str:
    try:
        return reference.compile_pattern(pattern).search(text) is not None
    except reference.RegexSyntaxError as exc:
        return str(exc)


def _outcome(pattern: str, text: str) -> bool | str:
    try:
        return compile_pattern(pattern).is_match(text)
    except RegexSyntaxError as exc:
        return str(exc)


def _has_non_ascii_word(text: str) -> bool:
    return unicode_sets.non_ascii_word().search(text) is not None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PATTERN, TEXT)
def test_re2_translation_agrees_with_the_regex_module_translation(pattern: str, text: str) -> None:
    expected = _reference_outcome(pattern, text)
    assert _outcome(pattern, text) == expected
    if isinstance(expected, bool) and not _has_non_ascii_word(text):
        # The RE2 text itself, with no fallback (its `\b` is exact on such text).
        options = re2.Options()
        options.log_errors = False
        assert (re2.compile(translate(pattern), options).search(text) is not None) is expected


def test_special_word_boundaries_fall_back_to_a_correct_engine() -> None:
    with pytest.raises(ValueError, match="RE2 cannot express"):
        translate("\\b{start}x")
    assert compile_pattern("\\b{start}é").is_match("a é")
    assert not compile_pattern("\\b{start}é").is_match("aé")
    assert compile_pattern("x\\>").is_match("x y")


def test_unicode_word_boundary_sees_non_ascii_letters() -> None:
    assert not compile_pattern("\\bb").is_match("éb")  # é is a word character
    assert compile_pattern("\\bb").is_match("-b")
    assert compile_pattern("(?-u:\\b)b").is_match("éb")  # ASCII boundary, as RE2's


def test_not_boundary_never_holds_inside_a_character() -> None:
    # RE2's \B would hold between the three UTF-8 bytes of the dash.
    assert not compile_pattern("\\B").is_match("a—b")
    assert compile_pattern("\\B").is_match("ab—")


# Unicode classes, set operations and case folding, side by side with chromadb itself.
SIDE_BY_SIDE_DOCS = [
    "Ωμέγα", "ASCII only", "kelvin K", "straße STRASSE", "数字 ٣ digits 3", "naïve café",
    "tab\tand\nnewline", "σς Σ", "_under_score", "Ǆ ǅ ǆ",
]  # fmt: skip
SIDE_BY_SIDE_PATTERNS = [
    "\\p{Greek}+", "[\\p{Greek}&&\\p{Ll}]{3}", "[\\pL--\\p{Latin}]", "[\\w--[a-z]]",
    "[^\\P{Lu}]", "(?i)[^k]+$", "(?i)k", "(?i)[a-z&&[^k]]+", "(?i)\\p{Lu}", "(?i)\\P{Ll}",
    "[a-z~~[aeiou]]{4}", "[[:alpha:]&&[^a-m]]{3}", "\\d", "[\\d--[0-9]]", "\\s\\S",
    "\\w+é", "(?i)STRAẞE", "(?i)σ", "(?i)ǅ", "[\\p{Han}\\p{Arabic}]", "\\p{Nd}+",
    "\\bcaf", "é\\b", "\\Bï", "(?-u:\\b)ve", "\\b{start}caf", "[^\\w\\s]", "(?i)[^\\W]+$",
    "[\\p{sc=Latin}&&\\p{Lu}]", "\\p{White_Space}", "[\\x{100}-\\x{3000}--\\pL]",
]  # fmt: skip


@pytest.fixture(scope="module")
def collections() -> Iterator[tuple[Any, Any]]:
    import chromadb

    name = f"regex-{uuid.uuid4().hex[:8]}"
    chroma_client, ours_client = chromadb.EphemeralClient(), achroma.EphemeralClient()
    pair = []
    for client in (chroma_client, ours_client):
        col = client.create_collection(name, embedding_function=None)
        col.add(
            ids=[f"d{i}" for i in range(len(SIDE_BY_SIDE_DOCS))],
            embeddings=[[1.0, float(i)] for i in range(len(SIDE_BY_SIDE_DOCS))],
            documents=SIDE_BY_SIDE_DOCS,
        )
        pair.append(col)
    yield pair[0], pair[1]
    chroma_client.delete_collection(name)
    ours_client.close()


@pytest.mark.parametrize("pattern", SIDE_BY_SIDE_PATTERNS)
def test_unicode_classes_and_set_operations_match_chromadb(
    collections: tuple[Any, Any], pattern: str
) -> None:
    chroma, ours = collections
    for op in ("$regex", "$not_regex"):
        expected = sorted(chroma.get(where_document={op: pattern})["ids"])
        assert sorted(ours.get(where_document={op: pattern})["ids"]) == expected, (op, pattern)
