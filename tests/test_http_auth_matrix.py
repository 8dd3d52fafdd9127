"""What each kind of token may do on every endpoint of `achroma run` (issue 13, item 5).

Three tokens: unbound (every tenant), bound to tenant acme (all its databases), and bound to
acme's database db1. The rules are docs/server.md's table; every endpoint is tried with every
token on every tenant and database it could reach.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from http_servers import Server, needs_server_extra, start_achroma

USERS = {
    "users": [
        {"id": "root", "tokens": ["root-token"]},
        {"id": "acme-admin", "tokens": ["tenant-token"], "tenant": "acme"},
        {"id": "acme-d1", "tokens": ["d1-token"], "tenant": "acme", "databases": ["db1"]},
    ]
}
ROOT, TENANT, D1 = "root-token", "tenant-token", "d1-token"
TOKENS = (ROOT, TENANT, D1)
FORBIDDEN = {"error": "AuthError", "message": "Forbidden"}
DATABASES = (("acme", "db1"), ("acme", "db2"), ("other", "db1"))
VECTOR = {"ids": ["r1"], "embeddings": [[1.0, 0.0]], "documents": ["hello"]}


def _call(server: Server, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    response = httpx.request(
        method, server.api + path, json=body, headers={"x-chroma-token": token}, timeout=30
    )
    return response.status_code, response.json() if response.content else None


def _forbidden(server: Server, token: str, method: str, path: str, body: Any = None) -> bool:
    return _call(server, token, method, path, body) == (403, FORBIDDEN)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    needs_server_extra()
    home = tmp_path_factory.mktemp("matrix")
    (home / "users.json").write_text(json.dumps(USERS))
    started = start_achroma(home / "data", "--token-file", str(home / "users.json"))
    for tenant in ("acme", "other"):
        assert _call(started, ROOT, "POST", "/tenants", {"name": tenant})[0] == 200
    for tenant, database in DATABASES:
        base = f"/tenants/{tenant}"
        assert _call(started, ROOT, "POST", base + "/databases", {"name": database})[0] == 200
        made = _call(
            started, ROOT, "POST", f"{base}/databases/{database}/collections", {"name": "docs"}
        )
        cid = made[1]["id"]
        add = f"{base}/databases/{database}/collections/{cid}/add"
        assert _call(started, ROOT, "POST", add, VECTOR)[0] == 201
    yield started
    started.stop()


def _may_reach(token: str, tenant: str, database: str) -> bool:
    return token == ROOT or (tenant == "acme" and (token == TENANT or database == "db1"))


def _collection_id(server: Server, tenant: str, database: str) -> str:
    found = _call(server, ROOT, "GET", f"/tenants/{tenant}/databases/{database}/collections/docs")
    cid: str = found[1]["id"]
    return cid


# Every endpoint inside a database; {c} is the collection's id. Each leaves the data as it was
# (or fails harmlessly) when it is allowed.
DATABASE_ENDPOINTS = [
    ("GET", "{db}", None),
    ("GET", "{db}/collections", None),
    ("POST", "{db}/collections", {"name": "docs", "get_or_create": True}),
    ("GET", "{db}/collections_count", None),
    ("GET", "{db}/collections/by-id/{c}", None),
    ("GET", "{db}/collections/docs", None),
    ("PUT", "{db}/collections/{c}", {}),
    ("DELETE", "{db}/collections/no-such-collection", None),
    ("POST", "{db}/collections/{c}/add", {"ids": ["r1"], "embeddings": [[1.0, 0.0]]}),
    ("POST", "{db}/collections/{c}/upsert", VECTOR),
    ("POST", "{db}/collections/{c}/update", VECTOR),
    ("POST", "{db}/collections/{c}/delete", {"ids": ["no-such-record"]}),
    ("GET", "{db}/collections/{c}/count", None),
    ("POST", "{db}/collections/{c}/get", {"ids": ["r1"]}),
    ("POST", "{db}/collections/{c}/query", {"query_embeddings": [[1.0, 0.0]], "n_results": 1}),
    ("POST", "{db}/collections/{c}/fork", {"new_name": "docs"}),
    ("GET", "{db}/collections/{c}/fork_count", None),
    ("GET", "{db}/collections/{c}/indexing_status", None),
    ("POST", "{db}/collections/{c}/search", {"searches": []}),
    ("GET", "{db}/collections/{c}/functions/f", None),
    ("GET", "/collections/{tenant}:{database}:docs", None),
]


@pytest.mark.parametrize(("method", "template", "body"), DATABASE_ENDPOINTS, ids=str)
def test_database_endpoints_answer_only_tokens_that_reach_the_database(
    server: Server, method: str, template: str, body: Any
) -> None:
    for tenant, database in DATABASES:
        path = template.format(
            db=f"/tenants/{tenant}/databases/{database}",
            c=_collection_id(server, tenant, database),
            tenant=tenant,
            database=database,
        )
        for token in TOKENS:
            refused = _forbidden(server, token, method, path, body)
            assert refused is not _may_reach(token, tenant, database), (token, method, path)


def test_a_refused_write_writes_nothing(server: Server) -> None:
    path = f"/tenants/acme/databases/db2/collections/{_collection_id(server, 'acme', 'db2')}"
    assert _forbidden(server, D1, "POST", path + "/add", {"ids": ["x"], "embeddings": [[0, 1]]})
    assert _call(server, ROOT, "GET", path + "/count") == (200, 1)


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"),
    [
        ("GET", "/tenants", None, {ROOT}),
        ("POST", "/tenants", {"name": "made-by-a-token"}, {ROOT}),
        ("GET", "/tenants/acme", None, {ROOT, TENANT, D1}),
        ("GET", "/tenants/other", None, {ROOT}),
        ("PATCH", "/tenants/acme", {"resource_name": "r"}, {ROOT, TENANT}),
        ("PATCH", "/tenants/other", {"resource_name": "r"}, {ROOT}),
        ("GET", "/tenants/acme/databases", None, {ROOT, TENANT, D1}),
        ("GET", "/tenants/other/databases", None, {ROOT}),
        ("POST", "/tenants/acme/databases", {"name": "db1"}, {ROOT, TENANT}),
        ("POST", "/tenants/other/databases", {"name": "db1"}, {ROOT}),
        ("DELETE", "/tenants/acme/databases/no-such-database", None, {ROOT, TENANT}),
        ("DELETE", "/tenants/other/databases/no-such-database", None, {ROOT}),
        ("POST", "/reset", None, {ROOT}),
        ("GET", "/auth/identity", None, {ROOT, TENANT, D1}),
        ("GET", "/collections/not-a-crn", None, {ROOT}),
        ("GET", "/no/such/path", None, {ROOT}),
    ],
    ids=str,
)
def test_server_and_tenant_endpoints_answer_only_the_tokens_the_docs_name(
    server: Server, method: str, path: str, body: Any, allowed: set[str]
) -> None:
    for token in TOKENS:
        assert _forbidden(server, token, method, path, body) is (token not in allowed), token


def test_a_database_token_cannot_delete_even_its_own_database(server: Server) -> None:
    assert _forbidden(server, D1, "DELETE", "/tenants/acme/databases/db1")
    assert _call(server, ROOT, "GET", "/tenants/acme/databases/db1")[0] == 200


def test_a_database_token_lists_only_its_databases(server: Server) -> None:
    names = {token: _call(server, token, "GET", "/tenants/acme/databases")[1] for token in TOKENS}
    assert [d["name"] for d in names[D1]] == ["db1"]
    assert {"db1", "db2"} <= {d["name"] for d in names[TENANT]}
    assert names[ROOT] == names[TENANT]


def test_a_database_tokens_list_is_paged_after_the_filter(server: Server) -> None:
    listed = _call(server, D1, "GET", "/tenants/acme/databases?limit=1&offset=1")
    assert listed == (200, [])
    listed = _call(server, D1, "GET", "/tenants/acme/databases?limit=1")
    assert [d["name"] for d in listed[1]] == ["db1"]


def test_a_tenant_token_creates_and_deletes_databases_of_its_tenant(server: Server) -> None:
    assert _call(server, TENANT, "POST", "/tenants/acme/databases", {"name": "db3"}) == (200, {})
    assert _call(server, TENANT, "DELETE", "/tenants/acme/databases/db3") == (200, {})
    assert _call(server, ROOT, "GET", "/tenants/acme/databases/db3")[0] == 404


def test_chromadbs_http_client_works_with_a_database_token(server: Server) -> None:
    chromadb = pytest.importorskip("chromadb")
    client = chromadb.HttpClient(
        host=server.host,
        port=server.port,
        tenant="acme",
        database="db1",
        headers={"x-chroma-token": D1},
        settings=chromadb.config.Settings(anonymized_telemetry=False),
    )
    collection = client.get_or_create_collection("langchain", embedding_function=None)
    collection.upsert(ids=["l1"], embeddings=[[0.0, 1.0]], documents=["chunk"])
    assert collection.query(query_embeddings=[[0.0, 1.0]], n_results=1)["ids"] == [["l1"]]
    assert "langchain" in [c.name for c in client.list_collections()]
