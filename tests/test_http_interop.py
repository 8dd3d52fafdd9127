"""Interop: one set of scenarios, run through Chroma's and achroma's HTTP clients against
Chroma's server (`chroma run`) and achroma's (`achroma run`).

The reference outcome of each scenario is chromadb 1.5.9's `HttpClient` against `chroma run`;
every other pairing must give the same outcomes: the same values (floats to 1e-4) and the same
errors (class name and message). The pairings cover (a) chromadb's client against achroma's
server, (b) achroma's `HttpClient` and `AsyncHttpClient` against Chroma's server, and (c)
achroma's clients against achroma's server.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import anyio
import numpy as np
import pytest

import achroma
from http_servers import Server

pytestmark = pytest.mark.anyio

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# --- one awaitable interface over sync and async clients ---


class Threaded:
    """A sync client or collection presented as an async one: each call runs in a thread, as
    blocking user code would run it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = await anyio.to_thread.run_sync(functools.partial(attr, *args, **kwargs))
            return _threaded(result)

        return call


def _is_collection(value: Any) -> bool:
    return all(hasattr(value, a) for a in ("add", "query", "name", "metadata"))


def _threaded(value: Any) -> Any:
    if _is_collection(value):
        return Threaded(value)
    if isinstance(value, list) and value and _is_collection(value[0]):
        return [Threaded(v) for v in value]
    return value


def _chromadb_settings(server: Server, **kw: Any) -> Any:
    chromadb = pytest.importorskip("chromadb")
    return chromadb.config.Settings(anonymized_telemetry=False, **kw)


async def connect(kind: str, server: Server, **kw: Any) -> Any:
    """A client of `kind` for `server`, with the awaitable interface."""
    if kind == "chromadb":
        chromadb = pytest.importorskip("chromadb")
        settings = _chromadb_settings(server)
        return Threaded(
            await anyio.to_thread.run_sync(
                lambda: chromadb.HttpClient(
                    host=server.host, port=server.port, settings=settings, **kw
                )
            )
        )
    if kind == "achroma-sync":
        return Threaded(
            await anyio.to_thread.run_sync(
                lambda: achroma.HttpClient(host=server.host, port=server.port, **kw)
            )
        )
    return await achroma.AsyncHttpClient(host=server.host, port=server.port, **kw)


async def connect_admin(kind: str, server: Server) -> Any:
    http = {
        "chroma_api_impl": "chromadb.api.fastapi.FastAPI",
        "chroma_server_host": server.host,
        "chroma_server_http_port": server.port,
    }
    if kind == "chromadb":
        chromadb = pytest.importorskip("chromadb")
        settings = _chromadb_settings(server, **http)
        return Threaded(await anyio.to_thread.run_sync(lambda: chromadb.AdminClient(settings)))
    if kind == "achroma-sync":
        settings = achroma.Settings(**http)
        return Threaded(await anyio.to_thread.run_sync(lambda: achroma.AdminClient(settings)))
    return await achroma.AsyncAdminClient(achroma.Settings(**http))


# --- outcomes ---


def normalize(value: Any) -> Any:
    """A comparable picture of a result: plain lists and dicts, ids of collections and
    databases blanked (they differ from run to run)."""
    if isinstance(value, Threaded):
        value = value._inner
    if _is_collection(value):
        return {"collection": value.name, "metadata": normalize(value.metadata)}
    if isinstance(value, np.ndarray):
        return normalize(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): normalize(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if isinstance(value, UUID):
        return "<uuid>"
    if isinstance(value, str):
        return UUID_TEXT.sub("<uuid>", value)
    return value


class Outcomes:
    """Records what each step of a scenario returned or raised."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, Any]] = []

    async def __call__(
        self, label: str, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> Any:
        try:
            value = await fn(*args, **kwargs)
        except Exception as exc:
            self.steps.append((label, ("raises", type(exc).__name__, normalize(str(exc)))))
            return None
        self.steps.append((label, ("returns", normalize(value))))
        return value

    def note(self, label: str, value: Any) -> None:
        self.steps.append((label, ("is", normalize(value))))


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return (
            isinstance(a, (int, float))
            and isinstance(b, (int, float))
            and math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-5)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# --- scenarios: each starts from a reset server ---

Scenario = Callable[[Any, Any, Outcomes], Awaitable[None]]

VECTORS = {
    "a": [1.0, 0.0, 0.0],
    "b": [0.0, 1.0, 0.0],
    "c": [0.0, 0.0, 1.0],
    "d": [0.6, 0.8, 0.0],
    "e": [0.0, 0.6, 0.8],
    "f": [0.3, 0.3, 0.9],
}
METADATAS = {
    "a": {"color": "red", "n": 1, "score": 0.5, "flag": True},
    "b": {"color": "blue", "n": 2, "score": 1.5, "flag": False},
    "c": {"color": "red", "n": 3, "score": 2.5, "flag": True},
    "d": {"color": "green", "n": 4, "score": 0.25, "flag": False},
    "e": {"color": "blue", "n": 5, "score": 3.75, "flag": True},
    "f": {"color": "green", "n": 6, "score": 0.125, "flag": False},
}
DOCUMENTS = {
    "a": "alpha apple",
    "b": "bravo banana",
    "c": "charlie cherry apple",
    "d": "delta date",
    "e": "echo elderberry",
    "f": "foxtrot fig apple",
}


async def _filled(client: Any, step: Outcomes, name: str = "records", **kw: Any) -> Any:
    collection = await step("create", client.create_collection, name, embedding_function=None, **kw)
    ids = list(VECTORS)
    await step(
        "add",
        collection.add,
        ids=ids,
        embeddings=[VECTORS[i] for i in ids],
        metadatas=[METADATAS[i] for i in ids],
        documents=[DOCUMENTS[i] for i in ids],
    )
    return collection


async def _sorted_names(listing: Awaitable[Any], count: bool = False) -> Any:
    names = sorted(c.name for c in await listing)
    return len(names) if count else names


async def collection_management(client: Any, admin: Any, step: Outcomes) -> None:
    docs = await step(
        "create",
        client.create_collection,
        "docs",
        metadata={"topic": "a", "n": 1},
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=None,
    )
    step.note("space", docs.configuration_json["hnsw"]["space"])
    await step("get", client.get_collection, "docs", embedding_function=None)
    await step(
        "get_or_create keeps metadata",
        client.get_or_create_collection,
        "docs",
        metadata={"other": 2},
        embedding_function=None,
    )
    await step("create second", client.create_collection, "notes", embedding_function=None)
    # Chroma lists collections in the order of their (random) ids: compare as sets.
    await step("list", _sorted_names, client.list_collections())
    await step("list page", _sorted_names, client.list_collections(limit=1, offset=1), count=True)
    await step("count", client.count_collections)
    await step("create existing", client.create_collection, "docs", embedding_function=None)
    await step("get missing", client.get_collection, "missing", embedding_function=None)
    await step("invalid name", client.create_collection, "a", embedding_function=None)
    await step("rename", docs.modify, name="docs2", metadata={"topic": "b"})
    step.note("renamed", [docs.name, docs.metadata])
    await step("get renamed", client.get_collection, "docs2", embedding_function=None)
    await step("get old name", client.get_collection, "docs", embedding_function=None)
    await step("search width", docs.modify, configuration={"hnsw": {"ef_search": 42}})
    again = await client.get_collection("docs2", embedding_function=None)
    step.note("configuration", again.configuration_json["hnsw"])
    await step("delete", client.delete_collection, "notes")
    await step("delete again", client.delete_collection, "notes")
    await step("count after delete", client.count_collections)


async def records_crud(client: Any, admin: Any, step: Outcomes) -> None:
    collection = await _filled(client, step)
    await step("count", collection.count)
    await step("get all", collection.get)
    await step("get by ids", collection.get, ids=["b", "a", "missing"])
    await step(
        "get everything", collection.get, include=["embeddings", "documents", "metadatas", "uris"]
    )
    await step("get page", collection.get, limit=2, offset=1, include=["metadatas"])
    await step(
        "update",
        collection.update,
        ids=["a"],
        embeddings=[[0.9, 0.0, 0.1]],
        metadatas=[{"n": 100}],
        documents=["changed"],
    )
    await step("update missing id", collection.update, ids=["zzz"], metadatas=[{"n": 1}])
    await step("update vector", collection.update, ids=["b"], embeddings=[[0.5, 0.5, 0.70710678]])
    await step(
        "upsert",
        collection.upsert,
        ids=["a", "g"],
        embeddings=[[0.9, 0.1, 0.0], [0.1, 0.1, 0.1]],
        metadatas=[{"color": "pink"}, {"color": "black", "n": 7}],
        documents=["upserted a", "golf grape"],
    )
    await step(
        "get changed",
        collection.get,
        ids=["a", "b", "g"],
        include=["metadatas", "documents", "embeddings"],
    )
    await step("delete by id", collection.delete, ids=["b"])
    await step("delete by where", collection.delete, where={"color": "green"})
    await step("count after delete", collection.count)
    await step("peek", collection.peek, limit=2)
    await step("get after delete", collection.get, include=["documents"])


WHERES = [
    {"color": "red"},
    {"color": {"$eq": "blue"}},
    {"color": {"$ne": "red"}},
    {"n": {"$gt": 2}},
    {"n": {"$gte": 2}},
    {"score": {"$lt": 1.0}},
    {"score": {"$lte": 0.5}},
    {"flag": True},
    {"color": {"$in": ["red", "green"]}},
    {"color": {"$nin": ["red", "green"]}},
    {"$and": [{"color": "red"}, {"n": {"$gt": 1}}]},
    {"$or": [{"color": "blue"}, {"score": {"$lt": 0.3}}]},
]
WHERE_DOCUMENTS = [
    {"$contains": "apple"},
    {"$not_contains": "apple"},
    {"$and": [{"$contains": "apple"}, {"$not_contains": "cherry"}]},
    {"$or": [{"$contains": "banana"}, {"$contains": "fig"}]},
    {"$regex": "^[a-c]"},
]


async def filters_and_queries(client: Any, admin: Any, step: Outcomes) -> None:
    collection = await _filled(client, step)
    for where in WHERES:
        await step(f"get where {where}", collection.get, where=where, include=["metadatas"])
    for where_document in WHERE_DOCUMENTS:
        await step(
            f"get where_document {where_document}",
            collection.get,
            where_document=where_document,
            include=["documents"],
        )
    queries = [[0.9, 0.15, 0.1], [0.1, 0.2, 0.9]]  # no two records tie
    await step("query", collection.query, query_embeddings=queries, n_results=3)
    for where in WHERES[::3]:
        await step(
            f"query where {where}",
            collection.query,
            query_embeddings=queries,
            n_results=2,
            where=where,
        )
    await step(
        "query where_document",
        collection.query,
        query_embeddings=queries[:1],
        n_results=5,
        where_document={"$contains": "apple"},
        include=["documents", "distances"],
    )
    await step(
        "query embeddings",
        collection.query,
        query_embeddings=queries,
        n_results=2,
        include=["embeddings", "uris"],
    )
    await step("query by ids", collection.query, query_embeddings=queries, ids=["c", "d"])
    await step("query more than stored", collection.query, query_embeddings=queries, n_results=50)
    await step("delete by document", collection.delete, where_document={"$contains": "banana"})
    await step("remaining", collection.get, include=[])


async def record_errors(client: Any, admin: Any, step: Outcomes) -> None:
    collection = await _filled(client, step)
    await step("wrong dimension", collection.add, ids=["x"], embeddings=[[1.0, 2.0]])
    await step(
        "query wrong dimension", collection.query, query_embeddings=[[1.0, 2.0]], n_results=1
    )
    await step("duplicate ids", collection.add, ids=["x", "x"], embeddings=[[1, 2, 3]] * 2)
    await step("unequal lengths", collection.add, ids=["x", "y"], embeddings=[[1.0, 2.0, 3.0]])
    await step("bad operator", collection.get, where={"n": {"$bogus": 1}})
    await step("zero results", collection.query, query_embeddings=[[1, 0, 0]], n_results=0)
    await step("query missing ids", collection.query, query_embeddings=[[1, 0, 0]], ids=["nope"])
    await step("distances in get", collection.get, include=["distances"])
    await step("count unchanged", collection.count)
    await client.delete_collection("records")
    await step("add to deleted", collection.add, ids=["z"], embeddings=[[1.0, 2.0, 3.0]])
    await step("get from deleted", collection.get)


async def tenants_and_databases(client: Any, admin: Any, step: Outcomes) -> None:
    await step("create tenant", admin.create_tenant, "tenant_one")
    await step("get tenant", admin.get_tenant, "tenant_one")
    await step("create database", admin.create_database, "db_one", "tenant_one")
    await step("get database", admin.get_database, "db_one", "tenant_one")
    await step("create database 2", admin.create_database, "db_two", "tenant_one")
    await step("list databases", admin.list_databases, tenant="tenant_one")
    await step("list databases page", admin.list_databases, limit=1, offset=1, tenant="tenant_one")
    await step("delete database", admin.delete_database, "db_two", "tenant_one")
    await step("list after delete", admin.list_databases, tenant="tenant_one")
    await step("get missing tenant", admin.get_tenant, "no_such_tenant")
    await step("scope", client.set_tenant, "tenant_one", "db_one")
    await step("create scoped", client.create_collection, "scoped", embedding_function=None)
    await step("list scoped", _sorted_names, client.list_collections())
    await step("back to default", client.set_tenant, "default_tenant", "default_database")
    await step("list default", _sorted_names, client.list_collections())


async def tenant_and_database_errors(client: Any, admin: Any, step: Outcomes) -> None:
    await step("create tenant", admin.create_tenant, "tenant_two")
    await step("create tenant again", admin.create_tenant, "tenant_two")
    await step("create database", admin.create_database, "db_one", "tenant_two")
    await step("create database again", admin.create_database, "db_one", "tenant_two")
    await step("get missing database", admin.get_database, "missing", "tenant_two")
    await step("delete missing database", admin.delete_database, "missing", "tenant_two")
    await step("scope to missing tenant", client.set_tenant, "no_such_tenant", "db_one")
    await step("scope to missing database", client.set_database, "missing")


async def larger_batches(client: Any, admin: Any, step: Outcomes) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.random((300, 32), dtype=np.float32)
    ids = [f"id{i:03d}" for i in range(300)]
    collection = await step(
        "create",
        client.create_collection,
        "batch",
        # Chroma's HNSW may miss the best inner product (its graph differs run to run);
        # with L2 a stored vector is always its own nearest neighbour.
        configuration={"hnsw": {"space": "l2"}},
        embedding_function=None,
    )
    await step(
        "add numpy",
        collection.add,
        ids=ids,
        embeddings=vectors,
        metadatas=[{"i": i, "even": i % 2 == 0} for i in range(300)],
    )
    await step("count", collection.count)
    await step("get embeddings", collection.get, ids=ids[:5], include=["embeddings", "metadatas"])
    await step(
        "query exact",
        collection.query,
        query_embeddings=vectors[:3],
        n_results=1,
        include=["distances"],
    )
    await step(
        "query filtered",
        collection.query,
        query_embeddings=vectors[10:12],
        n_results=4,
        where={"$and": [{"even": True}, {"i": {"$lt": 100}}]},
        include=["metadatas", "distances"],
    )


SCENARIOS: list[Scenario] = [
    collection_management,
    records_crud,
    filters_and_queries,
    record_errors,
    tenants_and_databases,
    tenant_and_database_errors,
    larger_batches,
]
PAIRINGS = [
    ("chromadb", "achroma"),
    ("achroma-sync", "chroma"),
    ("achroma-async", "chroma"),
    ("achroma-sync", "achroma"),
    ("achroma-async", "achroma"),
]


async def run(scenario: Scenario, kind: str, server: Server) -> list[tuple[str, Any]]:
    client = await connect(kind, server)
    admin = await connect_admin(kind, server)
    try:
        await client.reset()
        step = Outcomes()
        await scenario(client, admin, step)
        return step.steps
    finally:
        if kind != "chromadb":
            await client.close()
            await admin.close()


_reference: dict[str, list[tuple[str, Any]]] = {}


@pytest.fixture
def servers(chroma_server: Server, achroma_server: Server) -> dict[str, Server]:
    return {"chroma": chroma_server, "achroma": achroma_server}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
@pytest.mark.parametrize(("kind", "server"), PAIRINGS, ids=lambda p: str(p))
async def test_same_outcomes_as_chromadb_against_chroma(
    scenario: Scenario, kind: str, server: str, servers: dict[str, Server]
) -> None:
    if scenario.__name__ not in _reference:
        _reference[scenario.__name__] = await run(scenario, "chromadb", servers["chroma"])
    expected = _reference[scenario.__name__]
    actual = await run(scenario, kind, servers[server])
    assert [label for label, _ in actual] == [label for label, _ in expected]
    for (label, got), (_, want) in zip(actual, expected, strict=True):
        assert same(got, want), f"{label}: {got!r} != {want!r}"


# --- where the servers differ on purpose ---


@pytest.mark.parametrize("kind", ["chromadb", "achroma-sync", "achroma-async"])
async def test_fork_copies_on_achroma_and_is_unsupported_on_chroma(
    kind: str, servers: dict[str, Server]
) -> None:
    for name, server in servers.items():
        client = await connect(kind, server)
        await client.reset()
        source = await client.create_collection("source", embedding_function=None)
        await source.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]])
        if name == "achroma":
            fork = await source.fork("copy")
            assert await fork.count() == 2
            assert (await fork.get(ids=["b"], include=["embeddings"]))["embeddings"].tolist() == [
                [0.0, 1.0]
            ]
        else:
            with pytest.raises(Exception, match="Collection forking is unsupported"):
                await source.fork("copy")
        if kind != "chromadb":
            await client.close()
