"""`$contains` on a full-text index without positions (detail=none): the index only narrows
to documents holding every trigram, and instr decides, so results are exactly Python's `in`
(case-sensitive, by characters), for any length of text."""

from __future__ import annotations

from pathlib import Path

import pytest

import achroma
from achroma.engine.filter_sql import MAX_TRIGRAMS, trigram_query

LONG = "".join(chr(0x4E00 + i) for i in range(100))  # 98 distinct trigrams

DOCUMENTS = [
    LONG,
    LONG[:60] + "x" + LONG[61:],
    "The quick brown fox",
    "the QUICK brown fox",
    "brown fox quick the",  # every trigram of "quick brown" but one, in another order
    "naïve café über straße",
    "NAÏVE CAFÉ",
    "日本語のテキスト",
    "say \"hi\" and 'bye'",
    "aaaaaa",
    "ab",
    "x",
    "abcabcabd",
    "wordy " * 40 + "end",
    "",
]

NEEDLES = [
    "a",
    "ab",
    "Th",
    "fox",
    "Fox",
    "quick brown",
    "QUICK",
    "brown fox quick",
    "ïve",
    "café",
    "CAFÉ",
    "straße",
    "日本",
    "本語の",
    "テキスト",
    '"hi"',
    "'bye'",
    "aaaa",
    "abcabd",
    "cabd",
    "bca",
    "wordy " * 39 + "end",
    "wordy " * 41,
    "zzz",
    " ",
]


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> achroma.Collection:
    path: Path = tmp_path_factory.mktemp("contains")
    client = achroma.PersistentClient(path=path)
    col = client.create_collection("docs", embedding_function=None)
    col.add(
        ids=[f"d{i}" for i in range(len(DOCUMENTS))],
        embeddings=[[1.0, float(i)] for i in range(len(DOCUMENTS))],
        documents=DOCUMENTS,
    )
    return col


@pytest.mark.parametrize("needle", NEEDLES)
def test_contains_is_exactly_substring(collection: achroma.Collection, needle: str) -> None:
    want = {f"d{i}" for i, d in enumerate(DOCUMENTS) if needle in d}
    got = collection.get(where_document={"$contains": needle})["ids"]
    assert set(got) == want
    not_got = collection.get(where_document={"$not_contains": needle})["ids"]
    assert set(not_got) == {f"d{i}" for i in range(len(DOCUMENTS))} - want


def test_trigram_query_ands_distinct_trigrams_and_caps_them() -> None:
    assert trigram_query("abcab") == '"abc" AND "bca" AND "cab"'
    assert trigram_query('a"b"') == '"a""b" AND """b"""'
    long = trigram_query("".join(chr(0x4E00 + i) for i in range(200)))
    assert long.count(" AND ") == MAX_TRIGRAMS - 1
