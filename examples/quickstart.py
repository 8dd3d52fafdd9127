"""Quickstart: a PersistentClient in ./chroma, a collection, and what it holds."""

import achroma as chromadb

client = chromadb.PersistentClient(path="./chroma")
collection = client.get_or_create_collection(
    "quickstart", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
)
print(f"collections in ./chroma: {[c.name for c in client.list_collections()]}")
print(f"'{collection.name}' uses the {collection.configuration['hnsw']['space']} space")
client.close()
