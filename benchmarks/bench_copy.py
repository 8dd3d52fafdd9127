#!/usr/bin/env python3
"""Copy benchmark: records/s of `achroma.copy` from a chromadb directory to an achroma path,
and from one achroma path to another (and, with --server, into `achroma run`).

Run by hand (never collected by pytest):

    python3 benchmarks/bench_copy.py                  # 100k records, dim 384
    python3 benchmarks/bench_copy.py --n 10000 --dim 768 --server

The source chromadb directory is built first (not timed); each copy then goes into a fresh,
empty destination and includes the final check (count and 100 sampled records).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_SRC = Path(__file__).resolve().parents[1] / "src"
if (REPO_SRC / "achroma").is_dir():
    sys.path.insert(0, str(REPO_SRC))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import achroma  # noqa: E402
from achroma.transfer import Endpoint, open_destination, open_source  # noqa: E402
from achroma.transfer.pages import Page, rows_per_request  # noqa: E402


def build_chromadb(path: Path, n: int, dim: int) -> None:
    import chromadb

    client = chromadb.PersistentClient(
        str(path), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    collection = client.create_collection(
        "bench", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    rng = np.random.default_rng(0)
    batch = client.get_max_batch_size()
    for start in range(0, n, batch):
        size = min(batch, n - start)
        collection.add(
            ids=[f"id{i}" for i in range(start, start + size)],
            embeddings=rng.standard_normal((size, dim)).astype(np.float32),
            documents=[f"document number {i} with some text" for i in range(start, start + size)],
            metadatas=[{"i": i, "group": i % 10} for i in range(start, start + size)],
        )


async def timed_copy(src: str, dst: str) -> tuple[int, float]:
    async with open_source(Endpoint(src)) as source, open_destination(Endpoint(dst)) as target:
        started = time.perf_counter()
        [report] = await achroma.copy(source, target, ["bench"])
        seconds = time.perf_counter() - started
    assert report.ok, report.mismatches
    return report.copied, seconds


async def timed_plain_add(src: str, dst: str) -> tuple[int, float]:
    """The reference: the same records added from memory by plain `add` calls of the same size
    (what the destination's writes alone cost)."""
    source = await achroma.AsyncPersistentClient(src)
    collection = await source.get_collection("bench", embedding_function=None)
    data = await collection.get(include=["embeddings", "documents", "metadatas"])
    await source.close()
    target = await achroma.AsyncPersistentClient(dst)
    added = await target.create_collection(
        "bench", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    n, size = len(data["ids"]), rows_per_request(Page.from_result(data).record_bytes(), 5461)
    started = time.perf_counter()
    for start in range(0, n, size):
        part = slice(start, start + size)
        await added.add(
            ids=data["ids"][part],
            embeddings=data["embeddings"][part],
            documents=data["documents"][part],
            metadatas=data["metadatas"][part],
        )
    seconds = time.perf_counter() - started
    await target.close()
    return n, seconds


def show(label: str, copied: int, seconds: float) -> None:
    print(f"{label:<28} {copied:>8} records {seconds:8.1f} s {copied / seconds:10,.0f} records/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--server", action="store_true", help="also copy into `achroma run`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"building a chromadb directory: {args.n} records, dim {args.dim}", flush=True)
        build_chromadb(root / "chromadb", args.n, args.dim)
        show(
            "chromadb dir -> achroma",
            *asyncio.run(timed_copy(str(root / "chromadb"), str(root / "a"))),
        )
        show("achroma -> achroma", *asyncio.run(timed_copy(str(root / "a"), str(root / "b"))))
        show(
            "plain add (reference)", *asyncio.run(timed_plain_add(str(root / "a"), str(root / "c")))
        )
        if args.server:
            from http_servers import start_achroma

            server = start_achroma(root / "served")
            try:
                show(
                    "achroma -> achroma run", *asyncio.run(timed_copy(str(root / "a"), server.url))
                )
            finally:
                server.stop()


if __name__ == "__main__":
    main()
