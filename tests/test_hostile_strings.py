"""Strings a careless or hostile caller sends: NUL, empty ids, lone surrogates, any code point.

What chromadb stores round-trips through every operation; what it refuses is refused before
anything is written, with its exception type.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import achroma
from http_servers import Server
from side_by_side import fresh_clients

chromadb = pytest.importorskip("chromadb")

NUL_ID = "a\x00b"
SURROGATE = "a\ud800b"


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An empty collection in chromadb and in achroma (whose client is closed after, so the
    process's ephemeral store does not outlive the test)."""
    with fresh_clients(chromadb, tmp_path / "chromadb") as clients:
        yield {
            name: client.create_collection("hostile", embedding_function=None)
            for name, client in clients.items()
        }


def _outcome(call: Any) -> Any:
    try:
        result = call()
    except Exception as exc:
        return type(exc).__name__, str(exc)
    if isinstance(result, dict):
        return {k: result[k] for k in ("ids", "documents", "metadatas", "deleted") if k in result}
    return result


def _script(col: Any) -> list[Any]:
    """One sequence of operations on ids, documents and metadata holding NUL."""
    steps = [
        lambda: col.add(
            ids=[NUL_ID, "plain"],
            embeddings=[[1.0, 2.0], [2.0, 1.0]],
            metadatas=[{"k": "v\x00w", "n\x00k": 1}, {"k": "x"}],
            documents=["doc\x00ument", "plain doc"],
        ),
        lambda: col.get(ids=[NUL_ID]),
        lambda: col.add(ids=[NUL_ID], embeddings=[[1.0, 2.0]]),
        lambda: col.upsert(ids=[NUL_ID], embeddings=[[1.5, 2.0]], metadatas=[{"k": "v\x00w2"}]),
        lambda: col.get(ids=[NUL_ID]),
        lambda: col.get(where={"k": "v\x00w2"}),
        lambda: col.query(
            query_embeddings=[[1.0, 2.0]], ids=[NUL_ID], n_results=1, include=["documents"]
        ),
        lambda: col.get(ids=[""]),
        lambda: col.get(ids=["", "plain"]),
        lambda: col.delete(ids=[""]),
        lambda: col.count(),
        lambda: col.delete(ids=[NUL_ID]),
        lambda: col.count(),
        lambda: col.get(),
    ]
    return [_outcome(step) for step in steps]


def test_nul_and_empty_ids_behave_as_in_chromadb(pair: dict[str, Any]) -> None:
    outcomes = {name: _script(col) for name, col in pair.items()}
    assert outcomes["achroma"] == outcomes["chromadb"]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.add(ids=[SURROGATE], embeddings=[[1.0, 2.0]]), id="id"),
        pytest.param(
            lambda c: c.add(ids=["d"], embeddings=[[1.0, 2.0]], documents=[SURROGATE]),
            id="document",
        ),
        pytest.param(
            lambda c: c.add(ids=["m"], embeddings=[[1.0, 2.0]], metadatas=[{"k": SURROGATE}]),
            id="metadata-value",
        ),
        pytest.param(
            lambda c: c.add(ids=["k"], embeddings=[[1.0, 2.0]], metadatas=[{SURROGATE: 1}]),
            id="metadata-key",
        ),
        pytest.param(lambda c: c.upsert(ids=[SURROGATE], embeddings=[[1.0, 2.0]]), id="upsert-id"),
        pytest.param(lambda c: c.get(ids=[SURROGATE]), id="get-id"),
        pytest.param(lambda c: c.delete(ids=[SURROGATE]), id="delete-id"),
    ],
)
def test_lone_surrogates_are_refused_as_in_chromadb_and_write_nothing(
    pair: dict[str, Any], call: Any
) -> None:
    outcomes = {}
    for name, col in pair.items():
        outcomes[name] = (_outcome(lambda col=col: call(col)), col.count())
    assert outcomes["achroma"] == outcomes["chromadb"]
    assert outcomes["achroma"][1] == 0


# Any code point UTF-8 can hold, with NUL and the characters SQL and JSON treat specially.
_text = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(["\x00", "'", '"', "\\", "%", "_", "$", "\u2028", "\U0010ffff"]),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ids=st.lists(_text.filter(bool), min_size=1, max_size=6, unique=True),
    document=_text,
    key=_text.filter(lambda k: bool(k) and k[0] not in "#$" and not k.startswith("chroma:")),
    value=_text,
)
def test_any_string_round_trips_through_every_operation(
    ids: list[str], document: str, key: str, value: str
) -> None:
    client = achroma.EphemeralClient()
    col = client.get_or_create_collection("round-trip", embedding_function=None)
    try:
        n = len(ids)
        col.add(
            ids=ids,
            embeddings=[[float(i), 1.0] for i in range(n)],
            documents=[document] * n,
            metadatas=[{key: value}] * n,
        )
        got = col.get(ids=ids)
        assert sorted(got["ids"]) == sorted(ids)
        assert got["documents"] == [document] * n
        assert got["metadatas"] == [{key: value}] * n
        assert col.get(where={key: value})["ids"] == col.get()["ids"]
        col.upsert(ids=ids[:1], embeddings=[[9.0, 9.0]], documents=[document + "!"])
        assert col.get(ids=ids[:1])["documents"] == [document + "!"]
        hits = col.query(query_embeddings=[[9.0, 9.0]], n_results=1, include=[])
        assert hits["ids"] == [ids[:1]]
        assert col.delete(ids=ids[:1]) == {"deleted": 1}
        assert col.count() == n - 1
        assert col.get(ids=ids[:1])["ids"] == []
    finally:
        client.delete_collection("round-trip")
        client.close()


def test_nul_strings_round_trip_over_http(achroma_server: Server) -> None:
    client = achroma.HttpClient(host="127.0.0.1", port=achroma_server.port)
    col = client.get_or_create_collection("nul-http", embedding_function=None)
    col.add(
        ids=[NUL_ID],
        embeddings=[[1.0, 2.0]],
        documents=["doc\x00ument"],
        metadatas=[{"n\x00k": "v\x00w"}],
    )
    got = col.get(ids=[NUL_ID])
    assert got["ids"] == [NUL_ID]
    assert got["documents"] == ["doc\x00ument"]
    assert got["metadatas"] == [{"n\x00k": "v\x00w"}]
    assert col.delete(ids=[NUL_ID]) == {"deleted": 1}
    assert col.count() == 0
    client.close()
