"""`achroma run` fuzzed against its own OpenAPI contract (issue 13): every operation of
tests/fixtures/chroma-openapi.json, with path values, query strings and bodies drawn by
tests/contract_requests.py, mostly following the schema and sometimes breaking it.

Whatever it is sent, the server answers within `BOUND_SECS`, never with a 5xx but the
documented ones, with Chroma's error body (`{"error": ..., "message": ...}`) on every 4xx, and
still answers its heartbeat afterwards. In process (the ASGI app, fast) and once over a real
`achroma run` (uvicorn's HTTP layer). `ACHROMA_LONG_TESTS=1` runs many more examples.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, given, settings

from contract_requests import (
    SEEDED_COLLECTION,
    SEEDED_DATABASE,
    SEEDED_TENANT,
    Call,
    Operation,
    Seeded,
    calls,
    operations,
)
from http_servers import Server

pytest.importorskip("starlette")

from starlette.applications import Starlette  # noqa: E402
from starlette.routing import Match  # noqa: E402

from achroma.engine.catalog import RENAME_CONFLICT  # noqa: E402
from achroma.engine.local import LocalBackend  # noqa: E402
from achroma.server import ServerConfig, create_app  # noqa: E402

LONG = os.environ.get("ACHROMA_LONG_TESTS") == "1"
BOUND_SECS = 10.0
DB = "/api/v2/tenants/default_tenant/databases/default_database"

Send = Callable[..., httpx.Response]  # (method, url, content=, headers=, params=) -> response

# The 5xx answers allowed: the contract's 501s for what a single-node Chroma has not
# implemented either, healthcheck's 503 when the store cannot be reached, and the 500s that
# `chroma run` itself answers (achroma keeps them; the embedded client raises InternalError).
UNIMPLEMENTED = {"fork_count", "search", "attach", "detach"}
CHROMAS_OWN_500S = {
    ("GET", "indexing_status", "Method scout_logs is not implemented"),
    # `query` with `ids` naming a record the collection does not hold.
    ("POST", "query", "Error executing plan: Internal error: Error finding id"),
    # Renaming a collection to a name taken in its database.
    ("PUT", "collections", RENAME_CONFLICT),
}


def _seed(send: Send) -> dict[Seeded, str]:
    """The tenant, databases and collection the requests name, made again if a request deleted
    or reset them."""
    post = _poster(send)
    post("/api/v2/tenants", {"name": SEEDED_TENANT})
    post(f"/api/v2/tenants/{SEEDED_TENANT}/databases", {"name": SEEDED_DATABASE})
    post("/api/v2/tenants/default_tenant/databases", {"name": "default_database"})
    created = post(DB + "/collections", {"name": SEEDED_COLLECTION, "get_or_create": True})
    assert created.status_code == 200, created.text
    cid = created.json()["id"]
    rows = range(5)
    records = {
        "ids": [f"r{i}" for i in rows],
        "embeddings": [[float(i), 1.0, -float(i)] for i in rows],
        "metadatas": [{"n": i, "k": f"v{i % 2}", "tags": ["a", f"t{i}"], "f": i / 2} for i in rows],
        "documents": [f"document {i}" for i in rows],
    }
    post(f"{DB}/collections/{cid}/upsert", records)
    return {Seeded.COLLECTION_ID: cid}


def _poster(send: Send) -> Callable[[str, Any], httpx.Response]:
    def post(url: str, body: Any) -> httpx.Response:
        headers = {"content-type": "application/json"}
        return send("POST", url, content=json.dumps(body).encode(), headers=headers)

    return post


def _is_error_body(content: bytes) -> bool:
    try:
        body = json.loads(content)
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and isinstance(body.get("error"), str)
        and isinstance(body.get("message"), str)
    )


def _chromas_own_500(operation: Operation, content: bytes) -> bool:
    body = json.loads(content)
    known = (operation.method, operation.name, body.get("message"))
    return body.get("error") == "InternalError" and known in CHROMAS_OWN_500S


def _check(call: Call, response: httpx.Response) -> None:
    status, content, name = response.status_code, response.content, call.operation.name
    where = f"{call!r} answered {status} {content[:400]!r}"
    assert response.elapsed.total_seconds() < BOUND_SECS, where
    if status >= 500:
        documented = (
            (status == 501 and name in UNIMPLEMENTED)
            or (status == 503 and name == "healthcheck")
            or (status == 500 and _chromas_own_500(call.operation, content))
        )
        assert documented, where
    if status >= 400:
        if not content and status in (404, 405):
            assert call.may_miss_routes, where  # a path no route matches, as Chroma answers it
        else:
            assert _is_error_body(content), where
    elif status < 300:
        json.loads(content)  # every success is JSON


def _exchange(send: Send, seeded: Mapping[Seeded, str], call: Call) -> None:
    headers = {} if call.content_type is None else {"content-type": call.content_type}
    response = send(
        call.operation.method,
        call.url(seeded),
        params=call.query,
        content=call.body,
        headers=headers,
    )
    _check(call, response)


def _fuzz(send: Send, examples: int, choices: list[Operation] | None = None) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(call=calls(choices))
    def answers_within_the_contract(call: Call) -> None:
        _exchange(send, _seed(send), call)

    answers_within_the_contract()
    assert send("GET", "/api/v2/heartbeat").status_code == 200


@contextmanager
def serving(app: Starlette) -> Iterator[Send]:
    """`app` on a private event loop, each request answered within `BOUND_SECS` (or a
    `TimeoutError`), even if it blocks that loop."""
    with ExitStack() as stack:
        portal = stack.enter_context(start_blocking_portal())
        stack.enter_context(portal.wrap_async_context_manager(app.router.lifespan_context(app)))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://achroma.test"
        )
        stack.callback(portal.call, client.aclose)

        def send(method: str, url: str, **kwargs: Any) -> httpx.Response:
            future = portal.start_task_soon(lambda: client.request(method, url, **kwargs))
            return future.result(timeout=BOUND_SECS)

        yield send


@pytest.fixture
def in_process() -> Iterator[Send]:
    with serving(create_app(ServerConfig(path=None, allow_reset=True))) as send:
        yield send


def test_every_operation_of_the_contract_has_a_route() -> None:
    app = create_app(ServerConfig(path=None))
    for operation in operations():
        url = re.sub(r"{[^}]+}", "x", operation.path)
        scope = {"type": "http", "method": operation.method, "path": url}
        matches = [route.matches(scope)[0] for route in app.routes]
        assert Match.FULL in matches, operation


# Vectors past float32's range are sent on purpose: numpy warns as it casts them, and as it
# finds the infinite distances (chromadb's answers too) of the query vectors among them.
@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_the_app_answers_fuzzed_requests_within_the_contract(in_process: Send) -> None:
    _fuzz(in_process, 3_000 if LONG else 250)


def test_a_real_server_answers_fuzzed_requests_within_the_contract(
    achroma_server: Server,
) -> None:
    with httpx.Client(base_url=achroma_server.url, timeout=BOUND_SECS) as client:
        _fuzz(client.request, 500 if LONG else 40)


def test_the_fuzzer_finds_a_500(in_process: Send, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("segment")

    monkeypatch.setattr(LocalBackend, "count", broken)
    counts = [op for op in operations() if op.name == "count"]
    with pytest.raises(AssertionError, match="answered 500"):
        _fuzz(in_process, 20, counts)


# --- what the fuzzer found ---


@pytest.mark.parametrize("row", ["É", "AAA\u00e9", "\U0001f9ea==="])
def test_base64_embeddings_that_are_not_ascii_are_a_400(in_process: Send, row: str) -> None:
    cid = _seed(in_process)[Seeded.COLLECTION_ID]
    response = _poster(in_process)(
        f"{DB}/collections/{cid}/add", {"ids": ["x"], "embeddings": [row]}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "InvalidArgumentError"
    assert response.json()["message"].startswith("Invalid base64 string: ")
