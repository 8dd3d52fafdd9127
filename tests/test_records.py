"""Records: add, get, query, update, upsert, delete, count, peek and fork, on every client kind."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import achroma
from achroma.errors import DuplicateIDError, InternalError, InvalidArgumentError, NotFoundError

pytestmark = pytest.mark.anyio


async def _abc(client: Any, **kw: Any) -> Any:
    col = await client.create_collection("records", embedding_function=None, **kw)
    await col.add(
        ids=["c", "a", "b"],
        embeddings=[[0.1, 0.2], [1.0, 2.0], [3.0, 4.0]],
        metadatas=[{"m": "c"}, {"m": "a", "n": 1}, None],
        documents=["dc", "da", "db"],
    )
    await col.add(ids=["z", "y"], embeddings=[[5, 6], [7, 8]])
    return col


async def test_get_returns_insertion_order_and_chroma_shape(client: Any) -> None:
    col = await _abc(client)
    got = await col.get()
    assert list(got) == ["ids", "embeddings", "documents", "uris", "included", "data", "metadatas"]
    assert got["ids"] == ["c", "a", "b", "z", "y"]
    assert got["documents"] == ["dc", "da", "db", None, None]
    assert got["metadatas"] == [{"m": "c"}, {"m": "a", "n": 1}, None, None, None]
    assert got["embeddings"] is None and got["included"] == ["metadatas", "documents"]


async def test_get_embeddings_are_float64_arrays_of_float32_values(client: Any) -> None:
    col = await _abc(client)
    got = await col.get(include=["embeddings"])
    assert got["embeddings"].dtype == np.float64 and got["embeddings"].shape == (5, 2)
    assert got["embeddings"][0][0] == float(np.float32(0.1))
    empty = await col.get(ids=["nope"], include=["embeddings"])
    assert empty["embeddings"].shape == (0,)


async def test_get_by_ids_keeps_storage_order_and_skips_missing(client: Any) -> None:
    col = await _abc(client)
    assert (await col.get(ids=["b", "nope", "a"]))["ids"] == ["a", "b"]
    assert (await col.get(ids="z"))["ids"] == ["z"]


async def test_get_with_limit_and_offset_pages_in_insertion_order(client: Any) -> None:
    col = await _abc(client)
    assert (await col.get(limit=2))["ids"] == ["c", "a"]
    assert (await col.get(limit=2, offset=2))["ids"] == ["b", "z"]
    assert (await col.get(offset=3))["ids"] == ["z", "y"]
    assert (await col.get(limit=0))["ids"] == []
    assert (await col.get(ids=["b", "z", "a"], offset=1))["ids"] == ["b", "z"]


async def test_add_of_existing_id_leaves_the_record_unchanged(client: Any) -> None:
    col = await _abc(client)
    await col.add(ids=["a", "new"], embeddings=[[9, 9], [8, 8]], documents=["x", "y"])
    got = await col.get(ids=["a", "new"], include=["documents", "embeddings"])
    assert got["ids"] == ["a", "new"] and got["documents"] == ["da", "y"]
    assert got["embeddings"].tolist() == [[1.0, 2.0], [8.0, 8.0]]
    assert await col.count() == 6


async def test_query_returns_nearest_first_with_squared_l2(client: Any) -> None:
    col = await _abc(client)
    result = await col.query(query_embeddings=[[1, 2]], n_results=2)
    assert result["ids"] == [["a", "c"]]
    assert result["distances"][0] == pytest.approx([0.0, 0.81 + 3.24], rel=1e-5)
    assert result["documents"] == [["da", "dc"]]
    assert list(result)[-1] == "distances"


@pytest.mark.parametrize(
    ("space", "expected"),
    [("l2", [0.0, 5.0, 20.0]), ("cosine", [0.0, 0.4, 1.0]), ("ip", [-2.0, 0.0, 1.0])],
)
async def test_distances_match_chroma_for_each_space(
    client: Any, space: str, expected: list[float]
) -> None:
    col = await client.create_collection(
        f"space-{space}", configuration={"hnsw": {"space": space}}, embedding_function=None
    )
    await col.add(ids=["x", "y", "z"], embeddings=[[1, 0], [0, 2], [3, 4]])
    result = await col.query(query_embeddings=[1, 0], n_results=3, include=["distances"])
    assert sorted(result["distances"][0]) == pytest.approx(expected, abs=1e-6)


async def test_legacy_space_metadata_selects_cosine(client: Any) -> None:
    col = await client.create_collection(
        "legacy", metadata={"hnsw:space": "cosine"}, embedding_function=None
    )
    await col.add(ids=["x", "z"], embeddings=[[1, 0], [3, 4]])
    result = await col.query(query_embeddings=[[1, 0]], n_results=2)
    assert result["distances"][0] == pytest.approx([0.0, 0.4], abs=1e-6)


async def test_query_several_vectors_returns_one_list_each(client: Any) -> None:
    col = await _abc(client)
    result = await col.query(
        query_embeddings=np.array([[1, 2], [7, 8]]), n_results=1, include=["embeddings"]
    )
    assert result["ids"] == [["a"], ["y"]]
    assert [e.tolist() for e in result["embeddings"]] == [[[1.0, 2.0]], [[7.0, 8.0]]]
    assert result["distances"] is None and result["documents"] is None


async def test_query_on_empty_collection_returns_empty_lists(client: Any) -> None:
    col = await client.create_collection("empty", embedding_function=None)
    result = await col.query(query_embeddings=[[1, 2, 3], [4, 5, 6]])
    assert result["ids"] == [[], []] and result["distances"] == [[], []]


async def test_query_with_where_ranks_only_matching_records(client: Any) -> None:
    col = await _abc(client)
    result = await col.query(query_embeddings=[[7, 8]], n_results=5, where={"m": "c"})
    assert result["ids"] == [["c"]]
    none = await col.query(query_embeddings=[[7, 8]], where={"m": "nobody"})
    assert none["ids"] == [[]]


async def test_query_with_ids_restricts_and_missing_id_fails(client: Any) -> None:
    col = await _abc(client)
    result = await col.query(query_embeddings=[[0, 0]], ids=["a", "y"], n_results=3)
    assert result["ids"] == [["a", "y"]]
    with pytest.raises(InternalError, match="Error finding id"):
        await col.query(query_embeddings=[[0, 0]], ids=["zz"])


async def test_query_dimension_mismatch_is_an_invalid_argument(client: Any) -> None:
    col = await _abc(client)
    with pytest.raises(InvalidArgumentError, match="dimension of 2, got 3"):
        await col.query(query_embeddings=[[1, 2, 3]])


async def test_update_merges_metadata_and_none_removes_a_key(client: Any) -> None:
    col = await _abc(client)
    await col.update(ids=["a"], metadatas=[{"m": None, "z": 3}])
    assert (await col.get(ids=["a"]))["metadatas"] == [{"n": 1, "z": 3}]
    await col.update(ids=["a"], metadatas=[{"n": None, "z": None}])
    assert (await col.get(ids=["a"]))["metadatas"] == [None]


async def test_update_of_missing_id_is_ignored_with_a_warning(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    col = await _abc(client)
    await col.update(ids=["nope", "a"], documents=None, embeddings=[[0, 1], [1, 1]])
    assert await col.count() == 5
    got = await col.get(ids=["a"], include=["embeddings", "documents"])
    assert got["embeddings"].tolist() == [[1.0, 1.0]] and got["documents"] == ["da"]
    assert any("nope" in r.getMessage() for r in caplog.records)


async def test_update_changes_the_vector_used_by_query(client: Any) -> None:
    col = await _abc(client)
    await col.update(ids=["c"], embeddings=[[100, 100]])
    result = await col.query(query_embeddings=[[100, 100]], n_results=1)
    assert result["ids"] == [["c"]] and result["distances"][0][0] == pytest.approx(0.0)


async def test_upsert_updates_existing_and_appends_new(client: Any) -> None:
    col = await _abc(client)
    await col.upsert(
        ids=["a", "w"],
        embeddings=[[1, 1], [2, 2]],
        metadatas=[{"k": 1}, {"y": None, "k": 2}],
        documents=["new-a", "dw"],
    )
    got = await col.get()
    assert got["ids"] == ["c", "a", "b", "z", "y", "w"]
    assert got["metadatas"][1] == {"m": "a", "n": 1, "k": 1}
    assert got["metadatas"][5] == {"k": 2} and got["documents"][1] == "new-a"


async def test_delete_by_ids_reports_ids_asked_for(client: Any) -> None:
    col = await _abc(client)
    assert await col.delete(ids=["a", "zz"]) == {"deleted": 2}
    assert await col.count() == 4
    result = await col.query(query_embeddings=[[1, 2]], n_results=5)
    assert "a" not in result["ids"][0]


async def test_delete_by_where_reports_actual_count_and_honours_limit(client: Any) -> None:
    col = await _abc(client)
    await col.add(ids=["d"], embeddings=[[0, 0]], metadatas=[{"m": "c"}])
    assert await col.delete(where={"m": "c"}, limit=1) == {"deleted": 1}
    assert (await col.get(where={"m": "c"}))["ids"] == ["d"]
    assert await col.delete(where={"m": "nobody"}) == {"deleted": 0}


async def test_deleted_then_readded_id_moves_to_the_end(client: Any) -> None:
    col = await _abc(client)
    await col.delete(ids=["c"])
    await col.add(ids=["c"], embeddings=[[0, 0]])
    assert (await col.get())["ids"] == ["a", "b", "z", "y", "c"]


async def test_peek_returns_first_records_with_embeddings(client: Any) -> None:
    col = await _abc(client)
    peeked = await col.peek(2)
    assert peeked["ids"] == ["c", "a"]
    assert peeked["included"] == ["metadatas", "documents", "embeddings"]
    assert peeked["embeddings"].shape == (2, 2)


async def test_fork_copies_every_record_into_a_new_collection(client: Any) -> None:
    col = await _abc(client)
    fork = await col.fork("forked")
    await col.delete(ids=["a"])
    assert (await fork.get())["ids"] == ["c", "a", "b", "z", "y"]
    assert (await fork.query(query_embeddings=[[1, 2]], n_results=1))["ids"] == [["a"]]


async def test_records_are_isolated_between_collections(client: Any) -> None:
    col = await _abc(client)
    other = await client.create_collection("other", embedding_function=None)
    await other.add(ids=["a"], embeddings=[[1, 2, 3]], metadatas=[{"m": "a"}])
    assert (await col.get(where={"m": "a"}))["ids"] == ["a"]
    assert await other.count() == 1 and await col.count() == 5


async def test_deleted_collection_drops_its_records(client: Any) -> None:
    col = await _abc(client)
    await client.delete_collection("records")
    again = await client.create_collection("records", embedding_function=None)
    assert await again.count() == 0
    with pytest.raises(NotFoundError):
        await col.count()


async def test_embedding_function_embeds_documents_and_query_texts(client: Any) -> None:
    class Embed:
        def __call__(self, input: list[str]) -> list[list[float]]:
            return [[float(len(t)), float(t.count("a"))] for t in input]

    col = await client.create_collection("with-ef", embedding_function=Embed())
    await col.add(ids=["1", "2"], documents=["banana", "kiwi"])
    result = await col.query(query_texts=["papaya"], n_results=1)
    assert result["ids"] == [["1"]]


async def test_documents_without_embedding_function_fail_clearly(client: Any) -> None:
    # A configuration without a function records a legacy one (as chromadb): nothing to
    # fall back on when the handle has none either.
    col = await client.create_collection(
        "noef", configuration={"hnsw": {"space": "l2"}}, embedding_function=None
    )
    with pytest.raises(ValueError, match="You must provide an embedding function"):
        await col.add(ids=["1"], documents=["text"])
    assert await col.count() == 0


# --- validation: the whole batch or nothing ---


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"ids": [], "embeddings": []}, ValueError, "Expected Embeddings to be non-empty list"),
        (
            {"ids": None, "embeddings": [[1, 2]]},
            ValueError,
            "Expected IDs to be a list, got NoneType",
        ),
        ({"ids": ["x", "x"], "embeddings": [[1, 2]] * 2}, DuplicateIDError, "duplicates of: x"),
        ({"ids": [""], "embeddings": [[1, 2]]}, InvalidArgumentError, "Empty ID"),
        (
            {"ids": [1], "embeddings": [[1, 2]]},
            ValueError,
            "Expected ID to be a str, got 1 in add.",
        ),
        ({"ids": ["p", "q"], "embeddings": [[1, 2]]}, ValueError, "ids: 2, embeddings: 1 in add."),
        ({"ids": ["p"], "embeddings": [[1, 2, 3]]}, InvalidArgumentError, "dimension of 2, got 3"),
        ({"ids": ["p"], "embeddings": [[1, float("nan")]]}, InvalidArgumentError, "NaN"),
        ({"ids": ["p"]}, ValueError, "Exactly one of documents, images, uris"),
        ({"ids": ["p"], "embeddings": [[1, 2]], "metadatas": [{}]}, ValueError, "non-empty dict"),
        ({"ids": ["p"], "embeddings": [[1, 2]], "metadatas": [{"k": []}]}, ValueError, "non-empty"),
        (
            {"ids": ["p"], "embeddings": [[1, 2]], "metadatas": [{"k": {}}]},
            ValueError,
            "dict in add",
        ),
        (
            {"ids": ["p"], "embeddings": [[1, 2]], "metadatas": [{"k": None}]},
            TypeError,
            "MetadataValue",
        ),
        (
            {"ids": ["p"], "embeddings": [[1, 2]], "documents": [1]},
            ValueError,
            "document to be a str",
        ),
        (
            {"ids": ["p"], "embeddings": [[True, False]]},
            ValueError,
            "Expected embeddings to be a list",
        ),
    ],
)
async def test_bad_add_raises_chroma_error_and_writes_nothing(
    client: Any, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    col = await _abc(client)
    with pytest.raises(error, match=_escape(message)):
        await col.add(**kwargs)
    assert await col.count() == 5


def _escape(text: str) -> str:
    import re

    return re.escape(text)


async def test_oversized_batch_is_refused_whole(client: Any) -> None:
    col = await client.create_collection("big", embedding_function=None)
    size = await client.get_max_batch_size()
    ids = [str(i) for i in range(size + 1)]
    with pytest.raises(InternalError, match=f"Batch size of {size + 1} is greater"):
        await col.add(ids=ids, embeddings=np.zeros((size + 1, 2)))
    assert await col.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"include": ["distances"]}, ValueError, "Include item cannot be one of distances"),
        ({"include": ["foo"]}, ValueError, "Expected include item to be one of"),
        ({"include": "documents"}, ValueError, "Expected include to be a list"),
        ({"ids": []}, ValueError, "non-empty list, got 0 IDs in get."),
        ({"limit": -1}, OverflowError, "out of range"),
        ({"limit": 1.5}, TypeError, "'float' object cannot be interpreted as an integer"),
        ({"where": {}}, ValueError, "exactly one operator, got {} in get."),
        ({"where": {"a": 1, "b": 2}}, ValueError, "exactly one operator"),
        ({"where": {"a": {"$gt": "x"}}}, ValueError, "an int or a float for operator $gt"),
        ({"where": {"a": {"$in": []}}}, ValueError, "non-empty list"),
        ({"where": {"a": {"$foo": 1}}}, ValueError, "got $foo in get."),
        ({"where_document": {"$contains": ""}}, ValueError, "non-empty str in get."),
        ({"where_document": {"$regex": "("}}, InvalidArgumentError, "Regex syntax"),
    ],
)
async def test_bad_get_raises_chroma_error(
    client: Any, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    col = await _abc(client)
    with pytest.raises(error, match=_escape(message)):
        await col.get(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ValueError, "At least one of one of embeddings"),
        ({"query_embeddings": [[1, 2]], "n_results": 0}, TypeError, "cannot be negative, or zero"),
        ({"query_embeddings": [[1, 2]], "n_results": 1.5}, ValueError, "to be a int, got 1.5"),
        ({"query_embeddings": [[1, 2]], "include": ["foo"]}, ValueError, "include item"),
    ],
)
async def test_bad_query_raises_chroma_error(
    client: Any, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    col = await _abc(client)
    with pytest.raises(error, match=_escape(message)):
        await col.query(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ValueError, "At least one of ids, where, or where_document must be provided"),
        ({"ids": []}, ValueError, "non-empty list, got 0 IDs in delete."),
        ({"ids": ["a"], "limit": 1}, ValueError, "limit can only be specified"),
        ({"where": {"m": "a"}, "limit": -1}, ValueError, "limit must be a non-negative integer"),
        ({"where": {"m": "a"}, "limit": 1.5}, TypeError, "limit must be a non-negative integer"),
    ],
)
async def test_bad_delete_raises_and_deletes_nothing(
    client: Any, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    col = await _abc(client)
    with pytest.raises(error, match=_escape(message)):
        await col.delete(**kwargs)
    assert await col.count() == 5


async def test_records_survive_close_and_reopen(make_client: Any) -> None:
    if "ephemeral" in make_client.kind:
        pytest.skip("ephemeral clients keep nothing")
    client = await make_client()
    await _abc(client)
    await client.close()
    reopened = await make_client()
    col = await reopened.get_collection("records", embedding_function=None)
    assert (await col.get())["ids"] == ["c", "a", "b", "z", "y"]
    assert (await col.query(query_embeddings=[[1, 2]], n_results=1))["ids"] == [["a"]]


def test_sync_collection_has_every_record_method() -> None:
    for name in ("add", "get", "query", "update", "upsert", "delete", "count", "peek", "fork"):
        assert callable(getattr(achroma.Collection, name))


async def test_query_with_ids_and_where_ignores_missing_ids(client: Any) -> None:
    col = await _abc(client)
    result = await col.query(query_embeddings=[[0, 0]], ids=["a", "nope"], where={"m": "a"})
    assert result["ids"] == [["a"]]
