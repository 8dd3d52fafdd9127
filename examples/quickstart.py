"""Quickstart: a PersistentClient in ./chroma, documents added, then queried by text.

No embeddings are passed: documents and query texts are embedded by the default model,
all-MiniLM-L6-v2, run locally and offline (install it with the README's set-up command).
"""

import achroma as chromadb

DOCUMENTS = {
    "sqlite": "SQLite is a small, fast, self-contained SQL database engine.",
    "usearch": "USearch is a fast approximate nearest neighbour search engine for vectors.",
    "asyncio": "asyncio runs many network tasks concurrently on one event loop.",
    "hnsw": "HNSW graphs find nearest neighbour vectors in logarithmic time.",
    "wal": "Write-ahead logging lets a database survive a crash without losing commits.",
}

client = chromadb.PersistentClient(path="./chroma")
collection = client.get_or_create_collection("quickstart")
collection.upsert(
    ids=list(DOCUMENTS),
    documents=list(DOCUMENTS.values()),
    metadatas=[{"topic": "storage" if k in ("sqlite", "wal") else "search"} for k in DOCUMENTS],
)
print(f"'{collection.name}' holds {collection.count()} documents in ./chroma")

for question in ["nearest neighbour search for vectors", "database crash safety"]:
    result = collection.query(query_texts=[question], n_results=2)
    print(f"\n{question!r}:")
    # Distances and documents are included by default; the result's type leaves them optional.
    assert result["distances"] is not None and result["documents"] is not None
    hits = zip(result["ids"][0], result["distances"][0], result["documents"][0], strict=True)
    for id_, distance, doc in hits:
        print(f"  {id_:8} {distance:.3f}  {doc}")

storage = collection.get(where={"topic": "storage"})
print(f"\nstorage documents: {storage['ids']}")
client.close()
