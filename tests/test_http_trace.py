"""Wire details chromadb's own clients rely on: the heartbeat at `GET /api/v2`, and a
`chroma-trace-id` header on every error, kept as the error's `trace_id`."""

from __future__ import annotations

import asyncio

import httpx
import pytest

import achroma
from http_servers import Server


def test_the_api_root_answers_a_heartbeat(achroma_server: Server) -> None:
    response = httpx.get(f"{achroma_server.url}/api/v2")
    assert response.status_code == 200
    assert response.json()["nanosecond heartbeat"] > 0


def test_every_error_carries_a_trace_id(achroma_server: Server) -> None:
    missing = httpx.get(f"{achroma_server.api}/tenants/no-such-tenant")
    bad = httpx.post(f"{achroma_server.api}/tenants", json={"name": 1})
    for response in (missing, bad):
        assert response.status_code >= 400
        assert len(response.headers["chroma-trace-id"]) == 32


def test_achroma_http_errors_keep_the_trace_id(achroma_server: Server) -> None:
    client = achroma.HttpClient(host="127.0.0.1", port=achroma_server.port)
    with pytest.raises(achroma.NotFoundError) as raised:
        client.get_collection("no-such-collection")
    assert raised.value.trace_id is not None and len(raised.value.trace_id) == 32
    client.close()


def test_chromadbs_async_client_heartbeat_works(achroma_server: Server) -> None:
    chromadb = pytest.importorskip("chromadb")

    async def beat() -> int:
        client = await chromadb.AsyncHttpClient(host="127.0.0.1", port=achroma_server.port)
        return int(await client.heartbeat())

    assert asyncio.run(beat()) > 0
