"""The server and both HTTP clients: `achroma run`, then `HttpClient` and `AsyncHttpClient`.

Starts `achroma run` (as `python -m achroma run`, the `server` extra) on a free port over a
temporary directory, and waits for its heartbeat. The sync `HttpClient` creates a collection
and adds documents; the `AsyncHttpClient` then sends several queries at once over its one
pooled connection. Finally the server is stopped with SIGTERM, which it handles gracefully:
in-flight requests finish and the store is closed.

Documents and queries are embedded on the client side by the default model, as Chroma's
clients do: the server stores and searches vectors, it never embeds.
"""

import asyncio
import socket
import subprocess
import sys
import tempfile
import time

import httpx

import achroma

DOCUMENTS = {
    "espresso": "Espresso is coffee brewed by forcing hot water through fine grounds.",
    "green-tea": "Green tea leaves are steamed or pan-fired to stop them oxidising.",
    "glacier": "Glaciers carve U-shaped valleys as they slowly flow downhill.",
    "volcano": "Volcanoes erupt when molten rock rises through the crust.",
    "violin": "A violin has four strings tuned in perfect fifths.",
    "drums": "A drummer keeps the band's tempo steady.",
}
QUESTIONS = ["a hot caffeinated drink", "how mountains and valleys form", "musical instruments"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_heartbeat(server: subprocess.Popen[bytes], url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"achroma run exited with code {server.returncode}")
        try:
            httpx.get(f"{url}/api/v2/heartbeat").raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(f"no heartbeat from {url} after {timeout} s")


def add_with_sync_client(port: int) -> None:
    with achroma.HttpClient(host="127.0.0.1", port=port) as client:
        collection = client.get_or_create_collection("notes")
        collection.add(ids=list(DOCUMENTS), documents=list(DOCUMENTS.values()))
        print(f"HttpClient: added {collection.count()} documents to '{collection.name}'")


async def query_with_async_client(port: int) -> None:
    async with await achroma.AsyncHttpClient(host="127.0.0.1", port=port) as client:
        collection = await client.get_collection("notes")
        results = await asyncio.gather(
            *(collection.query(query_texts=[q], n_results=2) for q in QUESTIONS)
        )
        for question, result in zip(QUESTIONS, results, strict=True):
            print(f"AsyncHttpClient: {question!r} -> {', '.join(result['ids'][0])}")


def main() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        command = [sys.executable, "-m", "achroma", "run", "--path", data_dir]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        server = subprocess.Popen([*command, "--no-access-log"])
        try:
            wait_for_heartbeat(server, f"http://127.0.0.1:{port}")
            print(f"achroma run: serving {data_dir} on port {port}")
            add_with_sync_client(port)
            asyncio.run(query_with_async_client(port))
        finally:
            server.terminate()  # SIGTERM: a graceful shutdown
            server.wait(timeout=30)
        print("achroma run: stopped")


if __name__ == "__main__":
    main()
