"""Tenants and databases: admin operations and isolation."""

from __future__ import annotations

from typing import Any

import pytest

import achroma
from achroma.errors import InternalError, InvalidArgumentError, NotFoundError

pytestmark = pytest.mark.anyio


async def _admin_for(make_client: Any) -> Any:
    kind = make_client.kind
    c = await make_client()
    settings = c.get_settings()
    if kind.startswith("async"):
        return await achroma.AsyncAdminClient(settings)
    return await _sync_admin(settings)


async def _sync_admin(settings: Any) -> Any:
    import anyio

    from conftest import Awaitable

    return Awaitable(await anyio.to_thread.run_sync(lambda: achroma.AdminClient(settings)))


async def test_default_tenant_and_database_exist(make_client: Any) -> None:
    admin = await _admin_for(make_client)
    assert await admin.get_tenant("default_tenant") == {"name": "default_tenant"}
    db = await admin.get_database("default_database")
    assert db["name"] == "default_database" and db["tenant"] == "default_tenant"
    await admin.close()


async def test_create_and_list_tenants_and_databases(make_client: Any) -> None:
    admin = await _admin_for(make_client)
    await admin.create_tenant("acme")
    await admin.create_database("one", "acme")
    await admin.create_database("two", "acme")
    assert {"name": "acme"} in await admin.list_tenants()
    names = [d["name"] for d in await admin.list_databases(tenant="acme")]
    assert names == ["one", "two"]
    assert [d["name"] for d in await admin.list_databases(limit=1, offset=1, tenant="acme")] == [
        "two"
    ]
    await admin.close()


async def test_duplicate_tenant_and_database_fail(make_client: Any) -> None:
    admin = await _admin_for(make_client)
    await admin.create_tenant("acme")
    with pytest.raises(InternalError, match=r"^Tenant \[acme\] already exists$"):
        await admin.create_tenant("acme")
    await admin.create_database("one", "acme")
    with pytest.raises(InternalError, match=r"^Database \[one\] already exists$"):
        await admin.create_database("one", "acme")
    await admin.close()


async def test_databases_are_listed_by_name(make_client: Any) -> None:
    admin = await _admin_for(make_client)
    await admin.create_tenant("acme")
    for name in ("db-b", "Zeta", "db-a"):
        await admin.create_database(name, "acme")
    assert [d["name"] for d in await admin.list_databases(tenant="acme")] == [
        "Zeta",
        "db-a",
        "db-b",
    ]
    assert await admin.list_databases(tenant="no-such-tenant") == []
    await admin.close()


async def test_tenant_and_database_name_rules(make_client: Any) -> None:
    admin = await _admin_for(make_client)
    with pytest.raises(InvalidArgumentError, match=r'length \[\{"min": Number\(3\)'):
        await admin.create_tenant("ab")
    with pytest.raises(InvalidArgumentError, match="database name must be at least 3 characters"):
        await admin.create_database("ab")
    with pytest.raises(InvalidArgumentError, match="database name must be at least 3 characters"):
        await admin.get_database("ab")
    with pytest.raises(TypeError, match="argument 'name': 'NoneType' object cannot be converted"):
        await admin.create_tenant(None)
    await admin.close()


async def test_missing_tenant_and_database_raise_not_found(make_client: Any) -> None:
    admin = await _admin_for(make_client)
    with pytest.raises(NotFoundError, match=r"^Tenant \[nope\] not found$"):
        await admin.get_tenant("nope")
    with pytest.raises(NotFoundError, match=r"^Database \[nope\] not found. Are you sure"):
        await admin.get_database("nope")
    with pytest.raises(NotFoundError):
        await admin.create_database("db1", "nope")
    await admin.close()


async def test_collections_are_isolated_per_database(make_client: Any) -> None:
    admin = await _admin_for(make_client)
    await admin.create_tenant("acme")
    await admin.create_database("one", "acme")
    default = await make_client()
    scoped = await make_client(tenant="acme", database="one")
    await default.create_collection("docs", metadata={"where": "default"})
    await scoped.create_collection("docs", metadata={"where": "acme"})
    assert (await default.get_collection("docs")).metadata == {"where": "default"}
    assert (await scoped.get_collection("docs")).metadata == {"where": "acme"}
    assert (await scoped.get_collection("docs")).tenant == "acme"
    await scoped.delete_collection("docs")
    assert await default.count_collections() == 1
    await admin.close()


async def test_delete_database_removes_its_collections(make_client: Any) -> None:
    admin = await _admin_for(make_client)
    await admin.create_database("temp")
    scoped = await make_client(database="temp")
    await scoped.create_collection("docs")
    await admin.delete_database("temp")
    with pytest.raises(NotFoundError):
        await admin.get_database("temp")
    await admin.close()


async def test_client_of_a_deleted_database(make_client: Any) -> None:
    admin = await _admin_for(make_client)
    await admin.create_database("temp")
    stale = await make_client(database="temp")
    await stale.create_collection("docs")
    await admin.delete_database("temp")
    assert await stale.list_collections() == []
    assert await stale.count_collections() == 0
    with pytest.raises(InvalidArgumentError, match=r"Database \[temp\] does not exist"):
        await stale.create_collection("new")
    with pytest.raises(NotFoundError, match=r"Collection \[docs\] does not exist"):
        await stale.get_collection("docs")
    await admin.close()


async def test_client_on_missing_tenant_or_database_fails(make_client: Any) -> None:
    with pytest.raises(NotFoundError, match=r"Tenant \[nope\] not found"):
        await make_client(tenant="nope")
    with pytest.raises(NotFoundError, match=r"Database \[nope\] not found"):
        await make_client(database="nope")


async def test_set_tenant_and_database(make_client: Any) -> None:
    admin = await _admin_for(make_client)
    await admin.create_tenant("acme")
    await admin.create_database("one", "acme")
    c = await make_client()
    await c.set_tenant("acme", "one")
    assert (c.tenant, c.database) == ("acme", "one")
    await c.create_collection("docs")
    await admin.create_database("two", "acme")
    await c.set_database("two")
    assert (c.tenant, c.database) == ("acme", "two")
    assert await c.count_collections() == 0
    with pytest.raises(NotFoundError, match=r"Database \[missing\] not found"):
        await c.set_database("missing")
    with pytest.raises(NotFoundError, match=r"Tenant \[missing\] not found"):
        await c.set_tenant("missing")
    with pytest.raises(ValueError, match="Could not connect to tenant 5"):
        await c.set_tenant(5)
    assert (c.tenant, c.database) == ("acme", "two")
    await admin.close()
