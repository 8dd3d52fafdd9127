"""Fuzzing every public collection method: junk arguments of every kind (wrong types, NaN and
infinities, huge and empty values, deep and wide filters, Unicode with NUL and surrogates,
SQL metacharacters in keys).

Only the exception types documented for bad input may come out (`ValueError`, `TypeError`,
`OverflowError` and `ChromaError`s), or another type where chromadb 1.5.9 raises that same
type for the same call (achroma reproduces its client-side checks, `AttributeError`s
included); and a call that raised leaves the collection exactly as it was.
`ACHROMA_LONG_TESTS=1` runs many more examples.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import achroma
from achroma.errors import ChromaError

LONG = os.environ.get("ACHROMA_LONG_TESTS") == "1"
EXAMPLES = 2_000 if LONG else 120
DOCUMENTED = (ValueError, TypeError, OverflowError, ChromaError)

_weird_text = st.one_of(
    st.text(
        alphabet=st.one_of(
            st.characters(),  # surrogates included
            st.sampled_from(["\x00", "'", '"', "\\", "%", "_", "$", ";", "\u2028"]),
        ),
        max_size=8,
    ),
    st.sampled_from(["' OR 1=1 --", "x'); DROP TABLE records; --", "/* */", "a\x00b"]),
)
_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**31, 2**32, 2**63, 2**64, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
_scalars = st.one_of(st.none(), _numbers, _weird_text, st.binary(max_size=4))
_keys = st.one_of(
    _weird_text,
    st.sampled_from(["$and", "$or", "$eq", "$in", "$contains", "$regex", "n", "k", "#id"]),
)


def _junk(depth: int = 3) -> st.SearchStrategy[Any]:
    return st.recursive(
        _scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(_keys, inner, max_size=3),
        ),
        max_leaves=8,
    )


def _deep(operator: str, depth: int) -> dict[str, Any]:
    clause: dict[str, Any] = {"n": {"$gte": 0}}
    for level in range(depth):
        op = operator if operator != "mixed" else ("$and", "$or")[level % 2]
        clause = {op: [clause, {"k": {"$ne": "zz"}}]}
    return clause


_where = st.one_of(
    _junk(),
    st.dictionaries(
        st.sampled_from(["n", "k", "tags"]),
        st.one_of(
            _scalars,
            st.dictionaries(
                st.sampled_from(["$eq", "$ne", "$gt", "$lt", "$in", "$nin", "$contains"]),
                st.one_of(_scalars, st.lists(_scalars, max_size=4)),
                min_size=1,
                max_size=1,
            ),
        ),
        min_size=1,
        max_size=2,
    ),
    st.builds(_deep, st.sampled_from(["$and", "$or", "mixed"]), st.integers(1, 60)),
    st.builds(lambda n: {"$or": [{"n": i} for i in range(n)]}, st.integers(0, 3_000)),
    st.builds(lambda n: {"n": {"$in": list(range(n))}}, st.integers(0, 12_000)),
)
_where_document = st.one_of(
    _junk(),
    st.dictionaries(
        st.sampled_from(["$contains", "$not_contains", "$regex", "$not_regex"]),
        _scalars,
        min_size=1,
        max_size=1,
    ),
)
_embeddings = st.one_of(
    _junk(),
    st.lists(st.lists(_numbers, max_size=4), max_size=3),
    st.builds(
        np.asarray,
        st.lists(st.lists(st.floats(width=32), min_size=2, max_size=2), max_size=3),
    ),
    st.sampled_from(
        [np.zeros((0, 2)), np.zeros((2, 0)), np.full((1, 2), np.nan), np.ones((1, 2, 2))]
    ),
)
_ids = st.one_of(_junk(), st.lists(_weird_text, max_size=4), _weird_text)
_include = st.one_of(
    _junk(),
    st.lists(
        st.sampled_from(["documents", "embeddings", "metadatas", "distances", "uris", "data"]),
        max_size=6,
    ),
)


def _snapshot(col: Any) -> Any:
    got = col.get(include=["embeddings", "documents", "metadatas", "uris"])
    return (
        got["ids"],
        np.asarray(got["embeddings"]).tobytes(),
        got["documents"],
        got["metadatas"],
        got["uris"],
    )


def _fill(module: Any) -> tuple[Any, Any]:
    client = module.EphemeralClient()
    col = client.get_or_create_collection("fuzz", embedding_function=None)
    col.add(
        ids=[f"r{i}" for i in range(20)],
        embeddings=[[float(i), 1.0] for i in range(20)],
        metadatas=[{"n": i, "k": f"v{i % 3}", "tags": ["a", f"t{i}"]} for i in range(20)],
        documents=[f"document number {i}" for i in range(20)],
    )
    return client, col


@pytest.fixture(scope="module")
def collection() -> Any:
    client, col = _fill(achroma)
    yield col
    client.delete_collection("fuzz")
    client.close()  # the process's ephemeral store must not outlive the module


@pytest.fixture(scope="module")
def reference() -> Any:
    """The same records in chromadb, to ask what it raises."""
    chromadb = pytest.importorskip("chromadb")
    client, col = _fill(chromadb)
    yield col
    client.delete_collection("fuzz")


def _raised(col: Any, method: str, kwargs: dict[str, Any]) -> type[BaseException] | None:
    try:
        getattr(col, method)(**kwargs)
    except Exception as exc:
        return type(exc)
    return None


def _call(col: Any, reference: Any, method: str, kwargs: dict[str, Any]) -> None:
    before = _snapshot(col)
    raised = _raised(col, method, kwargs)
    if raised is None:
        return
    if not issubclass(raised, DOCUMENTED):
        expected = _raised(reference, method, kwargs)
        assert expected is not None and raised.__name__ == expected.__name__, (
            f"{method}({kwargs!r:.300}) raised {raised.__name__}; chromadb: {expected}"
        )
    assert _snapshot(col) == before, f"{method} raised and yet changed the collection"


_fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@_fuzz
@given(
    method=st.sampled_from(["add", "upsert", "update"]),
    ids=_ids,
    embeddings=st.one_of(st.none(), _embeddings),
    metadatas=st.one_of(st.none(), _junk()),
    documents=st.one_of(st.none(), _junk()),
    uris=st.one_of(st.none(), _junk()),
)
def test_writes_raise_only_documented_errors(
    collection: Any, reference: Any, method: str, ids: Any, embeddings: Any, metadatas: Any, documents: Any,
    uris: Any,
) -> None:  # fmt: skip
    # Writes that succeed are undone so the next example starts from the same records.
    before = collection.count()
    _call(
        collection,
        reference,
        method,
        {
            "ids": ids,
            "embeddings": embeddings,
            "metadatas": metadatas,
            "documents": documents,
            "uris": uris,
        },
    )
    if collection.count() != before:
        extra = [i for i in collection.get(include=[])["ids"] if not i.startswith("r")]
        collection.delete(ids=extra)


@_fuzz
@given(
    ids=st.one_of(st.none(), _ids),
    where=st.one_of(st.none(), _where),
    where_document=st.one_of(st.none(), _where_document),
    limit=st.one_of(st.none(), _numbers),
    offset=st.one_of(st.none(), _numbers),
    include=_include,
)
def test_get_raises_only_documented_errors(
    collection: Any, reference: Any, ids: Any, where: Any, where_document: Any, limit: Any, offset: Any,
    include: Any,
) -> None:  # fmt: skip
    kwargs = {"ids": ids, "where": where, "where_document": where_document, "limit": limit}
    _call(collection, reference, "get", {**kwargs, "offset": offset, "include": include})


@_fuzz
@given(
    query_embeddings=_embeddings,
    ids=st.one_of(st.none(), _ids),
    n_results=_numbers,
    where=st.one_of(st.none(), _where),
    where_document=st.one_of(st.none(), _where_document),
    include=_include,
)
def test_query_raises_only_documented_errors(
    collection: Any, reference: Any, query_embeddings: Any, ids: Any, n_results: Any, where: Any,
    where_document: Any, include: Any,
) -> None:  # fmt: skip
    if isinstance(n_results, float) and math.isfinite(n_results):
        n_results = abs(n_results)
    _call(
        collection,
        reference,
        "query",
        {
            "query_embeddings": query_embeddings,
            "ids": ids,
            "n_results": n_results,
            "where": where,
            "where_document": where_document,
            "include": include,
        },
    )


@_fuzz
@given(
    where=_where,
    where_document=st.one_of(st.none(), _where_document),
    limit=st.one_of(st.none(), _numbers),
)
def test_filtered_delete_of_nothing_raises_only_documented_errors(
    collection: Any, reference: Any, where: Any, where_document: Any, limit: Any
) -> None:
    # Every filter is joined with one no record passes, so a delete that runs deletes nothing.
    guarded = {"$and": [where, {"n": {"$lt": -1}}]} if isinstance(where, dict) else where
    _call(
        collection,
        reference,
        "delete",
        {"where": guarded, "where_document": where_document, "limit": limit},
    )
    assert collection.count() == 20


@_fuzz
@given(name=st.one_of(st.none(), _junk()), metadata=st.one_of(st.none(), _junk()))
def test_modify_raises_only_documented_errors(
    collection: Any, reference: Any, name: Any, metadata: Any
) -> None:
    before = (collection.name, collection.metadata)
    kwargs = {"name": name, "metadata": metadata}
    raised = _raised(collection, "modify", kwargs)
    if raised is None:
        collection.modify(name="fuzz")
        return
    if not issubclass(raised, DOCUMENTED):
        expected = _raised(reference, "modify", kwargs)
        assert expected is not None and raised.__name__ == expected.__name__
        reference.modify(name="fuzz")
    assert (collection.name, collection.metadata) == before
