"""How `achroma run` answers errors: by their type alone. achroma's own errors keep their
statuses; client-side validation is a 400; anything else is a bug, answered 500 with a request
id and logged with its traceback (issue 12)."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from achroma.engine.local import LocalBackend
from achroma.errors import AlreadyExistsError, InternalError

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from achroma.server import ServerConfig, create_app  # noqa: E402

T = "/api/v2/tenants/default_tenant/databases/default_database"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(ServerConfig(path=None))) as test_client:
        yield test_client


@pytest.fixture
def cid(client: TestClient) -> str:
    created = client.post(T + "/collections", json={"name": "docs"})
    collection_id: str = created.json()["id"]
    return collection_id


def _fail_with(monkeypatch: pytest.MonkeyPatch, method: str, exc: Exception) -> None:
    async def fail(*args: Any, **kwargs: Any) -> Any:
        raise exc

    monkeypatch.setattr(LocalBackend, method, fail)


def test_a_bug_in_the_store_is_a_500_naming_a_request_id(
    client: TestClient, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_with(monkeypatch, "count", KeyError("segment"))
    response = client.get(f"{T}/collections/{cid}/count")
    body = response.json()
    assert response.status_code == 500
    assert body["error"] == "InternalError"
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["request_id"] in body["message"]


def test_a_bug_in_the_store_is_logged_with_its_traceback_and_request_id(
    client: TestClient, cid: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _fail_with(monkeypatch, "count", KeyError("segment"))
    with caplog.at_level(logging.ERROR, logger="achroma.server"):
        response = client.get(f"{T}/collections/{cid}/count")
    [record] = [r for r in caplog.records if r.name == "achroma.server"]
    assert response.headers["x-request-id"] in record.getMessage()
    assert record.exc_info is not None
    assert "KeyError: 'segment'" in caplog.text  # the cause, with its traceback
    assert "in fail" in caplog.text


@pytest.mark.parametrize("exc", [ValueError("bad"), TypeError("bad"), AttributeError("bad")])
def test_a_value_or_type_error_from_the_store_is_a_500_not_a_400(
    client: TestClient, cid: str, monkeypatch: pytest.MonkeyPatch, exc: Exception
) -> None:
    _fail_with(monkeypatch, "get", exc)
    response = client.post(f"{T}/collections/{cid}/get", json={})
    assert response.status_code == 500
    assert response.json()["error"] == "InternalError"


def test_a_bug_in_a_store_call_of_the_server_itself_is_a_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_with(monkeypatch, "get_max_batch_size", IndexError("oops"))
    assert client.get("/api/v2/pre-flight-checks").status_code == 500


def test_client_side_validation_is_still_a_400_with_chromadbs_message(
    client: TestClient, cid: str
) -> None:
    response = client.post(f"{T}/collections/{cid}/add", json={"ids": [1], "embeddings": [[1]]})
    assert (response.status_code, response.json()) == (
        400,
        {"error": "InvalidArgumentError", "message": "Expected ID to be a str, got 1 in add."},
    )
    assert "x-request-id" not in response.headers


def test_a_missing_collection_is_still_a_404(client: TestClient) -> None:
    response = client.get(T + "/collections/nope")
    assert (response.status_code, response.json()) == (
        404,
        {"error": "NotFoundError", "message": "Collection [nope] does not exist"},
    )


@pytest.mark.parametrize(
    ("path", "name", "message"),
    [
        ("/api/v2/tenants", "default_tenant", "Tenant [default_tenant] already exists"),
        (
            "/api/v2/tenants/default_tenant/databases",
            "default_database",
            "Database [default_database] already exists",
        ),
        (T + "/collections", "docs", "Collection [docs] already exists"),
    ],
)
def test_an_existing_name_is_a_409(
    client: TestClient, cid: str, path: str, name: str, message: str
) -> None:
    response = client.post(path, json={"name": name})
    assert (response.status_code, response.json()) == (
        409,
        {"error": "ChromaError", "message": message},
    )


def test_the_409_comes_from_the_error_type_not_its_message(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An internal error that happens to end with "already exists" (SQLite says so of tables).
    _fail_with(monkeypatch, "create_tenant", InternalError("table tenants already exists"))
    response = client.post("/api/v2/tenants", json={"name": "acme"})
    assert (response.status_code, response.json()) == (
        500,
        {"error": "InternalError", "message": "table tenants already exists"},
    )


def test_already_exists_is_an_internal_error_to_the_embedded_client() -> None:
    exc = AlreadyExistsError("Collection [docs] already exists")
    assert isinstance(exc, InternalError)
    assert type(exc).__name__ == "InternalError"
    assert repr(exc) == "InternalError('Collection [docs] already exists')"
    assert exc.code == 500 and exc.name() == "InternalError"
    assert type(pickle.loads(pickle.dumps(exc))) is AlreadyExistsError
