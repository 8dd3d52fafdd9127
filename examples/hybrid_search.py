"""Hybrid search: dense vectors and BM25 keywords fused by reciprocal rank, offline.

The paragraphs of the 15 articles in examples/data/ go into one collection whose schema adds
a BM25 sparse index on the key "keywords", filled from each document by
`ChromaBm25EmbeddingFunction` as the records are added; the dense vectors come from the
default model (all-MiniLM-L6-v2, local). For each question three rankings are printed: by
meaning (dense Knn), by shared words (BM25 Knn), and both fused by `Rrf`: a paragraph near
the top of both lists comes first.

chromadb's local clients cannot run any of this (no Search, no sparse indexes); achroma runs
it embedded, here on an EphemeralClient.
"""

import textwrap
from pathlib import Path

import achroma
from achroma import K, Knn, Rrf, Schema, Search, SparseVectorIndexConfig
from achroma.utils.embedding_functions import ChromaBm25EmbeddingFunction

DATA = Path(__file__).parent / "data"
QUESTIONS = [
    "Which chess opening answers 1.e4 with c5?",
    "When is the difference between high and low tide largest?",
    "How do I keep a sourdough starter alive?",
]
CANDIDATES = 20  # each Knn's list; a paragraph missing from one list takes this rank


def paragraphs(text: str) -> list[str]:
    return [" ".join(block.split()) for block in text.split("\n\n") if block.strip()]


schema = Schema().create_index(
    SparseVectorIndexConfig(
        source_key=K.DOCUMENT, embedding_function=ChromaBm25EmbeddingFunction(), bm25=True
    ),
    key="keywords",
)
client = achroma.EphemeralClient()
collection = client.create_collection("articles", schema=schema)

ids: list[str] = []
chunks: list[str] = []
for path in sorted(DATA.glob("*.txt")):
    for number, chunk in enumerate(paragraphs(path.read_text(encoding="utf-8"))):
        ids.append(f"{path.stem}#{number}")
        chunks.append(chunk)
collection.add(ids=ids, documents=chunks)  # dense and BM25 vectors are computed here
print(f"indexed {collection.count()} paragraphs")


def ranking(question: str, key: str) -> Knn:
    return Knn(query=question, key=key, limit=CANDIDATES, return_rank=True, default=CANDIDATES)


for question in QUESTIONS:
    dense, keywords = ranking(question, "#embedding"), ranking(question, "keywords")
    searches = [
        Search().rank(dense).limit(3),
        Search().rank(keywords).limit(3),
        Search().rank(Rrf([dense, keywords])).limit(3).select(K.DOCUMENT, K.SCORE),
    ]
    result = collection.search(searches)  # one batch, each Search on its own
    by_meaning, by_words, fused = result["ids"]
    best = result.rows()[2][0]
    print(f"\nQ: {question}")
    print(f"   dense:  {', '.join(by_meaning)}")
    print(f"   bm25:   {', '.join(by_words)}")
    print(f"   hybrid: {', '.join(fused)}")
    print(f"   best:   {textwrap.shorten(best.get('document') or '', 90)}")

client.close()
