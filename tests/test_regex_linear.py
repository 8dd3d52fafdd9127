"""`$regex` takes time linear in the document: patterns that make a backtracking engine
exponential finish at once on documents of 25, 10,000 and 10 million characters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

import achroma
from achroma.emulation.rust_regex import compile_pattern

SIZES = {"25": 25, "10k": 10_000, "10M": 10_000_000}
DOCUMENTS = {f"{c}{name}": c * n for name, n in SIZES.items() for c in "ax"}
A_DOCS = ["a10M", "a10k", "a25"]
ALL_DOCS = sorted(DOCUMENTS)
# Far above the few tenths of a second a search of 10 MB takes, far below a backtracking
# engine's hours.
BOUND_SECONDS = 2.0


@pytest.fixture(scope="module")
def collection() -> Iterator[Any]:
    client = achroma.EphemeralClient()
    col = client.create_collection("linear", embedding_function=None)
    col.add(
        ids=list(DOCUMENTS),
        embeddings=[[1.0, float(i)] for i in range(len(DOCUMENTS))],
        documents=list(DOCUMENTS.values()),
    )
    yield col
    client.close()


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("([a-z]|a)+$", ALL_DOCS),
        ("(a*)*b", []),
        ("(a|aa)+$", A_DOCS),
        ("(x+x+)+y", []),
    ],
)
def test_pathological_patterns_finish_quickly_on_long_documents(
    collection: Any, pattern: str, expected: list[str]
) -> None:
    started = time.perf_counter()
    found = collection.get(where_document={"$regex": pattern})["ids"]
    assert time.perf_counter() - started < BOUND_SECONDS
    assert sorted(found) == expected


def test_not_regex_is_as_fast(collection: Any) -> None:
    started = time.perf_counter()
    found = collection.get(where_document={"$not_regex": "(a|aa)+$"})["ids"]
    assert time.perf_counter() - started < BOUND_SECONDS
    assert sorted(found) == [d for d in ALL_DOCS if d not in A_DOCS]


@pytest.mark.parametrize("size", list(SIZES.values()))
def test_search_time_does_not_depend_on_the_pattern_being_ambiguous(size: int) -> None:
    text = "a" * size + "!"
    started = time.perf_counter()
    assert not compile_pattern("(a|aa)+$").is_match(text)
    assert compile_pattern("(a|a)+!").is_match(text)
    assert time.perf_counter() - started < BOUND_SECONDS


def test_compiled_patterns_are_cached() -> None:
    assert compile_pattern("(x+x+)+y") is compile_pattern("(x+x+)+y")


def test_counted_repetitions_past_re2s_limit_are_unrolled() -> None:
    assert compile_pattern("(a{50}){40}").is_match("a" * 2000)
    assert not compile_pattern("(a{50}){40}").is_match("a" * 1999)
    assert compile_pattern("x{2,1500}y").is_match("x" * 1200 + "y")
    assert not compile_pattern("^x{2,1500}y").is_match("x" * 1501 + "y")


def test_a_catastrophic_fallback_is_cut_off_with_a_clear_error() -> None:
    # RE2's \b is ASCII, so a Unicode \b on a document with non-ASCII word characters runs
    # on the backtracking fallback: within its time budget, or an InvalidArgumentError,
    # never a stall (this one backtracks for hours) and never a raw sqlite3 error.
    client = achroma.EphemeralClient()
    col = client.create_collection("fallback", embedding_function=None)
    col.add(
        ids=["slow", "plain"],
        embeddings=[[1.0, 2.0], [2.0, 1.0]],
        documents=["é " + "a" * 40 + "!", "déjà vu"],
    )
    try:
        for call in (
            lambda: col.get(where_document={"$regex": r"\b([a-z]|a)+$"}),
            lambda: col.query(
                query_embeddings=[[1.0, 2.0]], where_document={"$regex": r"\b([a-z]|a)+$"}
            ),
            lambda: col.delete(where_document={"$regex": r"\b([a-z]|a)+$"}),
        ):
            started = time.perf_counter()
            with pytest.raises(achroma.InvalidArgumentError, match="took longer than"):
                call()
            assert time.perf_counter() - started < BOUND_SECONDS
        assert col.count() == 2
        # An ordinary pattern with \b on the same documents still answers, exactly.
        assert col.get(where_document={"$regex": r"\bvu\b"})["ids"] == ["plain"]
        assert col.get(where_document={"$regex": r"\bdéjà\b"})["ids"] == ["plain"]
    finally:
        client.close()
