"""achroma's HTTP clients: constructors, settings, connections, errors and concurrency."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import numpy as np
import pytest

import achroma
from achroma.clients import AsyncClientFromSettings
from achroma.errors import ClientClosedError
from achroma.http.client import HttpBackend
from http_servers import Server, free_port

pytestmark = pytest.mark.anyio


def _http_settings(server: Server, **kw: Any) -> achroma.Settings:
    return achroma.Settings(
        chroma_api_impl="chromadb.api.fastapi.FastAPI",
        chroma_server_host=server.host,
        chroma_server_http_port=server.port,
        **kw,
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"chroma_server_host": "elsewhere"},
            r"Chroma server host provided in settings\[elsewhere\] is different to the one "
            r"provided in HttpClient: \[localhost\]",
        ),
        (
            {"chroma_server_http_port": 9999},
            r"Chroma server http port provided in settings\[9999\] is different to the one "
            r"provided in HttpClient: \[8000\]",
        ),
    ],
)
async def test_settings_naming_another_server_are_refused(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await achroma.AsyncHttpClient(settings=achroma.Settings(**settings))
    with pytest.raises(ValueError, match=message):
        await anyio.to_thread.run_sync(
            lambda: achroma.HttpClient(settings=achroma.Settings(**settings))
        )


async def test_an_unreachable_server_is_a_value_error_as_in_chromadb() -> None:
    with pytest.raises(ValueError, match="Could not connect to a Chroma server"):
        await achroma.AsyncHttpClient(host="127.0.0.1", port=free_port())


async def test_headers_and_token_reach_the_server() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"nanosecond heartbeat": 42})

    settings = achroma.Settings(
        chroma_server_host="db.example",
        chroma_server_http_port=1234,
        chroma_server_headers={"X-Team": "search"},
        chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
        chroma_client_auth_credentials="s3cret",
        chroma_auth_token_transport_header="X-Chroma-Token",
    )
    backend = HttpBackend.from_settings(settings, transport=httpx.MockTransport(answer))
    assert await backend.heartbeat() == 42
    await backend.close()
    (request,) = seen
    assert str(request.url) == "http://db.example:1234/api/v2/heartbeat"
    assert request.headers["x-team"] == "search"
    assert request.headers["x-chroma-token"] == "s3cret"


async def test_the_sync_client_wraps_the_async_one(achroma_server: Server) -> None:
    client = await anyio.to_thread.run_sync(
        lambda: achroma.HttpClient(host=achroma_server.host, port=achroma_server.port)
    )
    assert isinstance(client, achroma.ClientAPI)
    collection = await anyio.to_thread.run_sync(
        lambda: client.get_or_create_collection("sync_wrapped", embedding_function=None)
    )
    assert isinstance(collection, achroma.Collection)
    await anyio.to_thread.run_sync(client.close)


async def test_client_from_settings_selects_http(achroma_server: Server) -> None:
    client = await AsyncClientFromSettings(_http_settings(achroma_server))
    assert await client.heartbeat() > 0
    await client.close()
    sync_client = await anyio.to_thread.run_sync(
        lambda: achroma.Client(_http_settings(achroma_server))
    )
    assert await anyio.to_thread.run_sync(sync_client.heartbeat) > 0
    await anyio.to_thread.run_sync(sync_client.close)


async def test_admin_client_over_http_lists_tenants(achroma_server: Server) -> None:
    admin = await achroma.AsyncAdminClient(_http_settings(achroma_server))
    await admin.create_tenant("listed_tenant")
    names = [t["name"] for t in await admin.list_tenants()]
    assert {"default_tenant", "listed_tenant"} <= set(names)
    await admin.close()


async def test_a_closed_client_refuses_calls(achroma_server: Server) -> None:
    async with await achroma.AsyncHttpClient(
        host=achroma_server.host, port=achroma_server.port
    ) as client:
        assert await client.heartbeat() > 0
    with pytest.raises(ClientClosedError):
        await client.heartbeat()


async def test_errors_arrive_as_their_class_with_their_message(achroma_server: Server) -> None:
    client = await achroma.AsyncHttpClient(host=achroma_server.host, port=achroma_server.port)
    with pytest.raises(achroma.NotFoundError, match=r"^Collection \[absent\] does not exist$"):
        await client.get_collection("absent", embedding_function=None)
    collection = await client.get_or_create_collection("dims", embedding_function=None)
    await collection.upsert(ids=["a"], embeddings=[[1.0, 2.0]])
    with pytest.raises(ValueError, match="expecting embedding with dimension of 2, got 3"):
        await collection.add(ids=["b"], embeddings=[[1.0, 2.0, 3.0]])
    await client.close()


async def test_sixty_four_concurrent_queries_share_one_client(achroma_server: Server) -> None:
    client = await achroma.AsyncHttpClient(host=achroma_server.host, port=achroma_server.port)
    collection = await client.get_or_create_collection("concurrent", embedding_function=None)
    vectors = np.random.default_rng(3).random((200, 8), dtype=np.float32)
    await collection.upsert(ids=[f"r{i}" for i in range(200)], embeddings=vectors)
    found: dict[int, str] = {}

    async def nearest(i: int) -> None:
        result = await collection.query(query_embeddings=vectors[i], n_results=1, include=[])
        found[i] = result["ids"][0][0]

    async with anyio.create_task_group() as tasks:
        for i in range(64):
            tasks.start_soon(nearest, i)
    assert found == {i: f"r{i}" for i in range(64)}
    await client.close()
