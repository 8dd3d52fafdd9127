"""`achroma run` under abuse (issue 13, item 4): slow and oversized headers and bodies, the
cap on connections, and an expensive read beside cheap ones. Raw sockets on 127.0.0.1; every loop is bounded and every socket has
a timeout, so that no test runs longer than a few seconds."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from http_servers import Server, needs_server_extra, start_achroma

TIMEOUT = 1.0  # --header-timeout and --body-timeout of the server under test
MAX_BODY = 1000
MAX_HEADERS = 8192
TENANTS = "/api/v2/tenants"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    needs_server_extra()
    started = start_achroma(
        tmp_path_factory.mktemp("limits") / "data",
        *("--header-timeout", str(TIMEOUT), "--body-timeout", str(TIMEOUT)),
        *("--max-body-size", str(MAX_BODY), "--max-header-size", str(MAX_HEADERS)),
    )
    yield started
    started.stop()


def _connect(server: Server) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=5)
    sock.settimeout(5)
    return sock


def _post_head(path: str, length: int | None, **extra: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "host: 127.0.0.1", "content-type: application/json"]
    lines += [f"content-length: {length}"] if length is not None else []
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _trickle(sock: socket.socket, piece: bytes, every: float, for_at_most: float) -> None:
    """Send `piece` every `every` seconds until the server closes or `for_at_most` passes."""
    deadline = time.monotonic() + for_at_most
    while time.monotonic() < deadline:
        try:
            sock.sendall(piece)
        except OSError:  # the server closed the connection
            return
        time.sleep(every)


def _response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one response, read until the server closes (or 5 s)."""
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


def _length(data: bytes) -> int:
    for line in data.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_headers_sent_slowly_get_408_and_the_connection_closes(server: Server) -> None:
    with _connect(server) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /api/v2/heartbeat HTTP/1.1\r\nhost: 127.0.0.1\r\n")
        _trickle(sock, b"x-slow: 1\r\n", every=0.2, for_at_most=5 * TIMEOUT)
        status, headers, body = _response(sock)
        assert time.monotonic() - started < 3 * TIMEOUT
    assert (status, headers["connection"]) == (408, "close")
    assert b"Request headers not received within 1 s" in body


def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    with _connect(server) as sock:
        started = time.monotonic()
        status, _, _ = _response(sock)
        assert status == 408
        assert time.monotonic() - started < 3 * TIMEOUT


def test_headers_over_the_limit_get_431(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /api/v2/heartbeat HTTP/1.1\r\n")
        _trickle(sock, b"x-big: " + b"y" * 1000 + b"\r\n", every=0, for_at_most=1.0)
        status, headers, _ = _response(sock)
    assert (status, headers["connection"]) == (431, "close")


def test_an_idle_keep_alive_connection_outlives_the_header_timeout(server: Server) -> None:
    with httpx.Client(base_url=server.api) as client:
        assert client.get("/heartbeat").status_code == 200
        time.sleep(1.5 * TIMEOUT)
        assert client.get("/heartbeat").status_code == 200


def test_a_body_sent_slowly_gets_408(server: Server) -> None:
    with _connect(server) as sock:
        started = time.monotonic()
        sock.sendall(_post_head(TENANTS, 500) + b'{"name": "')
        # One byte every 0.2 s: never a long pause, but far below the minimum rate.
        _trickle(sock, b"a", every=0.2, for_at_most=5 * TIMEOUT)
        status, headers, body = _response(sock)
        assert time.monotonic() - started < 3 * TIMEOUT
    assert (status, headers["connection"]) == (408, "close")
    assert body.startswith(b'{"error":"ChromaError","message":"Request body not received in time')


def test_a_pause_in_the_body_gets_408(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(_post_head(TENANTS, 20) + b'{"name": "')
        status, _, _ = _response(sock)
    assert status == 408


def test_a_body_over_the_limit_is_refused_before_it_is_sent(server: Server) -> None:
    with _connect(server) as sock:
        started = time.monotonic()
        sock.sendall(_post_head(TENANTS, 200_000_000))  # headers only
        status, headers, body = _response(sock)
        elapsed = time.monotonic() - started
        assert _closed(sock)
    assert (status, headers["connection"]) == (413, "close")
    assert body == (
        b'{"error":"ChromaError","message":"Failed to buffer the request body: '
        b'length limit exceeded"}'
    )
    assert elapsed < 0.5


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(_post_head(TENANTS, None, transfer_encoding="chunked"))
        piece = b"100\r\n" + b" " * 256 + b"\r\n"
        # Far more than the limit if the server kept reading: it answers after ~4 pieces.
        _trickle(sock, piece, every=0.01, for_at_most=2.0)
        status, headers, _ = _response(sock)
    assert (status, headers["connection"]) == (413, "close")


def test_an_answer_sent_before_the_body_is_read_closes_the_connection(server: Server) -> None:
    with _connect(server) as sock:
        # reset is refused without reading its body
        sock.sendall(_post_head("/api/v2/reset", 500))
        status, headers, _ = _response(sock)
        assert (status, headers["connection"]) == (403, "close")
        assert _closed(sock)


def test_a_body_in_time_is_served_and_keeps_the_connection(server: Server) -> None:
    with httpx.Client(base_url=server.api) as client:
        assert client.post("/tenants", json={"name": "on-time"}).status_code == 200
        assert client.get("/tenants/on-time").status_code == 200


def test_connections_over_the_cap_get_503(tmp_path_factory: pytest.TempPathFactory) -> None:
    needs_server_extra()
    capped = start_achroma(tmp_path_factory.mktemp("capped") / "data", "--max-connections", "3")
    try:
        with ExitStack() as stack:
            clients = [stack.enter_context(httpx.Client(base_url=capped.api)) for _ in range(4)]
            statuses = [c.get("/heartbeat").status_code for c in clients]
        # The first three stay open (keep-alive), so the fourth is over the cap.
        assert statuses == [200, 200, 200, 503]
        assert httpx.get(capped.api + "/heartbeat").status_code == 200
    finally:
        capped.stop()


# --- an expensive read on one collection, and requests on another meanwhile ---

DB = "/tenants/default_tenant/databases/default_database"
# Linear in the documents (RE2), but each alternative scans all 40 MB of them.
EXPENSIVE = {
    "where_document": {
        "$or": [{"$regex": f"{c}{c}[a-z ]*q{{4}}[0-9]"} for c in "abcdefgh"],
    },
    "include": [],
}


def _fill(path: Path) -> None:
    import achroma

    client = achroma.PersistentClient(path)
    big = client.create_collection("big", embedding_function=None)
    text = "".join(chr(97 + (i * 7919) % 26) if i % 9 else " " for i in range(4000))
    for start in range(0, 10_000, 1000):
        ids = [f"r{i}" for i in range(start, start + 1000)]
        big.add(ids=ids, embeddings=[[1.0, 0.0]] * 1000, documents=[text] * 1000)
    client.create_collection("small", embedding_function=None).add(
        ids=["x"], embeddings=[[0.0, 1.0]]
    )
    client.close()


def test_an_expensive_read_does_not_hold_up_other_collections(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    needs_server_extra()
    path = tmp_path_factory.mktemp("isolation") / "data"
    _fill(path)
    server = start_achroma(path)
    try:
        with httpx.Client(base_url=server.api + DB, timeout=30) as client:
            ids = {c["name"]: c["id"] for c in client.get("/collections").json()}
            slow_done: list[float] = []

            def expensive() -> None:
                with httpx.Client(base_url=server.api + DB, timeout=30) as own:
                    own.post(f"/collections/{ids['big']}/get", json=EXPENSIVE).raise_for_status()
                slow_done.append(time.monotonic())

            worker = threading.Thread(target=expensive)
            started = time.monotonic()
            worker.start()
            time.sleep(0.05)
            answered: list[float] = []
            while worker.is_alive() and len(answered) < 50:
                assert client.get(f"/collections/{ids['small']}/count").json() == 1
                answered.append(time.monotonic())
            worker.join(30)
        # Several counts were answered while the expensive get ran, not one after it.
        assert len([t for t in answered if t < slow_done[0]]) >= 2, (
            f"expensive get: {slow_done[0] - started:.2f} s; counts at "
            f"{[round(t - started, 2) for t in answered]}"
        )
    finally:
        server.stop()
