"""Retrieval for RAG: chunk text files, index the chunks, fetch the context for questions.

The 15 short articles in examples/data/ are split into paragraphs; each paragraph is stored
in a PersistentClient in ./chroma with its source file and chunk number as metadata, and
embedded by the default model, all-MiniLM-L6-v2 (local and offline). For each question the
nearest chunks, those close enough to help, are printed with their sources: the context
that a prompt to a language model would carry.

This is the retrieval half only: no language model is called, and nothing leaves the machine.
Upserting by `<file>#<chunk>` ids makes the indexing safe to run again on the same ./chroma.
"""

import textwrap
from pathlib import Path

import achroma as chromadb

DATA = Path(__file__).parent / "data"
MAX_DISTANCE = 0.6  # cosine distance
QUESTIONS = [
    "How do bees survive the cold months?",
    "Why does the sea level rise and fall twice a day?",
    "How often should I oil my bike chain?",
    "What makes the aurora green or red?",
    "How does an octopus change colour?",
]


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a text (separated by blank lines), each on one line."""
    return [" ".join(block.split()) for block in text.split("\n\n") if block.strip()]


client = chromadb.PersistentClient(path="./chroma")
collection = client.get_or_create_collection(
    "articles", configuration={"hnsw": {"space": "cosine"}}
)

ids: list[str] = []
chunks: list[str] = []
metadatas: list[chromadb.UpdateMetadata] = []  # what upsert takes
for path in sorted(DATA.glob("*.txt")):
    for number, chunk in enumerate(paragraphs(path.read_text(encoding="utf-8"))):
        ids.append(f"{path.name}#{number}")
        chunks.append(chunk)
        metadatas.append({"source": path.name, "chunk": number})
collection.upsert(ids=ids, documents=chunks, metadatas=metadatas)
print(f"indexed {collection.count()} chunks from {len(set(m['source'] for m in metadatas))} files")

results = collection.query(query_texts=QUESTIONS, n_results=3)
# Included by default; the result's type leaves them optional.
assert results["documents"] and results["metadatas"] and results["distances"]
for question, found, metas, distances in zip(
    QUESTIONS, results["documents"], results["metadatas"], results["distances"], strict=True
):
    # The nearest chunks are not always near: leave out those too far to help an answer
    # (the threshold depends on the model, the distance and the corpus).
    context = [
        (c or "", m or {}, d)
        for c, m, d in zip(found, metas, distances, strict=True)
        if d < MAX_DISTANCE
    ]
    print(f"\nQ: {question}")
    print("   sources: " + ", ".join(f"{m['source']}#{m['chunk']}" for _, m, _ in context))
    for text, meta, distance in context:
        label = f"[{meta['source']}#{meta['chunk']} {distance:.2f}]"
        print(f"   {label} {textwrap.shorten(text, 100 - len(label))}")

client.close()
