"""LangChain's `Chroma` vector store (langchain-chroma 1.1) on achroma through
`achroma.install_as_chromadb()`, with the real chromadb hidden.

One scenario script (tests/langchain_scenario.py: texts and documents added with ids and
metadatas, the similarity, MMR and by-vector searches, metadata and document filters, get,
update, delete, the class constructors, retrievers and the async variants) runs once per
client, each in a fresh interpreter: an EphemeralClient, a PersistentClient (reopened
afterwards by a new process) and an HttpClient against `achroma run`. The same script runs
once more on chromadb 1.5.9 itself, a PersistentClient in a temporary folder: each test
compares one outcome of achroma's runs with that reference. Search and fork, which
chromadb's local clients do not run, are checked against hand-computed values.

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

from fresh_python import ALIAS, OFFLINE, run_script
from http_servers import Server
from langchain_scenario import (
    ACHROMA_CLIENTS,
    ACHROMA_ONLY,
    CLIENTS,
    COLLECTION,
    COMMON,
    FINISH,
    SCENARIO,
)

pytest.importorskip("langchain_chroma")

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


def test_hybrid_search_fuses_dense_and_bm25(outcomes: Outcomes) -> None:
    # The bread article is first both by meaning and by the words "yeast", "dough", "rise".
    assert outcomes["hybrid_bm25"][0] == "bread"
    # BM25 alone finds only the records sharing a word with the query.
    assert outcomes["bm25_only"] == ["tides"]


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
