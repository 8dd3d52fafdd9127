"""CORS on `achroma run`, from Chroma's `chroma_server_cors_allow_origins` setting (the
environment variable is checked end to end in test_http_server.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from achroma.server import ServerConfig, create_app  # noqa: E402
from achroma.server.token_auth import Tokens  # noqa: E402

T = "/api/v2/tenants/default_tenant/databases/default_database"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(ServerConfig(path=None))) as test_client:
        yield test_client


ORIGIN = {"origin": "http://app.example"}
PREFLIGHT = {**ORIGIN, "access-control-request-method": "POST"}


def test_no_cors_headers_unless_origins_are_allowed(client: TestClient) -> None:
    response = client.get("/api/v2/heartbeat", headers=ORIGIN)
    assert "access-control-allow-origin" not in response.headers


def test_an_allowed_origin_gets_cors_headers() -> None:
    config = ServerConfig(path=None, cors_allow_origins=("http://app.example",))
    with TestClient(create_app(config)) as test_client:
        response = test_client.get("/api/v2/heartbeat", headers=ORIGIN)
    assert response.headers["access-control-allow-origin"] == "http://app.example"


def test_a_cors_preflight_needs_no_token() -> None:
    config = ServerConfig(
        path=None, cors_allow_origins=("*",), tokens=Tokens.single("secret-token")
    )
    with TestClient(create_app(config)) as test_client:
        preflight = test_client.options(T + "/collections", headers=PREFLIGHT)
        refused = test_client.post(T + "/collections", json={"name": "abc"}, headers=ORIGIN)
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert refused.status_code == 401
