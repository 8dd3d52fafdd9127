#!/usr/bin/env python3
"""How long usearch's save and copy keep other Python threads from running (issue 16, goal 5).

Run by hand (never collected by pytest):

    python3 benchmarks/bench_index_gil.py                    # 40k vectors, d=384, 3 rounds

A ticker thread sleeps 1 ms in a loop while each step runs in another thread; the ticker's
longest gap minus 1 ms is how long the step held the GIL (an event loop on that thread would
have stalled as long). Steps: `Index.save` to a file, to a memory buffer and with a progress
callback, `Index.copy`, and achroma's own `graph_file.strip` of the saved file.
"""

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from usearch.index import Index

from achroma.engine.graph_file import strip


def _progress(done: int, total: int) -> bool:
    # Real annotations (no `from __future__ import annotations`): usearch checks them.
    return True


def held(step: Callable[[], object]) -> tuple[float, float]:
    """(the step's wall time, the ticker's longest stall), both in ms."""
    stop, gaps, failed = threading.Event(), [0.0], []

    def tick() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last - 0.001)
            last = now

    ticker = threading.Thread(target=tick)
    ticker.start()
    time.sleep(0.05)
    t0 = time.perf_counter()

    def run() -> None:
        try:
            step()
        except BaseException as exc:
            failed.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    took = time.perf_counter() - t0
    time.sleep(0.05)
    stop.set()
    ticker.join()
    if failed:
        raise failed[0]
    return took * 1000, max(gaps) * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=40_000, help="vectors in the index")
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    index = Index(ndim=args.dim, metric="cos", dtype="f32")
    vectors = np.random.default_rng(0).random((args.n, args.dim), dtype=np.float32)
    index.add(np.arange(args.n, dtype=np.uint64), vectors)
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "graph.usearch"
        index.save(str(saved))
        steps: dict[str, Callable[[], object]] = {
            "save to a file": lambda: index.save(str(Path(tmp) / "again.usearch")),
            "save to a buffer": lambda: index.save(),
            "save with progress": lambda: index.save(
                str(Path(tmp) / "again.usearch"), progress=_progress
            ),
            "copy": index.copy,
            "strip (achroma)": lambda: strip(saved),
        }
        print(f"n={args.n} dim={args.dim}, {args.rounds} rounds: wall ms / longest stall ms")
        for name, step in steps.items():
            runs = [held(step) for _ in range(args.rounds)]
            cells = ", ".join(f"{took:.0f} / {stall:.0f}" for took, stall in runs)
            print(f"{name:20} {cells}")


if __name__ == "__main__":
    main()
