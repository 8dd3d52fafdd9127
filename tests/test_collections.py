"""Collection management on every client path."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

import achroma
from achroma.errors import AuthorizationError, InternalError, InvalidArgumentError, NotFoundError

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


@pytest.mark.parametrize("name", [None, 5])
async def test_collection_name_that_is_not_a_str_is_a_type_error(client: Any, name: Any) -> None:
    message = f"argument 'name': '{type(name).__name__}' object cannot be converted to 'PyString'"
    for call in (client.create_collection, client.get_collection, client.delete_collection):
        with pytest.raises(TypeError, match=message):
            await call(name)


async def test_metadata_with_a_dict_value_is_rejected(client: Any) -> None:
    with pytest.raises(TypeError, match="Cannot convert Python object to MetadataValue"):
        await client.create_collection("docs", metadata={"nested": {"a": 1}})
    assert await client.count_collections() == 0


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({}, "Validation error: metadata: Metadata cannot be empty"),
        ({"": 1}, "Validation error: metadata: Metadata key cannot be empty"),
        ({"#a": 1}, "Validation error: metadata: Metadata key cannot start with '#' or '\\$': #a"),
    ],
)
async def test_metadata_refused_by_the_validator(client: Any, metadata: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        await client.create_collection("docs", metadata=metadata)
    assert await client.count_collections() == 0


async def test_bad_name_and_bad_metadata_are_reported_together(client: Any) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        await client.create_collection("a", metadata={})
    assert str(caught.value).splitlines()[1] == "metadata: Metadata cannot be empty"


async def test_ints_beyond_64_bits_in_metadata_are_stored_as_floats(client: Any) -> None:
    await client.create_collection("docs", metadata={"big": 2**64})
    assert (await client.get_collection("docs")).metadata == {"big": float(2**64)}


async def test_get_or_create_checks_its_arguments_when_the_collection_exists(client: Any) -> None:
    await client.create_collection("docs", metadata={"a": 1})
    with pytest.raises(InvalidArgumentError, match="Metadata cannot be empty"):
        await client.get_or_create_collection("docs", metadata={})
    assert (await client.get_collection("docs")).metadata == {"a": 1}


@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        ({"limit": -1}, OverflowError, "out of range integral type conversion attempted"),
        ({"offset": 2**32}, OverflowError, "out of range integral type conversion attempted"),
        ({"limit": 2**64}, OverflowError, "Python int too large to convert to C long"),
        ({"limit": 1.5}, TypeError, "argument 'limit': 'float' object cannot be interpreted"),
    ],
)
async def test_list_collections_refuses_limits_chroma_cannot_take(
    client: Any, kw: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        await client.list_collections(**kw)


async def test_modify_renames_and_replaces_metadata(client: Any) -> None:
    col = await client.create_collection("docs", metadata={"a": 1})
    await col.modify(name="renamed", metadata={"b": 2})
    assert col.name == "renamed"
    fetched = await client.get_collection("renamed")
    assert fetched.metadata == {"b": 2}
    assert fetched.id == col.id
    with pytest.raises(NotFoundError):
        await client.get_collection("docs")


async def test_modify_to_an_existing_name_fails_and_changes_nothing(client: Any) -> None:
    col = await client.create_collection("docs", metadata={"a": 1})
    await client.create_collection("other")
    with pytest.raises(InternalError, match="UNIQUE constraint failed: collections.name"):
        await col.modify(name="other", metadata={"b": 2})
    assert col.name == "docs"
    assert (await client.get_collection("docs")).metadata == {"a": 1}


async def test_modify_metadata_none_value_drops_the_key(client: Any) -> None:
    col = await client.create_collection("docs", metadata={"a": 1, "b": 2})
    await col.modify(metadata={"a": None, "c": 3})
    assert (await client.get_collection("docs")).metadata == {"c": 3}
    await col.modify(metadata={"c": None})
    assert (await client.get_collection("docs")).metadata is None


@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        ({"metadata": {}}, ValueError, "Expected metadata to be a non-empty dict, got 0"),
        ({"metadata": {"hnsw:space": "ip"}}, ValueError, "Changing the distance function"),
        ({"name": "a"}, InvalidArgumentError, "Validation error: new_name: Expected a name"),
        ({"name": 5}, TypeError, "argument 'new_name': 'int' object cannot be converted"),
        (
            {"metadata": {"": 1}},
            InvalidArgumentError,
            "Validation error: new_metadata: Metadata key cannot be empty",
        ),
        (
            {"configuration": {"hnsw": {"space": "ip"}}},
            InvalidArgumentError,
            "unknown field `space`, expected one of `ef_search`, ",
        ),
        (
            {"name": "renamed", "configuration": {"spann": {"search_nprobe": 5}}},
            ValueError,
            "Trying to update SPANN config but schema has HNSW",
        ),
    ],
)
async def test_modify_refuses_bad_arguments_and_writes_nothing(
    client: Any, kw: Any, error: type[Exception], message: str
) -> None:
    col = await client.create_collection("docs", metadata={"a": 1})
    with pytest.raises(error, match=message):
        await col.modify(**kw)
    stored = await client.get_collection("docs")
    assert (col.name, col.metadata) == (stored.name, stored.metadata) == ("docs", {"a": 1})


async def test_space_from_configuration_and_legacy_metadata(client: Any) -> None:
    a = await client.create_collection("aaa", configuration={"hnsw": {"space": "cosine"}})
    b = await client.create_collection("bbb", metadata={"hnsw:space": "ip"})
    assert a.configuration["hnsw"]["space"] == "cosine"
    assert b.configuration["hnsw"]["space"] == "ip"


async def test_configuration_wins_over_legacy_metadata_unless_left_at_defaults(
    client: Any,
) -> None:
    legacy = {"hnsw:M": 8}
    a = await client.create_collection(
        "aaa", configuration={"hnsw": {"ef_search": 5}}, metadata=legacy
    )
    b = await client.create_collection(
        "bbb", configuration={"hnsw": {"space": "l2"}}, metadata=legacy
    )
    assert (a.configuration["hnsw"]["max_neighbors"], a.configuration["hnsw"]["ef_search"]) == (
        16,
        5,
    )
    assert b.configuration["hnsw"]["max_neighbors"] == 8


@pytest.mark.parametrize(
    ("configuration", "message"),
    [
        (
            {"hnsw": {"space": "hamming"}},
            "unknown variant `hamming`, expected one of `l2`, `cosine`, `ip` at line 1 column 28",
        ),
        (
            {"hnsw": {"ef_search": -1}},
            "invalid value: integer `-1`, expected usize at line 1 column 25",
        ),
        (
            {"hnsw": {"ef_search": 1.5}},
            "invalid type: floating point `1.5`, expected usize at line 1",
        ),
        ({"hnsw": 5}, "invalid type: integer `5`, expected struct HnswConfiguration at line 1"),
    ],
)
async def test_invalid_configuration_is_rejected_with_serde_messages(
    client: Any, configuration: Any, message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        await client.create_collection("docs", configuration=configuration)
    assert await client.count_collections() == 0


async def test_bad_legacy_hnsw_metadata_is_rejected(client: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="Failed to parse hnsw parameters"):
        await client.create_collection("docs", metadata={"hnsw:M": "x"})
    assert await client.count_collections() == 0


async def test_thread_and_batch_sizes_are_accepted_and_not_kept(client: Any) -> None:
    col = await client.create_collection(
        "docs", configuration={"hnsw": {"num_threads": 2, "batch_size": 50}}
    )
    assert set(col.configuration["hnsw"]) == {
        "space",
        "ef_construction",
        "ef_search",
        "max_neighbors",
        "resize_factor",
        "sync_threshold",
    }


async def test_modify_changes_ef_search(client: Any) -> None:
    col = await client.create_collection("docs")
    await col.modify(configuration={"hnsw": {"ef_search": 200}})
    assert (await client.get_collection("docs")).configuration["hnsw"]["ef_search"] == 200


async def test_stale_handle_does_not_undo_another_handles_configuration_change(
    client: Any,
) -> None:
    first = await client.create_collection("docs")
    second = await client.get_collection("docs")
    await first.modify(configuration={"hnsw": {"ef_search": 7}})
    await second.modify(configuration={"hnsw": {"sync_threshold": 9}})
    hnsw = (await client.get_collection("docs")).configuration["hnsw"]
    assert (hnsw["ef_search"], hnsw["sync_threshold"]) == (7, 9)


async def test_heartbeat_and_version(client: Any) -> None:
    beat = await client.heartbeat()
    assert isinstance(beat, int) and beat > 1_600_000_000 * 10**9
    assert await client.get_version() == achroma.__version__


async def test_reset_refused_without_allow_reset(make_client: Any) -> None:
    c = await make_client()
    with pytest.raises(AuthorizationError, match="Reset is disabled by config"):
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
