"""Collection management on every client path."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

import achroma
from achroma.errors import InternalError, InvalidArgumentError, NotFoundError, UniqueConstraintError

pytestmark = pytest.mark.anyio


async def test_create_collection_returns_a_collection_with_its_fields(client: Any) -> None:
    col = await client.create_collection("docs", metadata={"a": 1}, embedding_function=None)
    assert isinstance(col.id, uuid.UUID)
    assert col.name == "docs"
    assert col.metadata == {"a": 1}
    assert col.tenant == "default_tenant"
    assert col.database == "default_database"
    assert col.configuration["hnsw"]["space"] == "l2"


async def test_collection_without_metadata_has_none(client: Any) -> None:
    col = await client.create_collection("docs")
    assert col.metadata is None


async def test_create_existing_collection_raises(client: Any) -> None:
    await client.create_collection("docs")
    with pytest.raises(InternalError, match=r"Collection \[docs\] already exists"):
        await client.create_collection("docs")


async def test_get_or_create_ignores_metadata_of_existing(client: Any) -> None:
    first = await client.create_collection("docs", metadata={"v": 1})
    again = await client.get_or_create_collection("docs", metadata={"v": 2})
    assert again.id == first.id
    assert again.metadata == {"v": 1}


async def test_create_with_get_or_create_returns_existing(client: Any) -> None:
    first = await client.create_collection("docs")
    again = await client.create_collection("docs", get_or_create=True)
    assert again.id == first.id


async def test_get_missing_collection_raises_not_found(client: Any) -> None:
    with pytest.raises(NotFoundError, match=r"Collection \[nope\] does not exist"):
        await client.get_collection("nope")


async def test_delete_collection_removes_it(client: Any) -> None:
    await client.create_collection("docs")
    await client.delete_collection("docs")
    assert await client.count_collections() == 0
    with pytest.raises(NotFoundError):
        await client.get_collection("docs")


async def test_delete_missing_collection_raises_not_found(client: Any) -> None:
    with pytest.raises(NotFoundError):
        await client.delete_collection("nope")


async def test_list_collections_in_creation_order_with_limit_offset(client: Any) -> None:
    for name in ["ccc", "aaa", "bbb"]:
        await client.create_collection(name)
    assert [c.name for c in await client.list_collections()] == ["ccc", "aaa", "bbb"]
    assert [c.name for c in await client.list_collections(limit=2)] == ["ccc", "aaa"]
    assert [c.name for c in await client.list_collections(offset=1)] == ["aaa", "bbb"]
    assert [c.name for c in await client.list_collections(limit=1, offset=2)] == ["bbb"]
    assert await client.count_collections() == 3


@pytest.mark.parametrize(
    "name",
    ["a", "ab", "-abc", "abc-", "_abc", "a b", "ab$", "", "x" * 513, "a..b", "192.168.1.1"],
)
async def test_invalid_collection_names_are_rejected(client: Any, name: str) -> None:
    with pytest.raises(InvalidArgumentError, match="Validation error: name"):
        await client.create_collection(name)
    assert await client.count_collections() == 0


@pytest.mark.parametrize("name", ["abc", "a.b", "a-b_c", "x" * 512, "1.2.3"])
async def test_valid_collection_names_are_accepted(client: Any, name: str) -> None:
    col = await client.create_collection(name)
    assert col.name == name


async def test_metadata_with_a_dict_value_is_rejected(client: Any) -> None:
    with pytest.raises(ValueError, match="Expected metadata value to be"):
        await client.create_collection("docs", metadata={"nested": {"a": 1}})
    assert await client.count_collections() == 0


async def test_modify_renames_and_replaces_metadata(client: Any) -> None:
    col = await client.create_collection("docs", metadata={"a": 1})
    await col.modify(name="renamed", metadata={"b": 2})
    assert col.name == "renamed"
    fetched = await client.get_collection("renamed")
    assert fetched.metadata == {"b": 2}
    assert fetched.id == col.id
    with pytest.raises(NotFoundError):
        await client.get_collection("docs")


async def test_modify_to_an_existing_name_fails(client: Any) -> None:
    col = await client.create_collection("docs")
    await client.create_collection("other")
    with pytest.raises((UniqueConstraintError, InternalError)):
        await col.modify(name="other")
    assert (await client.get_collection("docs")).id == col.id


async def test_space_from_configuration_and_legacy_metadata(client: Any) -> None:
    a = await client.create_collection("aaa", configuration={"hnsw": {"space": "cosine"}})
    b = await client.create_collection("bbb", metadata={"hnsw:space": "ip"})
    assert a.configuration["hnsw"]["space"] == "cosine"
    assert b.configuration["hnsw"]["space"] == "ip"


async def test_invalid_space_is_rejected(client: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        await client.create_collection("docs", configuration={"hnsw": {"space": "hamming"}})


async def test_modify_changes_ef_search(client: Any) -> None:
    col = await client.create_collection("docs")
    await col.modify(configuration={"hnsw": {"ef_search": 200}})
    assert (await client.get_collection("docs")).configuration["hnsw"]["ef_search"] == 200


async def test_heartbeat_and_version(client: Any) -> None:
    beat = await client.heartbeat()
    assert isinstance(beat, int) and beat > 1_600_000_000 * 10**9
    assert await client.get_version() == achroma.__version__


async def test_reset_refused_without_allow_reset(make_client: Any) -> None:
    c = await make_client()
    with pytest.raises(achroma.ChromaError, match="Resetting is not allowed"):
        await c.reset()


async def test_reset_deletes_everything_when_allowed(client: Any) -> None:
    await client.create_collection("docs")
    assert await client.reset() is True
    assert await client.count_collections() == 0


async def test_max_batch_size_and_identity(client: Any) -> None:
    assert await client.get_max_batch_size() > 0
    identity = await client.get_user_identity()
    assert identity.tenant == "default_tenant"


async def test_closed_client_raises_a_clear_error(make_client: Any) -> None:
    c = await make_client()
    await c.create_collection("docs")
    await c.close()
    with pytest.raises(achroma.errors.ClientClosedError, match="closed"):
        await c.list_collections()
