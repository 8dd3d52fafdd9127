"""Collections created with a `Schema`: what is stored and reported, side by side with a real
chroma 1.5.9 server (``chroma run``, through chromadb's HttpClient) where it can run.

achroma is compared on its local client and on its HTTP client against ``achroma run``.
Chroma's local server refuses sparse vector indexes ("not enabled in local"), which achroma
builds: those behaviours are checked on achroma alone.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import achroma
from achroma import Schema, SparseVectorIndexConfig, StringInvertedIndexConfig
from achroma.core import schema_rules

_names = itertools.count()


def fresh_name() -> str:
    return f"schema-{next(_names)}"


@pytest.fixture(scope="module")
def chroma(chroma_server: Any) -> Any:
    chromadb = pytest.importorskip("chromadb")
    return chromadb.HttpClient(host=chroma_server.host, port=chroma_server.port)


@pytest.fixture(scope="module", params=["local", "http"])
def ours(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "http":
        server = request.getfixturevalue("achroma_server")
        client: Any = achroma.HttpClient(host=server.host, port=server.port)
    else:
        client = achroma.EphemeralClient()
    yield client
    client.close()  # an open ephemeral client would keep its collections for other tests


def _classes(chromadb: bool) -> Any:
    if chromadb:
        import chromadb.api.types as types

        return types
    return achroma


SCHEMAS: dict[str, Callable[[Any], Any]] = {
    "default": lambda m: m.Schema(),
    "no string index on a key": lambda m: m.Schema().delete_index(
        m.StringInvertedIndexConfig(), key="cat"
    ),
    "no int index by default": lambda m: m.Schema().delete_index(m.IntInvertedIndexConfig()),
    "no fts": lambda m: m.Schema().delete_index(m.FtsIndexConfig(), key="#document"),
    "cosine with hnsw params": lambda m: m.Schema().create_index(
        m.VectorIndexConfig(space="cosine", hnsw=m.HnswIndexConfig(ef_search=50, max_neighbors=8))
    ),
}


def _chroma_model(collection: Any) -> tuple[Any, Any]:
    return collection._model.serialized_schema, collection._model.configuration_json


def _our_model(collection: Any) -> tuple[Any, Any]:
    return collection.model.schema, collection.configuration_json


@pytest.mark.parametrize("case", list(SCHEMAS))
def test_created_collection_reports_the_servers_reconciled_schema(
    case: str, chroma: Any, ours: Any
) -> None:
    name = fresh_name()
    theirs = chroma.create_collection(
        name, schema=SCHEMAS[case](_classes(True)), embedding_function=None
    )
    mine = ours.create_collection(
        name, schema=SCHEMAS[case](_classes(False)), embedding_function=None
    )
    assert _our_model(mine) == _chroma_model(theirs)
    assert mine.schema.serialize_to_json() == theirs.schema.serialize_to_json()
    # Read back, the same.
    assert _our_model(ours.get_collection(name)) == _chroma_model(chroma.get_collection(name))


def test_default_schema_with_a_configuration_takes_its_schema_from_it(
    chroma: Any, ours: Any
) -> None:
    name = fresh_name()
    configuration = {"hnsw": {"space": "ip", "ef_construction": 64}}
    theirs = chroma.create_collection(
        name,
        schema=_classes(True).Schema(),
        configuration=configuration,
        embedding_function=None,
    )
    mine = ours.create_collection(
        name, schema=Schema(), configuration=configuration, embedding_function=None
    )
    assert _our_model(mine) == _chroma_model(theirs)
    assert mine.schema.keys["#embedding"].float_list.vector_index.config.space == "ip"


def test_schema_and_configuration_both_customised_are_refused(chroma: Any, ours: Any) -> None:
    def create(client: Any, classes: Any) -> str:
        schema = classes.Schema().delete_index(classes.StringInvertedIndexConfig(), key="cat")
        try:
            client.create_collection(
                fresh_name(),
                schema=schema,
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return "created"

    expected = create(chroma, _classes(True))
    assert "Cannot set both collection config and schema" in expected
    assert create(ours, _classes(False)) == expected


def test_get_or_create_keeps_the_stored_schema(chroma: Any, ours: Any) -> None:
    name = fresh_name()
    results = []
    for client, classes in ((chroma, _classes(True)), (ours, _classes(False))):
        first = classes.Schema().delete_index(classes.StringInvertedIndexConfig(), key="cat")
        client.create_collection(name, schema=first, embedding_function=None)
        other = classes.Schema().delete_index(classes.IntInvertedIndexConfig(), key="n")
        again = client.get_or_create_collection(name, schema=other, embedding_function=None)
        results.append(again.schema.serialize_to_json())
    assert results[1] == results[0]
    assert "cat" in results[1]["keys"] and "n" not in results[1]["keys"]


def test_an_invalid_schema_is_refused_with_chromas_message(chroma: Any, ours: Any) -> None:
    # JSON the Schema class would refuse to build, as another client could send it.
    body = {"defaults": schema_rules.default_schema()["defaults"], "keys": {"#x": {}}}
    outcomes = []
    for create in (
        lambda: chroma._server.create_collection(fresh_name(), schema=_Raw(body)),
        lambda: ours.create_collection(fresh_name(), schema=body),
    ):
        with pytest.raises(Exception) as caught:
            create()
        outcomes.append(f"{type(caught.value).__name__}: {caught.value}")
    assert outcomes[1] == outcomes[0]
    assert "key cannot begin with '#'" in outcomes[0]


class _Raw:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def serialize_to_json(self) -> dict[str, Any]:
        return self.body


# --- achroma only: sparse indexes (Chroma's local server has none) ---


def test_a_sparse_index_is_stored_with_the_collection(ours: Any) -> None:
    schema = Schema().create_index(SparseVectorIndexConfig(), key="sparse")
    name = fresh_name()
    ours.create_collection(name, schema=schema, embedding_function=None)
    found = ours.get_collection(name, embedding_function=None).schema
    index = found.keys["sparse"].sparse_vector.sparse_vector_index
    assert index.enabled


def test_collections_without_a_schema_report_the_default_one(ours: Any) -> None:
    made = ours.create_collection(fresh_name(), embedding_function=None)
    assert made.model.schema == schema_rules.default_schema()


def test_a_fork_keeps_the_schema(ours: Any) -> None:
    schema = Schema().delete_index(StringInvertedIndexConfig(), key="cat")
    made = ours.create_collection(fresh_name(), schema=schema, embedding_function=None)
    made.add(ids=["a"], embeddings=[[1.0, 2.0]])
    fork = made.fork(fresh_name())
    assert fork.model.schema == made.model.schema


# --- discovered keys ---


def _write_mixed_metadata(collection: Any) -> None:
    collection.add(
        ids=["a", "b"],
        embeddings=[[1.0, 0.0], [0.0, 1.0]],
        metadatas=[{"n": 1, "s": "x", "arr": ["p", "q"]}, {"f": 1.5, "b": True}],
    )
    collection.upsert(ids=["a"], embeddings=[[1.0, 0.0]], metadatas=[{"n": "one"}])
    collection.update(ids=["b"], metadatas=[{"ints": [1, 2], "cat": "c"}])


@pytest.mark.parametrize("case", ["default", "no string index on a key"])
def test_writes_add_discovered_keys_to_the_schema(case: str, chroma: Any, ours: Any) -> None:
    name = fresh_name()
    schemas = []
    for client, chromadb in ((chroma, True), (ours, False)):
        made = client.create_collection(
            name, schema=SCHEMAS[case](_classes(chromadb)), embedding_function=None
        )
        _write_mixed_metadata(made)
        # The handle create returned does not refresh; a new one shows the keys.
        assert set(made.schema.keys) == set(SCHEMAS[case](_classes(chromadb)).keys)
        schemas.append(client.get_collection(name, embedding_function=None).schema)
    theirs, mine = (s.serialize_to_json() for s in schemas)
    assert mine == theirs
    assert {"n", "s", "arr", "f", "b", "ints", "cat"} <= set(mine["keys"])
    assert set(mine["keys"]["n"]) == {"int", "string"}


def test_a_write_of_known_keys_leaves_the_schema_unchanged(ours: Any) -> None:
    made = ours.create_collection(fresh_name(), embedding_function=None)
    made.add(ids=["a"], embeddings=[[1.0, 0.0]], metadatas=[{"n": 1}])
    before = ours.get_collection(made.name, embedding_function=None).model.schema
    made.add(ids=["b"], embeddings=[[1.0, 0.0]], metadatas=[{"n": 2, "chroma:x": 1}])
    assert ours.get_collection(made.name, embedding_function=None).model.schema == before


# --- enforcement ---


def _restricted(classes: Any) -> Any:
    """No string index on "cat", no int index anywhere by default, no full-text search."""
    return (
        classes.Schema()
        .delete_index(classes.StringInvertedIndexConfig(), key="cat")
        .delete_index(classes.IntInvertedIndexConfig())
        .delete_index(classes.FtsIndexConfig(), key="#document")
    )


def _search_module(chromadb: bool) -> Any:
    if chromadb:
        import chromadb.base_types
        import chromadb.execution.expression as expression

        expression.SparseVector = chromadb.base_types.SparseVector  # type: ignore[attr-defined]
        return expression
    return achroma


READS: dict[str, Callable[[Any, Any], Any]] = {
    "get on a disabled key": lambda c, m: c.get(where={"cat": "x"}),
    "get with $nin on it": lambda c, m: c.get(where={"cat": {"$nin": ["x"]}}),
    "get on another type of it": lambda c, m: c.get(where={"cat": 1.5}),
    "get on a disabled type": lambda c, m: c.get(where={"n": {"$gt": 1}}),
    "the first disabled leaf": lambda c, m: c.get(
        where={"$or": [{"f": 1.5}, {"n": 1}, {"cat": "x"}]}
    ),
    "get by document": lambda c, m: c.get(where_document={"$contains": "hel"}),
    "query by key": lambda c, m: c.query(query_embeddings=[[1.0, 0.0]], where={"cat": "x"}),
    "query by document": lambda c, m: c.query(
        query_embeddings=[[1.0, 0.0]], where_document={"$regex": "h.*"}
    ),
    "delete by key": lambda c, m: c.delete(where={"cat": {"$in": ["y"]}}),
    "delete by document": lambda c, m: c.delete(where_document={"$not_contains": "zzz"}),
    "search by key": lambda c, m: c.search(m.Search().where(m.Key("cat") == "x")),
    "search by document": lambda c, m: c.search(m.Search().where(m.Key.DOCUMENT.contains("hel"))),
    "search mixing": lambda c, m: c.search(
        m.Search().where((m.Key("f") == 1.5) | (m.Key("n") == 1))
    ),
    "sparse knn without an index": lambda c, m: c.search(
        m.Search().rank(m.Knn(query=m.SparseVector(indices=[1], values=[1.0]), key="sp"))
    ),
    "dense knn": lambda c, m: c.search(m.Search().rank(m.Knn(query=[1.0, 0.0]))),
    "search by id": lambda c, m: c.search(m.Search().where(m.Key.ID.is_in(["a"]))),
}


def _outcome(read: Callable[[], Any]) -> str:
    try:
        read()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ok"


@pytest.fixture(scope="module")
def restricted(chroma: Any, ours: Any) -> tuple[Any, Any]:
    name = fresh_name()
    made = []
    for client, chromadb in ((chroma, True), (ours, False)):
        collection = client.create_collection(
            name, schema=_restricted(_classes(chromadb)), embedding_function=None
        )
        collection.add(
            ids=["a", "b"],
            embeddings=[[1.0, 0.0], [0.0, 1.0]],
            metadatas=[{"cat": "x", "n": 1, "f": 1.5}, {"cat": "y", "n": 2, "f": 2.5}],
            documents=["hello", "world"],
        )
        made.append(collection)
    return made[0], made[1]


@pytest.mark.parametrize("case", list(READS))
def test_reads_on_disabled_indexes_fail_as_in_chroma(
    case: str, restricted: tuple[Any, Any]
) -> None:
    theirs, mine = restricted
    expected = _outcome(lambda: READS[case](theirs, _search_module(True)))
    if "Search operation is not implemented for local executor" in expected:
        # Chroma's local server checks the search, then cannot run it; achroma runs it.
        expected = "ok"
    assert _outcome(lambda: READS[case](mine, _search_module(False))) == expected
    if case not in ("get on another type of it", "dense knn", "search by id"):
        assert "because" in expected


@pytest.mark.parametrize("bm25", [False, True])
def test_a_bm25_sparse_index_scales_queries_by_idf(bm25: bool, ours: Any) -> None:
    schema = Schema().create_index(SparseVectorIndexConfig(bm25=bm25), key="sp")
    collection = ours.create_collection(fresh_name(), schema=schema, embedding_function=None)
    vectors = {"a": ([1], [1.0]), "b": ([1, 2], [0.5, 1.0]), "c": ([2], [1.0])}
    collection.add(
        ids=list(vectors),
        embeddings=[[1.0, 0.0]] * 3,
        metadatas=[{"sp": achroma.SparseVector(indices=i, values=v)} for i, v in vectors.values()],
    )
    query = achroma.Knn(query=achroma.SparseVector(indices=[1], values=[1.0]), key="sp")
    found = collection.search(achroma.Search().rank(query).select(achroma.K.SCORE))
    # Term 1 is in 2 of 3 records: IDF log(1 + (3 - 2 + 0.5) / (2 + 0.5)).
    idf = math.log(1 + 1.5 / 2.5) if bm25 else 1.0
    assert found["ids"][0] == ["a", "b"]
    assert found["scores"][0] == pytest.approx([1 - idf, 1 - 0.5 * idf])


def test_modify_mirrors_hnsw_changes_into_the_schema(ours: Any) -> None:
    # As chroma run does: both vector index configs (defaults and #embedding) follow.
    col = ours.create_collection("modify-schema", embedding_function=None)
    try:
        col.modify(configuration={"hnsw": {"ef_search": 55, "resize_factor": 1.5}})
        stored = ours.get_collection("modify-schema", embedding_function=None)
        schema = stored.schema.serialize_to_json()
        for config in (
            schema["defaults"]["float_list"]["vector_index"]["config"],
            schema["keys"]["#embedding"]["float_list"]["vector_index"]["config"],
        ):
            assert config["hnsw"]["ef_search"] == 55
            assert config["hnsw"]["resize_factor"] == 1.5
            assert config["hnsw"]["ef_construction"] == 100
        assert stored.configuration_json["hnsw"]["ef_search"] == 55
    finally:
        ours.delete_collection("modify-schema")
