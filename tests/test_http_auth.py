"""Token auth on `achroma run`, and CloudClient against it (issue 4, items 3 and 4)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

import achroma
from achroma.errors import AuthorizationError, ChromaAuthError
from http_servers import Server, needs_server_extra, start_achroma

pytestmark = pytest.mark.anyio

USERS = {
    "users": [
        {"id": "admin", "tokens": ["admin-token"]},
        {"id": "alice", "tokens": ["alice-token"], "tenant": "acme", "databases": ["main"]},
    ]
}
ACME = "/tenants/acme/databases/main"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    needs_server_extra()
    home = tmp_path_factory.mktemp("auth")
    (home / "users.json").write_text(json.dumps(USERS))
    server = start_achroma(home / "data", "--token-file", str(home / "users.json"))
    admin = {"x-chroma-token": "admin-token"}
    httpx.post(server.api + "/tenants", json={"name": "acme"}, headers=admin).raise_for_status()
    httpx.post(
        server.api + "/tenants/acme/databases", json={"name": "main"}, headers=admin
    ).raise_for_status()
    yield server
    server.stop()


def _get(server: Server, path: str, **headers: str) -> tuple[int, Any]:
    response = httpx.get(server.api + path, headers=headers)
    return response.status_code, response.json()


def test_public_endpoints_need_no_token(auth_server: Server) -> None:
    for path in ("/heartbeat", "/healthcheck", "/version", "/pre-flight-checks"):
        assert _get(auth_server, path)[0] == 200


def test_a_missing_token_is_401(auth_server: Server) -> None:
    assert _get(auth_server, "/tenants/acme") == (
        401,
        {"error": "AuthorizationError", "message": "Unauthorized: no token was sent"},
    )


def test_a_wrong_token_is_403(auth_server: Server) -> None:
    assert _get(auth_server, "/tenants/acme", authorization="Bearer nope") == (
        403,
        {"error": "AuthError", "message": "Forbidden"},
    )


@pytest.mark.parametrize(
    "headers", [{"x-chroma-token": "admin-token"}, {"authorization": "Bearer admin-token"}]
)
def test_both_token_headers_are_accepted(auth_server: Server, headers: dict[str, str]) -> None:
    assert _get(auth_server, "/tenants/acme", **headers) == (
        200,
        {"name": "acme", "resource_name": None},
    )


def test_a_bound_token_reaches_only_its_tenant_and_databases(auth_server: Server) -> None:
    alice = {"x-chroma-token": "alice-token"}
    assert _get(auth_server, ACME + "/collections", **alice)[0] == 200
    for path in (
        "/tenants/default_tenant",
        "/tenants/default_tenant/databases/default_database/collections",
        "/tenants/acme/databases/other/collections",
        "/tenants",
    ):
        assert _get(auth_server, path, **alice) == (
            403,
            {"error": "AuthError", "message": "Forbidden"},
        ), path
    refused = httpx.post(auth_server.api + "/reset", headers=alice)
    assert refused.status_code == 403


def test_identity_is_the_tokens_user(auth_server: Server) -> None:
    assert _get(auth_server, "/auth/identity", **{"x-chroma-token": "alice-token"}) == (
        200,
        {"user_id": "alice", "tenant": "acme", "databases": ["main"]},
    )


async def test_clients_raise_chromas_auth_errors(auth_server: Server) -> None:
    with pytest.raises(AuthorizationError):
        await achroma.AsyncHttpClient(host=auth_server.host, port=auth_server.port)
    settings = achroma.Settings(
        chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
        chroma_client_auth_credentials="wrong",
    )
    with pytest.raises(ChromaAuthError):
        await achroma.AsyncHttpClient(
            host=auth_server.host, port=auth_server.port, settings=settings
        )


@pytest.mark.parametrize("header", ["Authorization", "X-Chroma-Token"])
async def test_http_clients_send_the_configured_token(auth_server: Server, header: str) -> None:
    settings = achroma.Settings(
        chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
        chroma_client_auth_credentials="admin-token",
        chroma_auth_token_transport_header=header,
    )
    client = await achroma.AsyncHttpClient(
        host=auth_server.host, port=auth_server.port, settings=settings
    )
    before = await client.count_collections()
    await client.create_collection(f"sent-in-{header.lower()}", embedding_function=None)
    assert await client.count_collections() == before + 1
    await client.close()


async def test_cloud_client_takes_tenant_and_database_from_the_keys_identity(
    auth_server: Server,
) -> None:
    client = await achroma.AsyncCloudClient(
        api_key="alice-token",
        cloud_host=auth_server.host,
        cloud_port=auth_server.port,
        enable_ssl=False,
    )
    assert (client.tenant, client.database) == ("acme", "main")
    collection = await client.get_or_create_collection("notes", embedding_function=None)
    await collection.upsert(ids=["n1"], embeddings=[[1.0, 0.0]])
    assert await collection.count() == 1
    await client.close()


async def test_cloud_client_refuses_a_tenant_its_key_does_not_reach(auth_server: Server) -> None:
    with pytest.raises(ChromaAuthError, match="Tenant other does not match acme"):
        await achroma.AsyncCloudClient(
            tenant="other",
            api_key="alice-token",
            cloud_host=auth_server.host,
            cloud_port=auth_server.port,
            enable_ssl=False,
        )


async def test_cloud_client_reads_its_key_from_the_environment(
    auth_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHROMA_API_KEY", "alice-token")
    client = await anyio.to_thread.run_sync(
        lambda: achroma.CloudClient(
            cloud_host=auth_server.host, cloud_port=auth_server.port, enable_ssl=False
        )
    )
    assert client.tenant == "acme"
    await anyio.to_thread.run_sync(client.close)


def test_cloud_client_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHROMA_API_KEY", raising=False)
    with pytest.raises(ValueError, match="Missing required arguments: api_key"):
        achroma.CloudClient()


def test_chromadb_clients_work_against_a_token_server(auth_server: Server) -> None:
    chromadb = pytest.importorskip("chromadb")
    cloud = chromadb.CloudClient(
        api_key="alice-token",
        cloud_host=auth_server.host,
        cloud_port=auth_server.port,
        enable_ssl=False,
        settings=chromadb.config.Settings(anonymized_telemetry=False),
    )
    assert (cloud.tenant, cloud.database) == ("acme", "main")
    collection = cloud.get_or_create_collection("from_chromadb", embedding_function=None)
    collection.upsert(ids=["c1"], embeddings=[[0.5, 0.5]])
    assert collection.count() == 1
    with pytest.raises(chromadb.errors.ChromaAuthError):
        chromadb.HttpClient(
            host=auth_server.host,
            port=auth_server.port,
            settings=chromadb.config.Settings(
                anonymized_telemetry=False,
                chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
                chroma_client_auth_credentials="wrong-token",
            ),
        )


def test_a_yaml_users_file_is_read(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    needs_server_extra()
    from achroma.server.token_auth import Tokens, User

    users = tmp_path / "users.yaml"
    users.write_text("users:\n  - id: bob\n    tokens: [bob-token]\n    tenant: acme\n")
    assert Tokens.from_file(users).users == {"bob-token": User("bob", "acme", ("*",))}
