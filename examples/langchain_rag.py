"""Retrieval for RAG with LangChain, stored in achroma through its chromadb alias.

`achroma.install_as_chromadb()` runs before LangChain is imported, so the `import chromadb`
inside langchain-chroma gets achroma (chromadb need not be installed). Five of the articles
in examples/data/ are split into paragraphs, embedded by the default model
(all-MiniLM-L6-v2, computed locally by achroma and wrapped as a LangChain `Embeddings`) and
stored in an achroma collection through langchain-chroma's `Chroma`. A retriever then prints,
for each question, the paragraphs a prompt to a language model would carry.

Offline: no language model is called (only the retriever runs) and the embeddings are
computed on this machine. Needs `pip install langchain-chroma`.
"""

import asyncio
import textwrap
from pathlib import Path

import achroma

achroma.install_as_chromadb()

from langchain_chroma import Chroma  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402

from achroma.embeddings import DefaultEmbeddingFunction  # noqa: E402

DATA = Path(__file__).parent / "data"
ARTICLES = ["beekeeping.txt", "bicycle.txt", "coffee.txt", "tides.txt", "volcanoes.txt"]
QUESTIONS = [
    "How do bees survive the cold months?",
    "Why does the sea level rise and fall twice a day?",
    "How often should I oil my bike chain?",
]


class MiniLM(Embeddings):
    """all-MiniLM-L6-v2 (Chroma's default model, run by achroma) for LangChain."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = [v.tolist() for v in DefaultEmbeddingFunction()(texts)]
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def paragraphs(name: str) -> list[Document]:
    """The paragraphs of one article, with its name and their position as metadata."""
    text = (DATA / name).read_text(encoding="utf-8")
    blocks = [" ".join(block.split()) for block in text.split("\n\n") if block.strip()]
    return [
        Document(block, metadata={"source": name, "chunk": i}, id=f"{name}#{i}")
        for i, block in enumerate(blocks)
    ]


def show(hits: list[Document]) -> None:
    for hit in hits:
        label = f"[{hit.id}]"
        print(f"   {label} {textwrap.shorten(hit.page_content, 100 - len(label))}")


client = achroma.EphemeralClient()  # the same object as chromadb.EphemeralClient() now
documents = [chunk for name in ARTICLES for chunk in paragraphs(name)]
store = Chroma.from_documents(
    documents,
    MiniLM(),
    client=client,
    collection_name="articles",
    collection_configuration={"hnsw": {"space": "cosine"}},
)
count = client.get_collection("articles").count()
print(f"indexed {count} paragraphs from {len(ARTICLES)} articles")

retriever = store.as_retriever(search_kwargs={"k": 2})
for question in QUESTIONS:
    print(f"\nQ: {question}")
    show(retriever.invoke(question))

# `filter` becomes the collection's `where`: here, only the coffee article.
coffee = store.as_retriever(search_kwargs={"k": 1, "filter": {"source": "coffee.txt"}})
[hit] = coffee.invoke("What should I drink in the morning?")
print(f"\ncoffee.txt only: {textwrap.shorten(hit.page_content, 80)}")

# Relevance scores (1 - cosine distance here), and the same search from async code:
# LangChain runs the sync search in a worker thread, so the event loop stays free.
[(best, score)] = store.similarity_search_with_relevance_scores(QUESTIONS[0], k=1)
print(f"\nbest for bees: {best.id} relevance {score:.2f}")
[again] = asyncio.run(store.asimilarity_search(QUESTIONS[0], k=1))
print(f"asimilarity_search agrees: {again.id == best.id}")

client.close()
