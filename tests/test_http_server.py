"""`achroma run` on the wire: status codes and bodies as `chroma run` answers them, and the
server's own duties (reset switch, body limit, access logs, graceful shutdown)."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from http_servers import Server, needs_server_extra, start_achroma

T = "/tenants/default_tenant/databases/default_database"


@pytest.fixture(scope="module")
def servers(chroma_server: Server, achroma_server: Server) -> dict[str, Server]:
    return {"chroma": chroma_server, "achroma": achroma_server}


def _exchange(server: Server, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    response = httpx.request(method, server.api + path, json=body, timeout=30, **kw)
    try:
        content = _comparable(response.json())
    except ValueError:
        content = response.text
    return response.status_code, content


def _comparable(body: Any) -> Any:
    """Chroma's schema also lists each metadata key seen in the records; achroma's lists only
    the document and embedding keys."""
    if isinstance(body, dict) and isinstance(body.get("schema"), dict):
        keys = body["schema"].get("keys", {})
        body["schema"]["keys"] = {k: v for k, v in keys.items() if k.startswith("#")}
    return body


def _fresh_collection(server: Server) -> str:
    httpx.post(server.api + "/reset", timeout=30).raise_for_status()
    created = httpx.post(
        server.api + T + "/collections",
        json={"name": "docs", "metadata": {"a": 1}, "configuration": {"hnsw": {"space": "l2"}}},
    )
    cid: str = created.json()["id"]
    httpx.post(
        server.api + f"{T}/collections/{cid}/add",
        json={
            "ids": ["a", "b"],
            "embeddings": [[1, 0, 0], [0, 1, 0]],
            "metadatas": [{"k": 1}, {"k": 2}],
            "documents": ["hello", "world"],
        },
    ).raise_for_status()
    return cid


MISSING = "00000000-0000-0000-0000-000000000001"

# Requests whose answer (status and body) must be the same from both servers. `{cid}` is the
# id of a collection "docs" holding records a and b.
SAME_ANSWERS: list[tuple[str, str, Any]] = [
    ("GET", "/pre-flight-checks", None),
    ("GET", "/auth/identity", None),
    ("GET", "/version-does-not-exist", None),
    ("POST", "/heartbeat", None),
    ("GET", "/tenants/default_tenant", None),
    ("GET", "/tenants/no_such_tenant", None),
    ("POST", "/tenants", {}),
    ("GET", T + "/collections/docs", None),
    ("GET", T + "/collections/nope", None),
    ("GET", T + "/collections/by-id/{cid}", None),
    ("GET", T + "/collections/by-id/" + MISSING, None),
    ("GET", T + "/collections/by-id/not-a-uuid", None),
    ("GET", T + "/collections_count", None),
    ("GET", T + "/collections?limit=abc", None),
    ("GET", T + "/collections?offset=-1", None),
    ("POST", T + "/collections", {"name": "docs"}),
    ("POST", T + "/collections", {"name": "a"}),
    ("PUT", T + "/collections/" + MISSING, {"new_name": "other"}),
    ("PUT", T + "/collections/not-a-uuid", {"new_name": "other"}),
    ("GET", T + "/collections/{cid}/count", None),
    ("GET", T + "/collections/" + MISSING + "/count", None),
    ("POST", T + "/collections/" + MISSING + "/get", {}),
    ("POST", T + "/collections/not-a-uuid/get", {}),
    ("POST", T + "/collections/{cid}/add", {"ids": ["c"]}),
    ("POST", T + "/collections/{cid}/add", {"ids": ["c"], "embeddings": [[1, 0]]}),
    ("POST", T + "/collections/{cid}/add", {"ids": [""], "embeddings": [[1, 0, 0]]}),
    ("POST", T + "/collections/{cid}/add", {"ids": ["c"], "embeddings": ["AAA"]}),
    ("POST", T + "/collections/{cid}/query", {"n_results": 1}),
    ("POST", T + "/collections/{cid}/query", {"query_embeddings": [[1, 0]], "n_results": 1}),
    (
        "POST",
        T + "/collections/{cid}/query",
        {"query_embeddings": [[1, 0, 0]], "n_results": 1, "ids": ["nope"]},
    ),
    (
        "POST",
        T + "/collections/{cid}/query",
        {"query_embeddings": [[1, 0.1, 0]], "n_results": 1, "include": ["documents"]},
    ),
    (
        "POST",
        T + "/collections/{cid}/get",
        {"where": {"k": {"$gt": 1}}, "include": ["documents", "embeddings"]},
    ),
    ("POST", T + "/collections/{cid}/get", {"ids": ["b", "nope"], "include": ["metadatas"]}),
    ("POST", T + "/collections/{cid}/delete", {"ids": ["nope"]}),
    ("GET", T + "/collections/{cid}/functions/nope", None),
    ("GET", "/collections/not-a-crn", None),
]


_prepared: dict[str, str] = {}


def _prepared_collection(server: Server) -> str:
    """The "docs" collection of `_fresh_collection`, made once per server (none of the
    SAME_ANSWERS requests changes it) and made again if another test reset the server."""
    cid = _prepared.get(server.url)
    if cid is None or httpx.get(f"{server.api}{T}/collections/by-id/{cid}").status_code != 200:
        cid = _prepared[server.url] = _fresh_collection(server)
    return cid


@pytest.mark.parametrize(("method", "path", "body"), SAME_ANSWERS, ids=lambda v: str(v)[:60])
def test_answers_like_chroma(servers: dict[str, Server], method: str, path: str, body: Any) -> None:
    answers = {}
    for name, server in servers.items():
        cid = _prepared_collection(server)
        status, content = _exchange(server, method, path.replace("{cid}", cid), body)
        answers[name] = (status, json.loads(json.dumps(content).replace(cid, "<cid>")))
    assert answers["achroma"] == answers["chroma"]


def test_collection_bodies_have_chromas_fields(servers: dict[str, Server]) -> None:
    bodies = {}
    for name, server in servers.items():
        _fresh_collection(server)
        bodies[name] = _comparable(httpx.get(server.api + T + "/collections/docs").json())
        bodies[name].pop("id")
    assert bodies["achroma"] == bodies["chroma"]


def test_unknown_content_type_is_refused(servers: dict[str, Server]) -> None:
    for server in servers.values():
        response = httpx.post(
            server.api + "/tenants",
            content=b'{"name": "abc"}',
            headers={"content-type": "text/plain"},
        )
        assert (response.status_code, response.json()) == (
            415,
            {
                "error": "ChromaError",
                "message": "Expected request with `Content-Type: application/json`",
            },
        )


def test_v1_paths_are_gone(servers: dict[str, Server]) -> None:
    answers = {}
    for name, server in servers.items():
        response = httpx.get(server.url + "/api/v1/collections")
        answers[name] = (response.status_code, response.json())
    assert answers["achroma"] == answers["chroma"]


def test_base64_and_list_embeddings_store_the_same_vectors(achroma_server: Server) -> None:
    cid = _fresh_collection(achroma_server)
    add = achroma_server.api + f"{T}/collections/{cid}/add"
    httpx.post(add, json={"ids": ["c"], "embeddings": ["AACAPwAAAEAAAEBA"]}).raise_for_status()
    got = httpx.post(
        achroma_server.api + f"{T}/collections/{cid}/get",
        json={"ids": ["c"], "include": ["embeddings"]},
    ).json()
    assert got["embeddings"] == [[1.0, 2.0, 3.0]]


def test_records_are_scoped_to_the_tenant_and_database_in_the_path(
    achroma_server: Server,
) -> None:
    cid = _fresh_collection(achroma_server)
    httpx.post(achroma_server.api + "/tenants", json={"name": "other_tenant"})
    httpx.post(achroma_server.api + "/tenants/other_tenant/databases", json={"name": "other_db"})
    status, body = _exchange(
        achroma_server,
        "POST",
        f"/tenants/other_tenant/databases/other_db/collections/{cid}/get",
        {},
    )
    assert status == 404
    assert body == {"error": "NotFoundError", "message": f"Collection [{cid}] does not exist."}


def test_validation_follows_the_embedded_client(achroma_server: Server) -> None:
    cid = _fresh_collection(achroma_server)
    status, body = _exchange(
        achroma_server,
        "POST",
        f"{T}/collections/{cid}/add",
        {"ids": ["x", "x"], "embeddings": [[1, 0, 0], [0, 0, 1]]},
    )
    assert (status, body) == (
        400,
        {
            "error": "DuplicateID",
            "message": "Expected IDs to be unique, found duplicates of: x in add.",
        },
    )


# --- the server's own duties, each on a server of its own ---


@pytest.fixture
def achroma_dir(tmp_path: Path) -> Path:
    needs_server_extra()
    return tmp_path / "data"


@pytest.fixture
def started(achroma_dir: Path) -> Iterator[list[Server]]:
    """Servers a test starts; every one is stopped at the end."""
    made: list[Server] = []
    yield made
    for server in made:
        server.stop(signal.SIGKILL)


def test_reset_is_refused_without_allow_reset(achroma_dir: Path, started: list[Server]) -> None:
    server = start_achroma(achroma_dir)
    started.append(server)
    assert _exchange(server, "POST", "/reset") == (
        403,
        {"error": "ChromaError", "message": "Reset is disabled by config"},
    )


def test_allow_reset_comes_from_the_environment_too(
    achroma_dir: Path, started: list[Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLOW_RESET", "TRUE")
    server = start_achroma(achroma_dir)
    started.append(server)
    assert _exchange(server, "POST", "/reset") == (200, True)


def test_cors_origins_come_from_chromas_setting(
    achroma_dir: Path, started: list[Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHROMA_SERVER_CORS_ALLOW_ORIGINS", '["http://app.example"]')
    server = start_achroma(achroma_dir)
    started.append(server)
    preflight = httpx.options(
        server.api + "/tenants",
        headers={"origin": "http://app.example", "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://app.example"
    other = httpx.get(server.api + "/heartbeat", headers={"origin": "http://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers


def test_bodies_over_the_limit_get_413(achroma_dir: Path, started: list[Server]) -> None:
    server = start_achroma(achroma_dir, "--max-body-size", "1000")
    started.append(server)
    too_large = {
        "error": "ChromaError",
        "message": "Failed to buffer the request body: length limit exceeded",
    }
    big = {"name": "x" * 2000}
    assert _exchange(server, "POST", "/tenants", big) == (413, too_large)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while streaming
        yield b'{"name": "'
        yield b"y" * 2000
        yield b'"}'

    response = httpx.post(
        server.api + "/tenants", content=chunks(), headers={"content-type": "application/json"}
    )
    assert (response.status_code, response.json()) == (413, too_large)
    assert _exchange(server, "POST", "/tenants", {"name": "small"}) == (200, {})


def test_each_request_is_logged_as_one_json_line(achroma_dir: Path, started: list[Server]) -> None:
    server = start_achroma(achroma_dir)
    started.append(server)
    httpx.get(server.api + "/tenants/nope", params={"x": "1"})
    server.stop()
    entries = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    entry = next(e for e in entries if e["path"] == "/api/v2/tenants/nope")
    assert entry["method"] == "GET"
    assert entry["status"] == 404
    assert entry["query"] == "x=1"
    assert entry["ms"] >= 0 and entry["bytes"] > 0


def test_sigterm_finishes_in_flight_requests_and_closes_the_store(
    achroma_dir: Path, started: list[Server]
) -> None:
    server = start_achroma(achroma_dir)
    started.append(server)
    created = httpx.post(server.api + T + "/collections", json={"name": "kept"}).json()
    add = server.api + f"{T}/collections/{created['id']}/add"
    payload = json.dumps(
        {"ids": [f"id{i}" for i in range(1000)], "embeddings": [[i, 1.0, 2.0] for i in range(1000)]}
    ).encode()
    resume = threading.Event()
    answers: list[Any] = []

    def slow_body() -> Iterator[bytes]:
        yield payload[:100]
        resume.wait(10)  # the rest arrives only after SIGTERM
        yield payload[100:]

    def send() -> None:
        try:
            answers.append(
                httpx.post(
                    add, content=slow_body(), headers={"content-type": "application/json"}
                ).status_code
            )
        except httpx.HTTPError as exc:
            answers.append(exc)

    writer = threading.Thread(target=send)
    writer.start()
    time.sleep(1.0)  # the request is being read: its headers and first bytes are in
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    resume.set()
    writer.join(30)
    # uvicorn ends by re-raising the signal it handled, so the exit status says SIGTERM.
    assert server.process.wait(20) in (0, -signal.SIGTERM)
    assert answers == [201]
    assert "Application shutdown complete" in server.output()
    restarted = start_achroma(achroma_dir, port=server.port)
    started.append(restarted)
    count = httpx.get(restarted.api + f"{T}/collections/{created['id']}/count").json()
    assert count == 1000


def test_python_m_achroma_shows_its_usage() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "achroma", "run", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert "--allow-reset" in done.stdout
