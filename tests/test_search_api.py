"""`Collection.search` through chromadb's expression classes as achroma exports them, on the
sync and async clients (ephemeral and persistent): builders, `Rrf`, group-by, string
queries embedded by the collection's function, `SearchResult.rows()`; and the rest of the
collection surface that came with Search (`get_indexing_status`, `get_collection_by_id`).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import achroma
from achroma import K, Knn, ReadLevel, Rrf, Search
from achroma.embeddings import EmbeddingFunction
from achroma.errors import InvalidArgumentError, NotFoundError
from achroma.search import GroupBy, MinK

WORDS = ["red", "green", "blue", "gold"]


class WordVectors(EmbeddingFunction[list[str]]):
    """One axis per colour word: a text's vector counts its colour words (offline, exact)."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: list[str]) -> list[np.ndarray]:  # noqa: A002 (chromadb's name)
        return [
            np.array([text.split().count(w) + 0.01 for w in WORDS], dtype=np.float32)
            for text in input
        ]

    @staticmethod
    def name() -> str:
        return "word-vectors-test"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> WordVectors:
        return WordVectors()


DOCS = {
    "a": "red red apple",
    "b": "green pear",
    "c": "blue sky blue sea",
    "d": "gold and red",
    "e": "green and blue",
}
CATS = {"a": "fruit", "b": "fruit", "c": "view", "d": "metal", "e": "view"}


@pytest.fixture(params=["ephemeral", "persistent"])
def collection(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "ephemeral":
        client: Any = achroma.EphemeralClient()
    else:
        client = achroma.PersistentClient(path=str(tmp_path / "store"))
    col = client.create_collection(
        "colours", embedding_function=WordVectors(), configuration={"hnsw": {"space": "cosine"}}
    )
    col.add(
        ids=list(DOCS),
        documents=list(DOCS.values()),
        metadatas=[{"cat": CATS[i], "n": n} for n, i in enumerate(DOCS)],
    )
    yield col
    client.close()


def test_builders_filter_rank_page_and_select(collection: Any) -> None:
    search = (
        Search()
        .where((K("cat") != "metal") & K.DOCUMENT.contains("e"))
        .rank(Knn(query="blue", limit=10))
        .limit(2)
        .select(K.DOCUMENT, K.SCORE, "cat")
    )
    result = collection.search(search)
    assert result["ids"] == [["c", "e"]]
    rows = result.rows()[0]
    assert [r["document"] for r in rows] == [DOCS["c"], DOCS["e"]]
    assert [r["metadata"] for r in rows] == [{"cat": "view"}, {"cat": "view"}]
    assert rows[0]["score"] < rows[1]["score"]
    assert result["select"] == [["#document", "#score", "cat"]]


def test_a_string_query_is_embedded_like_query_texts(collection: Any) -> None:
    searched = collection.search(Search().rank(Knn(query="green")).select(K.SCORE))
    queried = collection.query(query_texts=["green"], n_results=5, include=["distances"])
    assert searched["ids"] == queried["ids"]
    assert searched["scores"][0] == pytest.approx(queried["distances"][0], abs=1e-5)


def test_rrf_fuses_two_rankings(collection: Any) -> None:
    rrf = Rrf(
        [Knn(query="red", return_rank=True, limit=5), Knn(query="gold", return_rank=True, limit=5)]
    )
    result = collection.search(Search().rank(rrf).limit(3).select(K.SCORE))
    # "gold and red" is near the top of both lists.
    assert result["ids"][0][0] == "d"
    assert all(s < 0 for s in result["scores"][0])


def test_group_by_keeps_the_best_per_group(collection: Any) -> None:
    search = (
        Search()
        .rank(Knn(query="blue green", limit=10))
        .group_by(GroupBy(keys=K("cat"), aggregate=MinK(keys=[K.SCORE], k=1)))
        .select(K.SCORE, "cat")
    )
    rows = collection.search(search).rows()[0]
    cats = [r["metadata"]["cat"] for r in rows]
    assert sorted(cats) == ["fruit", "metal", "view"]
    assert [r["score"] for r in rows] == sorted(r["score"] for r in rows)


def test_batches_and_read_levels(collection: Any) -> None:
    batch = [Search().rank(Knn(query=w, limit=1)) for w in WORDS]
    result = collection.search(batch, read_level=ReadLevel.INDEX_ONLY)
    assert result["ids"] == [["a"], ["b"], ["c"], ["d"]]
    assert result["scores"] == [None] * 4


def test_unranked_search_is_insertion_order(collection: Any) -> None:
    result = collection.search(Search(where={"cat": "view"}).select_all())
    assert result["ids"] == [["c", "e"]]
    assert result["scores"] == [[0.0, 1.0]]
    assert result["embeddings"][0][0] == pytest.approx(WordVectors()([DOCS["c"]])[0].tolist())


def test_client_side_errors_are_chromadbs(collection: Any) -> None:
    with pytest.raises(ValueError, match="RRF requires at least one rank"):
        collection.search(Search().rank(Rrf([])))
    with pytest.raises(InvalidArgumentError):
        collection.search(Search().rank(Knn(query=[1.0, 2.0])))


def test_indexing_status_and_get_by_id(collection: Any) -> None:
    status = collection.get_indexing_status()
    assert status.total_ops == 1 and status.num_unindexed_ops + status.num_indexed_ops == 1
    collection.query(query_texts=["red"], n_results=1)  # a read brings the index up to date
    status = collection.get_indexing_status()
    assert (status.num_indexed_ops, status.op_indexing_progress) == (1, 1.0)


@pytest.mark.anyio
async def test_async_client_searches(tmp_path: Path) -> None:
    client = await achroma.AsyncPersistentClient(path=str(tmp_path / "async"))
    try:
        col = await client.create_collection("colours", embedding_function=WordVectors())
        await col.add(ids=list(DOCS), documents=list(DOCS.values()))
        result = await col.search(Search().rank(Knn(query="gold", limit=2)).select(K.DOCUMENT))
        assert result.rows()[0][0] == {"id": "d", "document": DOCS["d"]}
        same = await client.get_collection_by_id(col.id, embedding_function=WordVectors())
        assert same.name == "colours"
        assert (await client.get_collection_by_id(str(col.id))).id == col.id
        with pytest.raises(InvalidArgumentError, match="Invalid collection ID"):
            await client.get_collection_by_id("nope")
        with pytest.raises(NotFoundError):
            await client.get_collection_by_id(uuid.UUID(int=1), embedding_function=None)
    finally:
        await client.close()


def test_over_http(achroma_server: Any) -> None:
    client = achroma.HttpClient(host=achroma_server.host, port=achroma_server.port)
    col = client.get_or_create_collection("colours-http", embedding_function=WordVectors())
    col.add(ids=list(DOCS), documents=list(DOCS.values()))
    result = col.search(Search().rank(Knn(query="blue", limit=2)).select(K.SCORE))
    assert result["ids"] == [["c", "e"]]
    status = col.get_indexing_status()
    assert status.total_ops == 1 and 0.0 <= status.op_indexing_progress <= 1.0
    assert client.get_collection_by_id(col.id, embedding_function=WordVectors()).name == col.name
    client.delete_collection("colours-http")


def test_fork_count_counts_the_fork_line(tmp_path: Path, achroma_server: Any) -> None:
    local = achroma.PersistentClient(path=str(tmp_path / "forks"))
    remote = achroma.HttpClient(host=achroma_server.host, port=achroma_server.port)
    for client in (local, remote):
        root = client.create_collection("line-root", embedding_function=None)
        root.add(ids=["a"], embeddings=[[1.0, 2.0]])
        assert root.fork_count() == 0
        child = root.fork("line-child")
        grandchild = child.fork("line-grandchild")
        assert [c.fork_count() for c in (root, child, grandchild)] == [2, 2, 2]
        client.create_collection("line-other", embedding_function=None)
        assert root.fork_count() == 2  # an unrelated collection is not in the line
        client.delete_collection("line-child")
        assert grandchild.fork_count() == 1
        with pytest.raises(NotFoundError):
            child.fork_count()
        for name in ("line-root", "line-grandchild", "line-other"):
            client.delete_collection(name)
    local.close()
