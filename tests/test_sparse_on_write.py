"""Sparse embedding by the schema, as chromadb 1.5.9's client does it: writes fill a sparse
index's key from `#document` (or its metadata source key) where a record lacks it, and a
string `Knn` query on that key is embedded by the same function.

chromadb's servers refuse sparse indexes locally, so its client steps
(``_apply_sparse_embeddings_to_metadatas``, ``_embed_knn_string_queries``) are run on their
own, on a chromadb Collection that no server backs, and compared with achroma's; the
end-to-end behaviour is checked on achroma's local and HTTP clients.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import achroma
from achroma import Schema, SparseVectorIndexConfig
from achroma.api.sparse_inputs import apply_sparse_embeddings, embed_sparse_query
from achroma.embeddings import ChromaBm25EmbeddingFunction

_names = itertools.count()

DOCUMENTS = ["the quick brown fox", "lazy dogs sleep", "quick quick fox jumps"]


def _schema(classes: Any, function: Any, source_key: str = "#document") -> Any:
    config = classes.SparseVectorIndexConfig(embedding_function=function, source_key=source_key)
    return classes.Schema().create_index(config, key="sp")


def _chroma_collection(source_key: str) -> Any:
    chromadb = pytest.importorskip("chromadb")
    from chromadb.api.models.Collection import Collection
    from chromadb.types import Collection as Model
    from chromadb.utils.embedding_functions import ChromaBm25EmbeddingFunction as Theirs

    schema = _schema(chromadb.api.types, Theirs(), source_key)
    model = Model(
        id=uuid.uuid4(),
        name="unbacked",
        configuration_json={},
        serialized_schema=schema.serialize_to_json(),
        metadata=None,
        dimension=None,
        tenant="default_tenant",
        database="default_database",
    )
    return Collection(client=None, model=model, embedding_function=None)  # type: ignore[arg-type]


def _plain(value: Any) -> Any:
    """Sparse vectors of either library as (indices, values); other values as they are."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "indices"):
        return (list(value.indices), [float(v) for v in value.values])
    return value


CASES: dict[str, tuple[str, Any, Any]] = {
    "documents, no metadatas": ("#document", None, DOCUMENTS),
    "documents, some metadatas": ("#document", [{"a": 1}, None, {"sp": "kept"}], DOCUMENTS),
    "a None document": ("#document", None, ["one two", None, "three"]),
    "no documents": ("#document", [{"a": 1}, None, {"b": 2}], None),
    "metadata source": (
        "text",
        [{"text": "quick fox"}, {"text": 5}, {"other": "x"}],
        DOCUMENTS,
    ),
    "no metadatas or documents": ("#document", None, None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_writes_fill_sparse_keys_as_chromadb(case: str) -> None:
    source_key, metadatas, documents = CASES[case]
    theirs = _chroma_collection(source_key)._apply_sparse_embeddings_to_metadatas(
        metadatas, documents
    )
    schema = _schema(achroma, ChromaBm25EmbeddingFunction(), source_key)
    ours = anyio.run(apply_sparse_embeddings, schema, metadatas, documents)
    assert _plain(ours) == _plain(theirs)


def test_string_knn_queries_on_the_sparse_key_are_embedded_as_chromadb() -> None:
    from chromadb.execution.expression import Knn

    theirs = _chroma_collection("#document")._embed_knn_string_queries(
        Knn(query="quick fox", key="sp")
    )
    schema = _schema(achroma, ChromaBm25EmbeddingFunction())
    ours = anyio.run(embed_sparse_query, schema, "sp", "quick fox")
    assert _plain(ours) == _plain(theirs.query)


@pytest.mark.parametrize("key", ["missing", "plain"])
def test_string_knn_queries_without_a_sparse_function_fail_as_chromadb(key: str) -> None:
    from chromadb.api.types import StringInvertedIndexConfig
    from chromadb.execution.expression import Knn

    theirs_collection = _chroma_collection("#document")
    # "plain": in the schema, with no sparse function.
    schema = theirs_collection.schema.delete_index(StringInvertedIndexConfig(), key="plain")
    theirs_collection._model["serialized_schema"] = schema.serialize_to_json()
    with pytest.raises(ValueError) as expected:
        theirs_collection._embed_knn_string_queries(Knn(query="x", key=key))
    ours_schema = _schema(achroma, ChromaBm25EmbeddingFunction()).delete_index(
        achroma.StringInvertedIndexConfig(), key="plain"
    )
    with pytest.raises(ValueError) as got:
        anyio.run(embed_sparse_query, ours_schema, key, "x")
    assert str(got.value) == str(expected.value)


# --- end to end ---


@pytest.fixture(scope="module", params=["local", "http"])
def client(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "http":
        server = request.getfixturevalue("achroma_server")
        client: Any = achroma.HttpClient(host=server.host, port=server.port)
    else:
        client = achroma.EphemeralClient()
    yield client
    client.close()  # an open ephemeral client would keep its collections for other tests


def _bm25_collection(client: Any) -> Any:
    schema = Schema().create_index(
        SparseVectorIndexConfig(
            embedding_function=ChromaBm25EmbeddingFunction(), source_key="#document", bm25=True
        ),
        key="sp",
    )
    name = f"sparse-{next(_names)}"
    return client.create_collection(name, schema=schema, embedding_function=None)


def test_add_upsert_and_update_fill_the_sparse_key(client: Any) -> None:
    collection = _bm25_collection(client)
    function = ChromaBm25EmbeddingFunction()
    collection.add(ids=["a", "b"], embeddings=[[1.0, 0.0]] * 2, documents=DOCUMENTS[:2])
    collection.upsert(ids=["c"], embeddings=[[1.0, 0.0]], documents=[DOCUMENTS[2]])
    collection.update(ids=["b"], documents=["new words"], embeddings=[[0.0, 1.0]])
    got = collection.get(include=["metadatas"])
    expected = function([DOCUMENTS[0], "new words", DOCUMENTS[2]])
    assert [_plain(m["sp"]) for m in got["metadatas"]] == _plain(expected)


def test_a_record_carrying_the_key_keeps_its_own(client: Any) -> None:
    collection = _bm25_collection(client)
    own = achroma.SparseVector(indices=[7], values=[0.5])
    collection.add(
        ids=["a"], embeddings=[[1.0, 0.0]], documents=["some text"], metadatas=[{"sp": own}]
    )
    assert _plain(collection.get(include=["metadatas"])["metadatas"][0]["sp"]) == _plain(own)


def test_a_string_knn_query_on_the_sparse_key_ranks_by_bm25(client: Any) -> None:
    collection = _bm25_collection(client)
    collection.add(ids=["a", "b", "c"], embeddings=[[1.0, 0.0]] * 3, documents=DOCUMENTS)
    found = collection.search(achroma.Search().rank(achroma.Knn(query="quick fox", key="sp")))
    assert found["ids"][0][0] in ("a", "c")
    assert "b" not in found["ids"][0]
