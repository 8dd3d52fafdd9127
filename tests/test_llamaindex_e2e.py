"""LlamaIndex's `ChromaVectorStore` (llama-index-vector-stores-chroma 0.6) on achroma through
`achroma.install_as_chromadb()`, with the real chromadb hidden.

One scenario script (nodes with embeddings, queries, metadata filters, deletes, the async
variants, a `VectorStoreIndex` over the default embedding model) runs once per client, each
in a fresh interpreter: an EphemeralClient, a PersistentClient (reopened afterwards by a new
process) and an HttpClient against `achroma run`. The same script runs once more on chromadb
1.5.9 itself, a PersistentClient in a temporary folder: each test compares one outcome of
achroma's runs with that reference.

Every script runs offline: connections to anything but the loopback interface fail. LlamaIndex
needs no download here: llama-index-core ships the tiktoken and NLTK files it uses (under
llama_index/core/_static), its `Settings.embed_model` is never asked for (the index is given
the default model, all-MiniLM-L6-v2 computed by achroma, as a `BaseEmbedding`) and only the
retriever runs, so no language model is either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fresh_python import ALIAS, OFFLINE, run_script
from http_servers import Server

pytest.importorskip("llama_index.vector_stores.chroma")

# Imports, data and helpers of every script; `chromadb` is whichever the script installed.
COMMON = """
import asyncio
import json

import chromadb
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition, FilterOperator, MetadataFilter, MetadataFilters,
    VectorStoreQuery, VectorStoreQueryMode,
)
from llama_index.vector_stores.chroma import ChromaVectorStore

from achroma.embeddings.default import DefaultEmbeddingFunction


class MiniLM(BaseEmbedding):
    # all-MiniLM-L6-v2, computed locally by achroma: LlamaIndex's default would be OpenAI's.
    model_name: str = "all-MiniLM-L6-v2"

    def _get_text_embeddings(self, texts):
        return [vector.tolist() for vector in DefaultEmbeddingFunction()(texts)]

    def _get_text_embedding(self, text):
        return self._get_text_embeddings([text])[0]

    def _get_query_embedding(self, query):
        return self._get_text_embedding(query)

    async def _aget_query_embedding(self, query):
        return self._get_query_embedding(query)


ARTICLES = {
    "bees": "Honey bees survive winter by clustering together and shivering to stay warm.",
    "tides": "Tides rise and fall twice a day because the moon's gravity pulls on the oceans.",
    "bikes": "Oil a bicycle chain every few hundred kilometres, and wipe off the excess oil.",
    "bread": "Bread dough rises because yeast turns sugar into carbon dioxide bubbles.",
}
QUESTIONS = ["How do bees keep warm in the cold?", "Why does the sea level change?"]


def retrieved(nodes):
    return [[n.node.ref_doc_id, n.node.get_content()] for n in nodes]
"""


def _f(key: str, value: Any, operator: str = "EQ") -> str:
    return f"MetadataFilter(key={key!r}, value={value!r}, operator=FilterOperator.{operator})"


SCENARIO = f"""
def node(id_, embedding, source, **metadata):
    return TextNode(
        id_=id_, text=f"text of {{id_}}", embedding=embedding, metadata=metadata,
        relationships={{NodeRelationship.SOURCE: RelatedNodeInfo(node_id=source)}},
    )


NODES = [
    node("n1", [1.0, 0.0, 0.0], "doc-a", kind="cat", year=1999, tag="x"),
    node("n2", [0.0, 1.0, 0.0], "doc-b", kind="dog", year=2005, tag="y"),
    node("n3", [0.9, 0.0, 0.2], "doc-a", kind="cat", year=2015, tag="z"),
    node("n4", [0.5, 0.5, 0.0], "doc-c", kind="bird", year=2021, tag="x"),
    node("n5", [0.0, 0.3, 1.0], "doc-c", kind="dog", year=1990, tag="z"),
    node("n6", [0.7, 0.1, 0.1], "doc-d", kind="cat", year=2010, tag="y"),
]
NEAR_N1 = [1.0, 0.05, 0.0]
FILTERS = {{
    "eq": MetadataFilters(filters=[{_f("kind", "cat")}]),
    "gt": MetadataFilters(filters=[{_f("year", 2005, "GT")}]),
    "in": MetadataFilters(filters=[{_f("tag", ["x", "z"], "IN")}]),
    "ne_and_lte": MetadataFilters(filters=[{_f("kind", "cat", "NE")}, {_f("year", 2005, "LTE")}]),
    "nin_or_gte": MetadataFilters(
        filters=[{_f("tag", ["x", "y"], "NIN")}, {_f("year", 2021, "GTE")}],
        condition=FilterCondition.OR,
    ),
    "cat_and_new_or_x": MetadataFilters(
        filters=[
            {_f("kind", "cat")},
            MetadataFilters(
                filters=[{_f("year", 2012, "GT")}, {_f("tag", ["x"], "IN")}],
                condition=FilterCondition.OR,
            ),
        ],
        condition=FilterCondition.AND,
    ),
}}
out = {{}}


def ids_left():
    return sorted(collection.get()["ids"])


def nearest(query):
    found = store.query(query)
    return [found.ids, found.similarities]


collection = store.client
out["from_collection"] = [
    isinstance(collection, chromadb.Collection),
    ChromaVectorStore.from_collection(collection).client is collection,
]
try:
    ChromaVectorStore.from_collection(object())
except Exception as error:
    out["from_collection"].append(str(error))

out["added"] = store.add(NODES)
out["top_k"] = nearest(VectorStoreQuery(query_embedding=NEAR_N1, similarity_top_k=4))
out["top_k_over_count"] = nearest(VectorStoreQuery(query_embedding=NEAR_N1, similarity_top_k=9))
out["no_embedding"] = store.query(VectorStoreQuery(similarity_top_k=3)).ids
for name, filters in FILTERS.items():
    query = VectorStoreQuery(query_embedding=NEAR_N1, similarity_top_k=6, filters=filters)
    out["filter_" + name] = nearest(query)
mmr = VectorStoreQuery(query_embedding=NEAR_N1, similarity_top_k=3, mode=VectorStoreQueryMode.MMR)
out["mmr"] = store.query(mmr, mmr_threshold=0.5).ids
first = store.query(VectorStoreQuery(query_embedding=NEAR_N1, similarity_top_k=1)).nodes[0]
out["node"] = [first.node_id, first.get_content(), first.metadata, first.ref_doc_id]
out["stored_metadata_keys"] = sorted(collection.get(ids=["n1"])["metadatas"][0])
out["get_nodes"] = [n.node_id for n in store.get_nodes(node_ids=["n4", "n2"])]
out["get_nodes_filtered"] = sorted(n.node_id for n in store.get_nodes(None, FILTERS["eq"]))

store.delete("doc-a")
out["delete_ref_doc"] = ids_left()
store.delete_nodes(node_ids=["n2"])
out["delete_nodes"] = ids_left()
store.delete_nodes(node_ids=["n4", "n5", "n6"], filters=FILTERS["gt"])
out["delete_nodes_filtered"] = ids_left()


async def use_async():
    out["async_add"] = await store.async_add(NODES)
    found = await store.aquery(VectorStoreQuery(query_embedding=NEAR_N1, similarity_top_k=2))
    out["aquery"] = found.ids
    await store.adelete("doc-c")
    out["adelete"] = ids_left()
    await store.adelete_nodes(node_ids=["n1"])
    out["adelete_nodes"] = ids_left()
    out["aget_nodes"] = [n.node_id for n in await store.aget_nodes(node_ids=["n2", "n1"])]
    await store.aclear()
    out["aclear"] = collection.count()


asyncio.run(use_async())

# An index over the same kind of store: documents in, the nearest text back out.
embed_model = MiniLM()
articles = [Document(text=text, doc_id=name) for name, text in ARTICLES.items()]
storage = StorageContext.from_defaults(vector_store=index_store)
VectorStoreIndex.from_documents(articles, storage_context=storage, embed_model=embed_model)
index = VectorStoreIndex.from_vector_store(index_store, embed_model=embed_model)
retriever = index.as_retriever(similarity_top_k=2)
out["retrieve"] = [retrieved(retriever.retrieve(q)) for q in QUESTIONS]


async def aretrieve():
    return [retrieved(await retriever.aretrieve(q)) for q in QUESTIONS]


out["aretrieve"] = asyncio.run(aretrieve())
index.delete_ref_doc("tides")
out["retrieve_after_delete"] = retrieved(retriever.retrieve(QUESTIONS[1]))
print(json.dumps(out))
"""

# How each run opens its client, `store` (collection "nodes") and `index_store` ("articles"):
# each client kind through the ChromaVectorStore constructor its users would call.
CLIENTS = {
    "ephemeral": """
client = chromadb.EphemeralClient()
store = ChromaVectorStore.from_collection(
    client.create_collection("nodes", embedding_function=None)
)
index_store = ChromaVectorStore(chroma_collection=client.create_collection("articles"))
""",
    "persistent": """
client = chromadb.PersistentClient(path={path!r})
store = ChromaVectorStore.from_params(
    collection_name="nodes", persist_dir={path!r}, collection_kwargs={{"embedding_function": None}}
)
index_store = ChromaVectorStore.from_params(collection_name="articles", persist_dir={path!r})
""",
    "http": """
client = chromadb.HttpClient(host="127.0.0.1", port={port})
store = ChromaVectorStore(
    host="127.0.0.1", port={port}, collection_name="nodes", collection_kwargs={{"embedding_function": None}}
)
index_store = ChromaVectorStore(host="127.0.0.1", port={port}, collection_name="articles")
""",
    "chromadb": """
client = chromadb.PersistentClient(path={path!r})
store = ChromaVectorStore.from_collection(
    client.create_collection("nodes", embedding_function=None)
)
index_store = ChromaVectorStore(
    chroma_collection=client.create_collection("articles", embedding_function=None)
)
""",
}
ACHROMA_CLIENTS = ["ephemeral", "persistent", "http"]

Outcomes = dict[str, Any]


@pytest.fixture(scope="module")
def persist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("llama-persistent") / "chroma"


@pytest.fixture(scope="module")
def scenario(
    tmp_path_factory: pytest.TempPathFactory, persist_dir: Path, achroma_server: Server
) -> Callable[[str], Outcomes]:
    """`scenario(kind)`: the scenario's outcomes on that client (run once per module)."""
    runs: dict[str, Outcomes] = {}

    def get(kind: str) -> Outcomes:
        if kind not in runs:
            path = persist_dir
            if kind == "chromadb":
                pytest.importorskip("chromadb")
                path = tmp_path_factory.mktemp("llama-chromadb") / "chroma"
            client = CLIENTS[kind].format(path=str(path), port=achroma_server.port)
            setup, mode = (OFFLINE, "used") if kind == "chromadb" else (OFFLINE + ALIAS, "hidden")
            stdout = run_script(setup + COMMON + client + SCENARIO, real_chromadb=mode)
            runs[kind] = json.loads(stdout)
        return runs[kind]

    return get


@pytest.fixture(params=ACHROMA_CLIENTS)
def outcomes(request: pytest.FixtureRequest, scenario: Callable[[str], Outcomes]) -> Outcomes:
    """The scenario's outcomes on one achroma client."""
    return scenario(request.param)


@pytest.fixture
def reference(scenario: Callable[[str], Outcomes]) -> Outcomes:
    """The scenario's outcomes on chromadb 1.5.9."""
    return scenario("chromadb")


def _same(ours: Any, theirs: Any) -> bool:
    """Equal, with floats equal within float32 rounding."""
    if isinstance(theirs, float):
        return isinstance(ours, float) and ours == pytest.approx(theirs, rel=1e-4, abs=1e-6)
    if isinstance(theirs, list):
        return isinstance(ours, list) and len(ours) == len(theirs) and all(map(_same, ours, theirs))
    return type(ours) is type(theirs) and ours == theirs


def _check(outcomes: Outcomes, reference: Outcomes, key: str, expected: Any = None) -> None:
    assert _same(outcomes[key], reference[key]), (outcomes[key], reference[key])
    if expected is not None:
        assert outcomes[key] == expected


def test_from_collection_takes_the_alias_collection_and_refuses_anything_else(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "from_collection")
    assert outcomes["from_collection"] == [
        True,
        True,
        "argument is not chromadb collection instance",
    ]


def test_add_returns_the_node_ids(outcomes: Outcomes, reference: Outcomes) -> None:
    _check(outcomes, reference, "added", ["n1", "n2", "n3", "n4", "n5", "n6"])


def test_query_returns_the_top_k_nearest_with_decreasing_similarity(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "top_k")
    ids, similarities = outcomes["top_k"]
    assert ids == ["n1", "n3", "n6", "n4"]
    assert similarities == sorted(similarities, reverse=True)


def test_a_top_k_over_the_count_returns_every_node(outcomes: Outcomes, reference: Outcomes) -> None:
    _check(outcomes, reference, "top_k_over_count")
    assert len(outcomes["top_k_over_count"][0]) == 6


def test_a_query_without_embedding_gets_the_first_nodes(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "no_embedding", ["n1", "n2", "n3"])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("eq", ["n1", "n3", "n6"]),
        ("gt", ["n3", "n6", "n4"]),
        ("in", ["n1", "n3", "n4", "n5"]),
        ("ne_and_lte", ["n2", "n5"]),
        ("nin_or_gte", ["n3", "n4", "n5"]),
        ("cat_and_new_or_x", ["n1", "n3"]),
    ],
)
def test_metadata_filters_select_the_nodes_chromadb_selects(
    outcomes: Outcomes, reference: Outcomes, name: str, expected: list[str]
) -> None:
    _check(outcomes, reference, "filter_" + name)
    assert outcomes["filter_" + name][0] == expected


def test_mmr_query_diversifies_as_on_chromadb(outcomes: Outcomes, reference: Outcomes) -> None:
    _check(outcomes, reference, "mmr")
    assert len(outcomes["mmr"]) == 3


def test_queried_nodes_keep_text_metadata_and_source(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "node")
    assert outcomes["node"] == [
        "n1",
        "text of n1",
        {"kind": "cat", "year": 1999, "tag": "x"},
        "doc-a",
    ]
    _check(outcomes, reference, "stored_metadata_keys")


def test_get_nodes_by_id_and_by_filter(outcomes: Outcomes, reference: Outcomes) -> None:
    _check(outcomes, reference, "get_nodes")
    _check(outcomes, reference, "get_nodes_filtered", ["n1", "n3", "n6"])


def test_delete_removes_the_nodes_of_a_ref_doc_id(outcomes: Outcomes, reference: Outcomes) -> None:
    _check(outcomes, reference, "delete_ref_doc", ["n2", "n4", "n5", "n6"])


def test_delete_nodes_by_id_and_by_id_and_filter(outcomes: Outcomes, reference: Outcomes) -> None:
    _check(outcomes, reference, "delete_nodes", ["n4", "n5", "n6"])
    _check(outcomes, reference, "delete_nodes_filtered", ["n5"])


@pytest.mark.parametrize(
    "key", ["async_add", "aquery", "adelete", "adelete_nodes", "aget_nodes", "aclear"]
)
def test_async_variants_match_chromadb(outcomes: Outcomes, reference: Outcomes, key: str) -> None:
    _check(outcomes, reference, key)


def test_async_variants_add_query_and_delete(outcomes: Outcomes) -> None:
    # n5 was left by the sync deletes: adding it again keeps it, as chromadb's add does.
    assert outcomes["async_add"] == ["n1", "n2", "n3", "n4", "n5", "n6"]
    assert outcomes["aquery"] == ["n1", "n3"]
    assert outcomes["adelete"] == ["n1", "n2", "n3", "n6"]  # doc-c's n4 and n5
    assert outcomes["adelete_nodes"] == ["n2", "n3", "n6"]
    assert outcomes["aget_nodes"] == ["n2"]
    assert outcomes["aclear"] == 0


def test_index_from_vector_store_retrieves_the_relevant_documents(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "retrieve")
    _check(outcomes, reference, "aretrieve")
    bees, sea = outcomes["retrieve"]
    assert bees[0][0] == "bees" and sea[0][0] == "tides"
    assert outcomes["aretrieve"] == outcomes["retrieve"]


def test_index_delete_ref_doc_removes_it_from_retrieval(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "retrieve_after_delete")
    assert "tides" not in [ref for ref, _ in outcomes["retrieve_after_delete"]]


def test_a_persistent_store_reopened_by_a_new_process_keeps_its_nodes(
    scenario: Callable[[str], Outcomes], persist_dir: Path
) -> None:
    written = scenario("persistent")
    reopened = run_script(
        OFFLINE
        + ALIAS
        + COMMON
        + f"""
store = ChromaVectorStore.from_params(collection_name="articles", persist_dir={str(persist_dir)!r})
index = VectorStoreIndex.from_vector_store(store, embed_model=MiniLM())
retriever = index.as_retriever(similarity_top_k=2)
print(json.dumps([retrieved(retriever.retrieve(QUESTIONS[0])), store.client.count()]))
""",
        real_chromadb="hidden",
    )
    # The four articles less the one the scenario deleted.
    assert json.loads(reopened) == [written["retrieve"][0], 3]
