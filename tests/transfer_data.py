"""Records for the transfer tests: awkward strings, float32 edge values, mixed metadata, and
a snapshot of a store that compares embeddings bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np

import achroma
from achroma.transfer.pages import INCLUDE, Page, same

STRINGS = ["plain", "nul \x00 inside", "☃ snow", "emoji \U0001f600", "\u2028line\r\n", "\ufeff", ""]
# float32 values that decimal text loses easily: -0.0, the smallest subnormal, the largest.
EDGE_FLOATS = np.array([-0.0, 1e-45, 3.4028235e38, 1.1754944e-38, 0.1], dtype=np.float32)


def records(
    n: int, dim: int = 8, seed: int = 0, prefix: str = "id", edge: bool = True
) -> dict[str, Any]:
    """`n` records; with `edge`, the first embedding starts with EDGE_FLOATS (for l2 only:
    chromadb's cosine collections do not keep such values)."""
    rng = np.random.default_rng(seed)
    embeddings = rng.standard_normal((n, dim)).astype(np.float32)
    if edge:
        embeddings[0, : min(dim, len(EDGE_FLOATS))] = EDGE_FLOATS[:dim]
    return {
        "ids": [f"{prefix}{i}" for i in range(n)],
        "embeddings": embeddings,
        "documents": [None if i % 7 == 3 else f"{STRINGS[i % len(STRINGS)]} {i}" for i in range(n)],
        "metadatas": [
            None
            if i % 5 == 4
            else {"i": i, "third": i / 3, "even": i % 2 == 0, "s": STRINGS[i % len(STRINGS)]}
            for i in range(n)
        ],
        "uris": [None if i % 3 else f"file:///{i}" for i in range(n)],
    }


def fill_chromadb(path: Any, n: int) -> None:
    """A directory written by chromadb itself: two collections, one recording a function."""
    import chromadb
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction

    client = chromadb.PersistentClient(
        str(path), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    docs = client.create_collection(
        "docs",
        embedding_function=None,
        metadata={"owner": "tests", "v": 2},
        configuration={"hnsw": {"ef_construction": 120, "max_neighbors": 12}},
    )
    data = records(n)
    for start in range(0, n, 1000):
        docs.add(**{k: v[start : start + 1000] for k, v in data.items()})
    small = client.create_collection(
        "small",
        embedding_function=DefaultEmbeddingFunction(),
        configuration={"hnsw": {"space": "cosine"}},
    )
    small.add(**records(20, dim=4, seed=1, prefix="s", edge=False))


def chromadb_snapshot(path: Any) -> dict[str, Any]:
    import chromadb

    client = chromadb.PersistentClient(
        str(path), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    snap = {}
    for collection in client.list_collections():
        result = collection.get(include=INCLUDE)
        snap[collection.name] = _entry(
            collection.configuration_json, collection.metadata, Page.from_result(result)
        )
    return snap


async def snapshot(client: achroma.AsyncClient) -> dict[str, Any]:
    """Every collection's configuration, metadata and records (sorted by id)."""
    snap = {}
    for collection in await client.list_collections():
        result = await collection.get(include=INCLUDE)
        snap[collection.name] = _entry(
            collection.configuration_json, collection.metadata, Page.from_result(result)
        )
    return snap


def _entry(configuration: dict[str, Any], metadata: Any, page: Page) -> dict[str, Any]:
    return {
        "configuration": {k: configuration.get(k) for k in ("hnsw", "spann", "embedding_function")},
        "metadata": metadata,
        "records": [r._asdict() for r in sorted(page.records())],
    }


def assert_equal(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Equal snapshots, types included (1, 1.0 and True differ)."""
    assert a == b
    assert same(a, b)
