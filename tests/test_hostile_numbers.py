"""Numbers a careless or hostile caller sends: counts and pages far past any collection.

chromadb's binding takes `n_results`, `limit` and `offset` as u32s; achroma refuses the same
values with the same errors, answers the rest without allocating for what cannot exist, and
never lets SQLite's own overflow error through.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from side_by_side import fresh_clients

chromadb = pytest.importorskip("chromadb")

HUGE = [10**400, 2**64, 2**63, 2**32, 2**32 - 1, 2**31, 10**6]


@pytest.fixture
def collections(tmp_path: Path) -> Any:
    """The same 50 records in chromadb and in achroma (whose client is closed after, so the
    process's ephemeral store does not outlive the test)."""
    found = {}
    with fresh_clients(chromadb, tmp_path / "chromadb") as clients:
        for name, client in clients.items():
            col = client.create_collection("numbers", embedding_function=None)
            col.add(
                ids=[str(i) for i in range(50)],
                embeddings=[[float(i), 1.0] for i in range(50)],
                metadatas=[{"n": i} for i in range(50)],
            )
            found[name] = col
        yield found


def _outcome(call: Any) -> Any:
    try:
        result = call()
    except Exception as exc:
        return type(exc).__name__, str(exc)
    return result.get("ids", result)


@pytest.mark.parametrize("n", HUGE, ids=lambda n: f"n=2**{n.bit_length() - 1}")
@pytest.mark.parametrize("where", [None, {"n": {"$gte": 0}}, {"n": {"$gte": 45}}])
def test_huge_n_results_answer_as_in_chromadb(collections: Any, n: int, where: Any) -> None:
    outcomes = {
        name: _outcome(
            lambda col=col: col.query(
                query_embeddings=[[1.0, 1.0]], n_results=n, where=where, include=[]
            )
        )
        for name, col in collections.items()
    }
    assert outcomes["achroma"] == outcomes["chromadb"]


@pytest.mark.parametrize("n", HUGE, ids=lambda n: f"n=2**{n.bit_length() - 1}")
def test_huge_limits_and_offsets_answer_as_in_chromadb(collections: Any, n: int) -> None:
    def calls(col: Any) -> list[Any]:
        return [
            _outcome(lambda: col.get(limit=n)),
            _outcome(lambda: col.get(offset=n)),
            _outcome(lambda: col.peek(limit=n)),
            _outcome(lambda: col.delete(where={"n": {"$gte": 48}}, limit=n)),
            col.count(),
        ]

    outcomes = {name: calls(col) for name, col in collections.items()}
    assert outcomes["achroma"] == outcomes["chromadb"]
