"""Filtered and unfiltered query recall@10 against exact search, across selectivities."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import achroma
from achroma.engine.index import exact_distances

N, DIM, BUCKETS = 20_000, 32, 1000


@pytest.fixture(scope="module")
def collection() -> Iterator[tuple[Any, np.ndarray]]:
    client = achroma.EphemeralClient()
    col = client.create_collection(
        "recall", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    data = np.random.default_rng(42).standard_normal((N, DIM)).astype(np.float32)
    for start in range(0, N, 5000):
        stop = start + 5000
        col.add(
            ids=[str(i) for i in range(start, stop)],
            embeddings=data[start:stop],
            metadatas=[{"bucket": i % BUCKETS} for i in range(start, stop)],
        )
    yield col, data
    client.close()


@pytest.mark.parametrize("selectivity", [0.001, 0.01, 0.1, 0.25, 0.5, 1.0])
def test_recall_at_10_is_at_least_095(
    collection: tuple[Any, np.ndarray], selectivity: float
) -> None:
    col, data = collection
    threshold = int(BUCKETS * selectivity)
    where = {"bucket": {"$lt": threshold}} if selectivity < 1 else None
    subset = np.array([i for i in range(N) if i % BUCKETS < threshold])
    queries = np.random.default_rng(1).standard_normal((50, DIM)).astype(np.float32)
    result = col.query(query_embeddings=queries, n_results=10, where=where, include=[])
    exact = exact_distances("cosine", queries, data[subset])
    hits = 0
    for row, ids in enumerate(result["ids"]):
        truth = {str(subset[j]) for j in np.argsort(exact[row])[:10]}
        assert len(ids) == 10
        hits += len(truth & set(ids))
    assert hits / (10 * len(queries)) >= 0.95
