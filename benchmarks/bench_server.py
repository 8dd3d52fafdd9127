#!/usr/bin/env python3
"""Server benchmark: `achroma run` vs Chroma's `chroma run`, each driven by the same client.

Run by hand (never collected by pytest):

    python3 benchmarks/bench_server.py                         # N=10k, dim 384, chromadb's client
    python3 benchmarks/bench_server.py --client achroma        # achroma's HttpClient instead
    python3 benchmarks/bench_server.py --json out.json

For each server (a fresh subprocess on 127.0.0.1 with its own temporary directory) it measures
add throughput (records/s, batches of --batch-size with ids, embeddings, metadatas and
documents), single-vector query latency (p50/p99) and throughput (sequential queries/s), then
achroma's AsyncHttpClient running --concurrency queries at once (queries/s and p50 under that
load). Data and records are those of bench_records.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

REPO_SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(REPO_SRC))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench_records import log, make_scalars, make_vectors, records  # noqa: E402

import achroma  # noqa: E402

COLLECTION = "bench_server"
HNSW = {"ef_construction": 100, "ef_search": 100, "max_neighbors": 16}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(server: str, home: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    data = home / server
    if server == "achroma":
        command = [sys.executable, "-m", "achroma", "run", "--path", str(data)]
        command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    else:
        config = home / "chroma.yaml"
        config.write_text(f"persist_path: {data}\nport: {port}\nlisten_address: 127.0.0.1\n")
        chroma = Path(sys.executable).with_name("chroma")
        command = [str(chroma if chroma.exists() else shutil.which("chroma")), "run", str(config)]
    env = {**os.environ, "PYTHONPATH": str(REPO_SRC)}
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat").status_code == 200:
                return process, port
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{server} did not start")


def connect(client: str, port: int) -> Any:
    if client == "chromadb":
        import chromadb

        settings = chromadb.config.Settings(anonymized_telemetry=False)
        return chromadb.HttpClient(host="127.0.0.1", port=port, settings=settings)
    return achroma.HttpClient(host="127.0.0.1", port=port)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


async def concurrent_queries(
    port: int, queries: np.ndarray, concurrency: int, total: int
) -> dict[str, float]:
    client = await achroma.AsyncHttpClient(host="127.0.0.1", port=port)
    collection = await client.get_collection(COLLECTION, embedding_function=None)
    latencies: list[float] = []
    next_query = 0

    async def worker() -> None:
        nonlocal next_query
        while next_query < total:
            vector = queries[next_query % len(queries)]
            next_query += 1
            started = time.perf_counter()
            await collection.query(query_embeddings=vector, n_results=10)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await client.close()
    return {"qps": total / elapsed, "p50_ms": pct(latencies, 50) * 1000}


def measure(server: str, args: argparse.Namespace, home: Path) -> dict[str, Any]:
    data, queries = make_vectors(args.n, max(args.queries, 100), args.dim, args.seed)
    ids, metadatas, documents = records(make_scalars(args.n, args.seed))
    process, port = start(server, home)
    try:
        client = connect(args.client, port)
        collection = client.create_collection(
            COLLECTION,
            configuration={"hnsw": {"space": args.space, **HNSW}},
            embedding_function=None,
        )
        started = time.perf_counter()
        for at in range(0, args.n, args.batch_size):
            end = at + args.batch_size
            collection.add(
                ids=ids[at:end],
                embeddings=data[at:end],
                metadatas=metadatas[at:end],
                documents=documents[at:end],
            )
        add_s = time.perf_counter() - started
        assert collection.count() == args.n
        for vector in queries[:10]:
            collection.query(query_embeddings=vector, n_results=10)
        latencies = []
        started = time.perf_counter()
        for vector in queries[: args.queries]:
            t = time.perf_counter()
            collection.query(query_embeddings=vector, n_results=10)
            latencies.append(time.perf_counter() - t)
        query_s = time.perf_counter() - started
        loaded = asyncio.run(
            concurrent_queries(port, queries, args.concurrency, args.concurrency * 10)
        )
        return {
            "add_rec_s": args.n / add_s,
            "query_p50_ms": pct(latencies, 50) * 1000,
            "query_p99_ms": pct(latencies, 99) * 1000,
            "query_qps": args.queries / query_s,
            "concurrent_qps": loaded["qps"],
            "concurrent_p50_ms": loaded["p50_ms"],
        }
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--space", default="cosine")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--client", choices=("chromadb", "achroma"), default="chromadb")
    parser.add_argument("--servers", default="achroma,chroma")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="achroma-bench-server-") as tmp:
        for server in args.servers.split(","):
            log(f"{server} server, {args.client} client, N={args.n}")
            results[server] = measure(server, args, Path(tmp))
    columns = [
        ("add rec/s", "add_rec_s", "{:,.0f}"),
        ("q p50 ms", "query_p50_ms", "{:.2f}"),
        ("q p99 ms", "query_p99_ms", "{:.2f}"),
        ("q/s", "query_qps", "{:,.0f}"),
        (f"{args.concurrency}x q/s", "concurrent_qps", "{:,.0f}"),
        (f"{args.concurrency}x p50 ms", "concurrent_p50_ms", "{:.1f}"),
    ]
    print(f"N={args.n} dim={args.dim} {args.space}, client: {args.client}")
    print(f"{'server':<10}" + "".join(f"{title:>14}" for title, _, _ in columns))
    for server, figures in results.items():
        cells = "".join(f"{fmt.format(figures[key]):>14}" for _, key, fmt in columns)
        print(f"{server:<10}{cells}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"args": vars(args) | {"json": str(args.json)}, "results": results}, indent=2
            )
        )


if __name__ == "__main__":
    main()
