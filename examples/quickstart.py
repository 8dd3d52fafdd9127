"""Quickstart: a PersistentClient in ./chroma, documents added, then queried by text.

Until achroma ships its default embedding model, this example embeds text with a small
feature-hashing bag of words (a real, if simple, embedding: similar wording, nearby vectors).
"""

import hashlib
import re

import numpy as np

import achroma as chromadb

DIM = 256


def embed(texts: list[str]) -> list[np.ndarray]:
    """Hash each word (and word pair) into one of DIM buckets; L2-normalise."""
    vectors = []
    for text in texts:
        words = re.findall(r"[a-z]+", text.lower())
        v = np.zeros(DIM, dtype=np.float32)
        for token in words + [a + " " + b for a, b in zip(words, words[1:])]:
            v[int(hashlib.md5(token.encode()).hexdigest(), 16) % DIM] += 1.0
        vectors.append(v / (np.linalg.norm(v) or 1.0))
    return vectors


DOCUMENTS = {
    "sqlite": "SQLite is a small, fast, self-contained SQL database engine.",
    "usearch": "USearch is a fast approximate nearest neighbour search engine for vectors.",
    "asyncio": "asyncio runs many network tasks concurrently on one event loop.",
    "hnsw": "HNSW graphs find nearest neighbour vectors in logarithmic time.",
    "wal": "Write-ahead logging lets a database survive a crash without losing commits.",
}

client = chromadb.PersistentClient(path="./chroma")
collection = client.get_or_create_collection(
    "quickstart", configuration={"hnsw": {"space": "cosine"}}, embedding_function=embed
)
collection.upsert(
    ids=list(DOCUMENTS),
    documents=list(DOCUMENTS.values()),
    metadatas=[{"topic": "storage" if k in ("sqlite", "wal") else "search"} for k in DOCUMENTS],
)
print(f"'{collection.name}' holds {collection.count()} documents in ./chroma")

for question in ["nearest neighbour search for vectors", "database crash safety"]:
    result = collection.query(query_texts=[question], n_results=2)
    print(f"\n{question!r}:")
    for id_, distance, doc in zip(result["ids"][0], result["distances"][0], result["documents"][0]):
        print(f"  {id_:8} {distance:.3f}  {doc}")

storage = collection.get(where={"topic": "storage"})
print(f"\nstorage documents: {storage['ids']}")
client.close()
