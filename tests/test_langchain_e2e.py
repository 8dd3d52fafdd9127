"""LangChain's `Chroma` vector store (langchain-chroma 1.1) on achroma through
`achroma.install_as_chromadb()`, with the real chromadb hidden.

One scenario script (texts and documents added with ids and metadatas, the similarity, MMR
and by-vector searches, metadata and document filters, get, update, delete, the class
constructors, retrievers and the async variants) runs once per client, each in a fresh
interpreter: an EphemeralClient, a PersistentClient (reopened afterwards by a new process)
and an HttpClient against `achroma run`. The same script runs once more on chromadb 1.5.9
itself, a PersistentClient in a temporary folder: each test compares one outcome of achroma's
runs with that reference.

langchain-chroma's vector store is synchronous: LangChain's `VectorStore` base class gives
every async variant (`aadd_texts`, `asimilarity_search`, `amax_marginal_relevance_search`,
`adelete`, `aget_by_ids`, `afrom_texts`, a retriever's `ainvoke`, ...) by running the sync
method in the event loop's default executor, so they reach achroma's sync client from a
worker thread; the scenario checks that this works, not that anything is awaited natively.

Every script runs offline: connections to anything but the loopback interface fail. The
embeddings are LangChain `Embeddings` computed locally: fixed 3-dimensional vectors looked
up by text (so that orders and scores are known) and, for the retriever over articles,
all-MiniLM-L6-v2 computed by achroma. No language model is called.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fresh_python import run_script
from http_servers import Server

pytest.importorskip("langchain_chroma")

# First in every script: no connection leaves the machine.
OFFLINE = """
import socket

_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex

def _loopback_only(address):
    if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
        raise OSError(f"this test runs offline: no connection to {address!r}")

def connect(self, address):
    _loopback_only(address)
    return _connect(self, address)

def connect_ex(self, address):
    _loopback_only(address)
    return _connect_ex(self, address)

socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
"""

ALIAS = """
import achroma
achroma.install_as_chromadb()
"""

# Imports, data and helpers of every script; `chromadb` is whichever the script installed.
COMMON = """
import asyncio
import json

import chromadb
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from achroma.embeddings.default import DefaultEmbeddingFunction


class MiniLM(Embeddings):
    # all-MiniLM-L6-v2, computed locally by achroma.
    def embed_documents(self, texts):
        return [vector.tolist() for vector in DefaultEmbeddingFunction()(texts)]

    def embed_query(self, text):
        return self.embed_documents([text])[0]


# Each note's text names its vector; a query is a text of the same form.
VECTORS = {
    "one": [1.0, 0.0, 0.0],
    "two": [0.0, 1.0, 0.0],
    "three": [0.9, 0.0, 0.2],
    "four": [0.5, 0.5, 0.0],
    "five": [0.0, 0.3, 1.0],
    "six": [0.7, 0.1, 0.1],
    "near one": [1.0, 0.05, 0.0],
    "new three": [0.0, 0.9, 0.1],
    "seven": [0.1, 0.1, 0.1],
    "eight": [0.2, 0.1, 0.0],
}


class Fixed(Embeddings):
    # The vector VECTORS holds for the text before the colon.
    def embed_documents(self, texts):
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text):
        return VECTORS[text.partition(":")[0]]


ARTICLES = {
    "bees": "Honey bees survive winter by clustering together and shivering to stay warm.",
    "tides": "Tides rise and fall twice a day because the moon's gravity pulls on the oceans.",
    "bikes": "Oil a bicycle chain every few hundred kilometres, and wipe off the excess oil.",
    "bread": "Bread dough rises because yeast turns sugar into carbon dioxide bubbles.",
}
QUESTIONS = ["How do bees keep warm in the cold?", "Why does the sea level change?"]


def ids(docs):
    return [doc.id for doc in docs]


def scored(pairs):
    return [[doc.id, score] for doc, score in pairs]
"""

SCENARIO = """
NOTES = {
    "n1": ("one: a note about cats", {"kind": "cat", "year": 1999, "tag": "x"}),
    "n2": ("two: a note about dogs", {"kind": "dog", "year": 2005, "tag": "y"}),
    "n3": ("three: another cat note", {"kind": "cat", "year": 2015, "tag": "z"}),
    "n4": ("four: birds and cats", {"kind": "bird", "year": 2021, "tag": "x"}),
}
MORE = [
    Document("five: dogs again", metadata={"kind": "dog", "year": 1990, "tag": "z"}, id="n5"),
    Document("six: the last cat", metadata={"kind": "cat", "year": 2010, "tag": "y"}, id="n6"),
]
FILTERS = {
    "eq": {"kind": "cat"},
    "gt": {"year": {"$gt": 2005}},
    "in": {"tag": {"$in": ["x", "z"]}},
    "and": {"$and": [{"kind": {"$ne": "cat"}}, {"year": {"$lte": 2005}}]},
    "or": {"$or": [{"tag": {"$nin": ["x", "y"]}}, {"year": {"$gte": 2021}}]},
}
WHERE_DOCUMENT = {
    "contains": {"$contains": "cat"},
    "not_contains": {"$not_contains": "cat"},
    "and": {"$and": [{"$contains": "note"}, {"$not_contains": "dogs"}]},
    "regex": {"$regex": "^(one|two):"},
}
out = {}

# Chroma batches through chromadb's create_batches when the client has get_max_batch_size.
import chromadb.utils.batch_utils as batch_utils

_create_batches = batch_utils.create_batches
batches = []


def create_batches(api, ids, *args, **kwargs):
    made = _create_batches(api, ids, *args, **kwargs)
    batches.append([api.get_max_batch_size(), len(made)])
    return made


batch_utils.create_batches = create_batches

texts = [text for text, _ in NOTES.values()]
metadatas = [metadata for _, metadata in NOTES.values()]
out["add_texts"] = store.add_texts(texts, metadatas=metadatas, ids=list(NOTES))
out["add_documents"] = store.add_documents(MORE)
# A text without metadata goes through a second upsert of its own.
out["add_texts_partial_metadata"] = store.add_texts(
    ["seven: no metadata", "eight: some"], metadatas=[{}, {"kind": "fish"}], ids=["n7", "n8"]
)
store.delete(ids=["n7", "n8"])
out["count"] = collection.count()

out["similarity_search"] = ids(store.similarity_search("near one", k=4))
out["with_score"] = scored(store.similarity_search_with_score("near one", k=6))
out["by_vector"] = ids(store.similarity_search_by_vector([0.0, 1.0, 0.2], k=2))
out["by_vector_with_scores"] = scored(
    store.similarity_search_by_vector_with_relevance_scores([0.0, 1.0, 0.2], k=3)
)
out["with_vectors"] = [
    [doc.id, [float(x) for x in vector]]
    for doc, vector in store.similarity_search_with_vectors("near one", k=2)
]
first = store.similarity_search("near one", k=1)[0]
out["document"] = [first.id, first.page_content, first.metadata]
out["over_count"] = ids(store.similarity_search("near one", k=10))
for name, where in FILTERS.items():
    out["filter_" + name] = ids(store.similarity_search("near one", k=6, filter=where))
for name, where in WHERE_DOCUMENT.items():
    out["where_document_" + name] = scored(
        store.similarity_search_with_score("near one", k=6, where_document=where)
    )
out["filter_and_where_document"] = ids(
    store.similarity_search_by_vector(
        [1.0, 0.0, 0.0], k=6, filter={"year": {"$lt": 2020}}, where_document={"$contains": "cat"}
    )
)
out["mmr"] = ids(store.max_marginal_relevance_search("near one", k=3, fetch_k=6, lambda_mult=0.3))
out["mmr_filtered"] = ids(
    store.max_marginal_relevance_search("near one", k=2, fetch_k=6, filter={"kind": "cat"})
)
out["mmr_by_vector"] = ids(
    store.max_marginal_relevance_search_by_vector([0.0, 1.0, 0.0], k=2, fetch_k=4, lambda_mult=0.9)
)
# The collection's default space, l2, picks LangChain's euclidean relevance function.
out["notes_space"] = collection.configuration["hnsw"]["space"]
out["relevance_l2"] = scored(store.similarity_search_with_relevance_scores("near one", k=3))

got = store.get()
out["get"] = [got["ids"], got["documents"], got["metadatas"], got["embeddings"]]
got = store.get(ids=["n4", "n2"], include=["embeddings"])
out["get_ids_embeddings"] = [
    got["ids"], got["documents"], [[float(x) for x in e] for e in got["embeddings"]]
]
got = store.get(where={"kind": "cat"}, limit=2, offset=1)
out["get_where_page"] = got["ids"]
out["get_where_document"] = store.get(where_document={"$contains": "dogs"})["ids"]
out["get_by_ids"] = sorted(ids(store.get_by_ids(["n6", "n1", "missing"])))

store.update_document("n3", Document(page_content="new three: no cat", metadata={"kind": "fish"}))
got = store.get(ids=["n3"], include=["documents", "metadatas", "embeddings"])
out["update_document"] = [got["documents"], got["metadatas"], got["embeddings"][0].tolist()]
out["updated_nearest"] = ids(store.similarity_search("two", k=2))
store.update_documents(
    ["n1", "n2"],
    [Document(page_content="one: cats, updated", metadata={"kind": "cat", "v": 2}),
     Document(page_content="two: dogs, updated", metadata={"kind": "dog", "v": 2})],
)
out["update_documents"] = store.get(where={"v": 2})["documents"]

store.delete(ids=["n5"])
out["delete_ids"] = sorted(store.get()["ids"])
store.delete(where={"kind": "dog"})
out["delete_where"] = sorted(store.get()["ids"])

retriever = store.as_retriever(search_kwargs={"k": 2, "filter": {"kind": "cat"}})
out["retriever"] = ids(retriever.invoke("near one"))
mmr_retriever = store.as_retriever(search_type="mmr", search_kwargs={"k": 2, "fetch_k": 4})
out["mmr_retriever"] = ids(mmr_retriever.invoke("near one"))

from_texts = Chroma.from_texts(
    texts, Fixed(), metadatas=metadatas, ids=list(NOTES), collection_name="from_texts", **place
)
out["from_texts"] = [sorted(from_texts.get()["ids"]), ids(from_texts.similarity_search("two", k=1))]
from_documents = Chroma.from_documents(MORE, Fixed(), collection_name="from_documents", **place)
out["from_documents"] = from_documents.get()["ids"]
from_documents.reset_collection()
out["reset_collection"] = from_documents._collection.count()
from_documents.delete_collection()
out["delete_collection"] = sorted(c.name for c in client.list_collections())


# None of these is Chroma's own: LangChain's base class runs the sync method in an executor.
ASYNC = [
    "aadd_texts", "aadd_documents", "asimilarity_search", "asimilarity_search_with_score",
    "asimilarity_search_by_vector", "amax_marginal_relevance_search", "aget_by_ids", "adelete",
    "afrom_texts", "afrom_documents",
]
out["async_overridden"] = [name for name in ASYNC if name in vars(Chroma)]
out["async_inherited"] = [name for name in ASYNC if name in vars(VectorStore)]


async def use_async():
    out["aadd_texts"] = await store.aadd_texts(texts, metadatas=metadatas, ids=list(NOTES))
    out["aadd_documents"] = await store.aadd_documents(MORE)
    out["asimilarity_search"] = ids(
        await store.asimilarity_search("near one", k=3, filter={"tag": "x"})
    )
    out["asimilarity_search_with_score"] = scored(
        await store.asimilarity_search_with_score("near one", k=3)
    )
    out["asimilarity_search_by_vector"] = ids(
        await store.asimilarity_search_by_vector([0.0, 0.3, 1.0], k=2)
    )
    out["amax_marginal_relevance_search"] = ids(
        await store.amax_marginal_relevance_search("near one", k=3, fetch_k=6, lambda_mult=0.3)
    )
    out["aget_by_ids"] = sorted(ids(await store.aget_by_ids(["n2", "n5"])))
    out["aretriever"] = ids(await retriever.ainvoke("near one"))
    await store.adelete(["n1", "n2"])
    out["adelete"] = sorted(store.get()["ids"])
    afrom = await Chroma.afrom_texts(
        texts[:2], Fixed(), ids=["a1", "a2"], collection_name="afrom", **place
    )
    out["afrom_texts"] = ids(await afrom.asimilarity_search("two", k=2))
    afrom = await Chroma.afrom_documents(MORE, Fixed(), collection_name="afrom", **place)
    out["afrom_documents"] = sorted(afrom.get()["ids"])


asyncio.run(use_async())

# Articles: a retriever over all-MiniLM-L6-v2 and cosine distance.
articles = Chroma.from_documents(
    [Document(text, metadata={"name": name}, id=name) for name, text in ARTICLES.items()],
    MiniLM(),
    collection_name="articles",
    collection_configuration={"hnsw": {"space": "cosine"}},
    **place,
)
out["articles_space"] = articles._collection.configuration["hnsw"]["space"]
out["relevance_scores"] = [
    scored(articles.similarity_search_with_relevance_scores(q, k=2)) for q in QUESTIONS
]
threshold = articles.as_retriever(
    search_type="similarity_score_threshold", search_kwargs={"score_threshold": 0.3, "k": 4}
)
out["threshold_retriever"] = [ids(threshold.invoke(q)) for q in QUESTIONS]
article_retriever = articles.as_retriever(search_kwargs={"k": 2})
out["retrieve"] = [
    [[doc.id, doc.page_content] for doc in article_retriever.invoke(q)] for q in QUESTIONS
]


async def aretrieve():
    found = [await article_retriever.ainvoke(q) for q in QUESTIONS]
    return [[[doc.id, doc.page_content] for doc in docs] for docs in found]


out["aretrieve"] = asyncio.run(aretrieve())
articles.delete(ids=["tides"])
out["retrieve_after_delete"] = ids(article_retriever.invoke(QUESTIONS[1]))
out["batches"] = batches
"""

# Only on achroma: chromadb's local clients raise NotImplementedError for search and fork.
# Dense ranks only: the sparse half of a hybrid search needs a collection schema with a sparse
# index, which Chroma's constructor never passes (the collection would be made beforehand).
ACHROMA_ONLY = """
from chromadb import K, Knn, Rrf, Search

hybrid = Chroma("hybrid", Fixed(), **place)
hybrid.add_texts(texts, metadatas=metadatas, ids=list(NOTES))
hybrid.add_documents(MORE)
cats_near_one = Search().where(K("kind") == "cat").rank(Knn(query=VECTORS["near one"])).limit(2)
found = hybrid.hybrid_search(cats_near_one.select(K.DOCUMENT, K.METADATA))
out["hybrid_knn"] = [[doc.id, doc.page_content, doc.metadata] for doc in found]
rows = hybrid._collection.search(cats_near_one.select(K.SCORE)).rows()[0]
out["hybrid_knn_scores"] = [[row["id"], row["score"]] for row in rows]
fused = Rrf(
    ranks=[
        Knn(query=VECTORS["near one"], return_rank=True, limit=10),
        Knn(query=[0.0, 1.0, 0.0], return_rank=True, limit=10),
    ],
    weights=[2.0, 1.0],
    k=60,
)
rows = hybrid._collection.search(Search().rank(fused).limit(6).select(K.SCORE)).rows()[0]
out["hybrid_rrf"] = [[row["id"], row["score"]] for row in rows]
found = hybrid.hybrid_search(Search().rank(fused).limit(3).select(K.DOCUMENT, "year"))
out["hybrid_rrf_documents"] = [[doc.id, doc.metadata] for doc in found]
forked = hybrid.fork("hybrid_fork")
out["fork"] = [forked._collection.name, sorted(forked.get()["ids"])]
"""

FINISH = """
print(json.dumps(out))
"""

# How each run opens `client`, `store` (collection "notes", through the Chroma constructor its
# users would call) and `place`, the arguments that put another store on the same client.
CLIENTS = {
    "ephemeral": """
client = chromadb.EphemeralClient()
place = {{"client": client}}
store = Chroma("notes", Fixed(), client=client)
""",
    "persistent": """
place = {{"persist_directory": {path!r}}}
store = Chroma("notes", Fixed(), persist_directory={path!r})
client = store._client
""",
    "http": """
place = {{"host": "127.0.0.1", "port": {port}}}
store = Chroma("notes", Fixed(), host="127.0.0.1", port={port})
client = chromadb.HttpClient(host="127.0.0.1", port={port})
""",
    "chromadb": """
place = {{"persist_directory": {path!r}}}
store = Chroma("notes", Fixed(), persist_directory={path!r})
client = store._client
""",
}
ACHROMA_CLIENTS = ["ephemeral", "persistent", "http"]

# After CLIENTS: the store's collection.
COLLECTION = """
collection = store._collection
"""

Outcomes = dict[str, Any]


@pytest.fixture(scope="module")
def persist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("langchain-persistent") / "chroma"


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
                path = tmp_path_factory.mktemp("langchain-chromadb") / "chroma"
            client = CLIENTS[kind].format(path=str(path), port=achroma_server.port)
            setup, mode = (OFFLINE, "used") if kind == "chromadb" else (OFFLINE + ALIAS, "hidden")
            script = setup + COMMON + client + COLLECTION + SCENARIO
            script += FINISH if kind == "chromadb" else ACHROMA_ONLY + FINISH
            runs[kind] = json.loads(run_script(script, real_chromadb=mode))
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


def test_add_texts_and_add_documents_return_the_ids(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "add_texts", ["n1", "n2", "n3", "n4"])
    _check(outcomes, reference, "add_documents", ["n5", "n6"])
    _check(outcomes, reference, "add_texts_partial_metadata", ["n7", "n8"])
    _check(outcomes, reference, "count", 6)


def test_similarity_search_returns_the_k_nearest(outcomes: Outcomes, reference: Outcomes) -> None:
    _check(outcomes, reference, "similarity_search", ["n1", "n3", "n6", "n4"])
    _check(outcomes, reference, "over_count", ["n1", "n3", "n6", "n4", "n2", "n5"])


def test_similarity_search_with_score_gives_chromadbs_distances(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "with_score")
    scores = [score for _, score in outcomes["with_score"]]
    assert scores == sorted(scores)
    assert scores[0] == pytest.approx(0.05**2, rel=1e-4)  # squared l2 from (1, .05, 0) to n1


def test_searches_by_vector_with_and_without_scores(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "by_vector", ["n2", "n4"])
    _check(outcomes, reference, "by_vector_with_scores")
    _check(outcomes, reference, "with_vectors")
    assert [doc_id for doc_id, _ in outcomes["by_vector_with_scores"]] == ["n2", "n4", "n5"]


def test_found_documents_keep_id_text_and_metadata(outcomes: Outcomes, reference: Outcomes) -> None:
    _check(outcomes, reference, "document")
    assert outcomes["document"] == [
        "n1",
        "one: a note about cats",
        {"kind": "cat", "year": 1999, "tag": "x"},
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("eq", ["n1", "n3", "n6"]),
        ("gt", ["n3", "n6", "n4"]),
        ("in", ["n1", "n3", "n4", "n5"]),
        ("and", ["n2", "n5"]),
        ("or", ["n3", "n4", "n5"]),
    ],
)
def test_a_metadata_filter_selects_what_chromadb_selects(
    outcomes: Outcomes, reference: Outcomes, name: str, expected: list[str]
) -> None:
    _check(outcomes, reference, "filter_" + name, expected)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("contains", ["n1", "n3", "n6", "n4"]),
        ("not_contains", ["n2", "n5"]),
        ("and", ["n1", "n3"]),
        ("regex", ["n1", "n2"]),
    ],
)
def test_a_where_document_filter_selects_what_chromadb_selects(
    outcomes: Outcomes, reference: Outcomes, name: str, expected: list[str]
) -> None:
    _check(outcomes, reference, "where_document_" + name)
    assert [doc_id for doc_id, _ in outcomes["where_document_" + name]] == expected


def test_filter_and_where_document_together(outcomes: Outcomes, reference: Outcomes) -> None:
    _check(outcomes, reference, "filter_and_where_document", ["n1", "n3", "n6"])


def test_max_marginal_relevance_search_diversifies_as_on_chromadb(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "mmr", ["n1", "n2", "n5"])
    _check(outcomes, reference, "mmr_filtered", ["n1", "n6"])
    _check(outcomes, reference, "mmr_by_vector", ["n2", "n4"])


def test_relevance_scores_follow_the_collections_l2_space(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "notes_space", "l2")
    _check(outcomes, reference, "relevance_l2")


@pytest.mark.parametrize(
    "key", ["get", "get_ids_embeddings", "get_where_page", "get_where_document", "get_by_ids"]
)
def test_get_returns_what_chromadb_returns(
    outcomes: Outcomes, reference: Outcomes, key: str
) -> None:
    _check(outcomes, reference, key)


def test_get_pages_and_filters(outcomes: Outcomes) -> None:
    assert outcomes["get"][0] == ["n1", "n2", "n3", "n4", "n5", "n6"]
    assert outcomes["get"][3] is None  # embeddings are not in get's default include
    assert outcomes["get_where_page"] == ["n3", "n6"]
    assert outcomes["get_where_document"] == ["n2", "n5"]
    assert outcomes["get_by_ids"] == ["n1", "n6"]  # an unknown id is left out


def test_update_document_replaces_text_metadata_and_embedding(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "update_document")
    _check(outcomes, reference, "updated_nearest", ["n2", "n3"])
    # chromadb's update merges the new metadata into the old.
    [document], [metadata], embedding = outcomes["update_document"]
    assert document == "new three: no cat"
    assert metadata == {"kind": "fish", "year": 2015, "tag": "z"}
    assert embedding == pytest.approx([0.0, 0.9, 0.1])
    _check(outcomes, reference, "update_documents")


def test_delete_by_ids_and_by_where(outcomes: Outcomes, reference: Outcomes) -> None:
    _check(outcomes, reference, "delete_ids", ["n1", "n2", "n3", "n4", "n6"])
    _check(outcomes, reference, "delete_where", ["n1", "n3", "n4", "n6"])


def test_retrievers_search_with_their_kwargs(outcomes: Outcomes, reference: Outcomes) -> None:
    _check(outcomes, reference, "retriever", ["n1", "n6"])
    _check(outcomes, reference, "mmr_retriever")


def test_from_texts_and_from_documents_batch_into_a_new_collection(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "from_texts", [["n1", "n2", "n3", "n4"], ["n2"]])
    _check(outcomes, reference, "from_documents", ["n5", "n6"])


def test_updates_and_class_constructors_go_through_create_batches(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    # update_document, update_documents, from_texts, from_documents, afrom_texts,
    # afrom_documents, the articles' from_documents: one call each, one batch each.
    assert len(outcomes["batches"]) == 7
    assert all(batch_count == 1 for _, batch_count in outcomes["batches"])
    assert [n for n, _ in outcomes["batches"]] == [n for n, _ in reference["batches"]]


def test_reset_and_delete_collection(outcomes: Outcomes, reference: Outcomes) -> None:
    _check(outcomes, reference, "reset_collection", 0)
    _check(outcomes, reference, "delete_collection", ["from_texts", "notes"])


def test_the_async_variants_are_langchains_executor_wrappers(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "async_overridden", [])
    _check(outcomes, reference, "async_inherited")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("aadd_texts", ["n1", "n2", "n3", "n4"]),
        ("aadd_documents", ["n5", "n6"]),
        ("asimilarity_search", ["n1", "n4"]),
        ("asimilarity_search_with_score", None),
        ("asimilarity_search_by_vector", ["n5", "n4"]),
        ("amax_marginal_relevance_search", ["n1", "n2", "n5"]),
        ("aget_by_ids", ["n2", "n5"]),
        ("aretriever", ["n1", "n3"]),
        ("adelete", ["n3", "n4", "n5", "n6"]),
        ("afrom_texts", ["a2", "a1"]),
        ("afrom_documents", ["a1", "a2", "n5", "n6"]),
    ],
)
def test_async_variants_match_chromadb(
    outcomes: Outcomes, reference: Outcomes, key: str, expected: list[str] | None
) -> None:
    _check(outcomes, reference, key, expected)


def test_a_retriever_over_minilm_finds_the_relevant_articles(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "articles_space", "cosine")
    _check(outcomes, reference, "retrieve")
    _check(outcomes, reference, "aretrieve")
    bees, sea = outcomes["retrieve"]
    assert bees[0][0] == "bees" and sea[0][0] == "tides"
    assert outcomes["aretrieve"] == outcomes["retrieve"]


def test_cosine_relevance_scores_and_a_score_threshold(
    outcomes: Outcomes, reference: Outcomes
) -> None:
    _check(outcomes, reference, "relevance_scores")
    _check(outcomes, reference, "threshold_retriever", [["bees"], ["tides"]])


def test_a_deleted_article_leaves_retrieval(outcomes: Outcomes, reference: Outcomes) -> None:
    _check(outcomes, reference, "retrieve_after_delete")
    assert "tides" not in outcomes["retrieve_after_delete"]


def test_hybrid_search_runs_a_dense_knn_search(outcomes: Outcomes) -> None:
    assert outcomes["hybrid_knn"] == [
        ["n1", "one: a note about cats", {"kind": "cat", "year": 1999, "tag": "x"}],
        ["n3", "three: another cat note", {"kind": "cat", "year": 2015, "tag": "z"}],
    ]
    # The Knn's scores are the distances similarity_search_with_score gives.
    distances = dict(outcomes["with_score"])
    assert outcomes["hybrid_knn_scores"] == [
        ["n1", pytest.approx(distances["n1"], rel=1e-5)],
        ["n3", pytest.approx(distances["n3"], rel=1e-5)],
    ]


def test_hybrid_search_fuses_ranks_with_rrf(outcomes: Outcomes) -> None:
    # Positions (from 0) of each note by distance to (1, .05, 0) and to (0, 1, 0).
    near_one = {"n1": 0, "n3": 1, "n6": 2, "n4": 3, "n2": 4, "n5": 5}
    near_two = {"n2": 0, "n4": 1, "n6": 2, "n5": 3, "n3": 4, "n1": 5}
    fused = {n: -(2.0 / (60 + near_one[n]) + 1.0 / (60 + near_two[n])) for n in near_one}
    expected = sorted(fused, key=fused.__getitem__)
    assert [doc_id for doc_id, _ in outcomes["hybrid_rrf"]] == expected
    for doc_id, score in outcomes["hybrid_rrf"]:
        assert score == pytest.approx(fused[doc_id], rel=1e-6)
    # Selected metadata keys become the documents' metadata.
    assert outcomes["hybrid_rrf_documents"] == [
        ["n1", {"year": 1999}],
        ["n3", {"year": 2015}],
        ["n6", {"year": 2010}],
    ]


def test_fork_copies_the_collection(outcomes: Outcomes) -> None:
    assert outcomes["fork"] == ["hybrid_fork", ["n1", "n2", "n3", "n4", "n5", "n6"]]


def test_a_persistent_store_reopened_by_a_new_process_keeps_its_documents(
    scenario: Callable[[str], Outcomes], persist_dir: Path
) -> None:
    written = scenario("persistent")
    reopened = run_script(
        OFFLINE
        + ALIAS
        + COMMON
        + f"""
articles = Chroma("articles", MiniLM(), persist_directory={str(persist_dir)!r})
found = articles.as_retriever(search_kwargs={{"k": 2}}).invoke(QUESTIONS[0])
notes = Chroma("notes", Fixed(), persist_directory={str(persist_dir)!r})
print(json.dumps([
    [[doc.id, doc.page_content] for doc in found],
    articles._collection.count(),
    ids(notes.similarity_search("near one", k=2)),
]))
""",
        real_chromadb="hidden",
    )
    # The four articles less the one the scenario deleted; notes n1 and n2 went by adelete.
    assert json.loads(reopened) == [written["retrieve"][0], 3, ["n3", "n6"]]
