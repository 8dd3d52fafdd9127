"""Retrieval for RAG with LlamaIndex, stored in achroma through its chromadb alias.

`achroma.install_as_chromadb()` runs before LlamaIndex is imported, so the `import chromadb`
inside llama-index-vector-stores-chroma gets achroma (chromadb need not be installed). Five
of the articles in examples/data/ are split into chunks by LlamaIndex, embedded by the
default model (all-MiniLM-L6-v2, computed locally by achroma and wrapped as a LlamaIndex
`BaseEmbedding`) and stored in an achroma collection through `ChromaVectorStore`. A
retriever then prints, for each question, the chunks a prompt to a language model would carry.

Offline: no language model is called (only the retriever runs) and LlamaIndex's default
OpenAI embedding is never asked for, since the index is given its model. LlamaIndex's
tokenizer files ship inside llama-index-core. Needs `pip install llama-index-core
llama-index-vector-stores-chroma`.
"""

import textwrap
from pathlib import Path

import achroma

achroma.install_as_chromadb()

from llama_index.core import Document, StorageContext, VectorStoreIndex  # noqa: E402
from llama_index.core.embeddings import BaseEmbedding  # noqa: E402
from llama_index.core.node_parser import SentenceSplitter  # noqa: E402
from llama_index.core.vector_stores import MetadataFilters  # noqa: E402
from llama_index.vector_stores.chroma import ChromaVectorStore  # noqa: E402

from achroma.embeddings import DefaultEmbeddingFunction  # noqa: E402

DATA = Path(__file__).parent / "data"
ARTICLES = ["beekeeping.txt", "bicycle.txt", "coffee.txt", "tides.txt", "volcanoes.txt"]
QUESTIONS = [
    "How do bees survive the cold months?",
    "Why does the sea level rise and fall twice a day?",
    "How often should I oil my bike chain?",
]


class MiniLM(BaseEmbedding):
    """all-MiniLM-L6-v2 (Chroma's default model, run by achroma) for LlamaIndex."""

    model_name: str = "all-MiniLM-L6-v2"

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = [v.tolist() for v in DefaultEmbeddingFunction()(texts)]
        return vectors

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embedding(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


client = achroma.EphemeralClient()  # the same object as chromadb.EphemeralClient() now
store = ChromaVectorStore(
    chroma_collection=client.create_collection(
        "articles", configuration={"hnsw": {"space": "cosine"}}
    )
)
documents = [
    Document(text=(DATA / name).read_text(encoding="utf-8"), metadata={"source": name})
    for name in ARTICLES
]
index = VectorStoreIndex.from_documents(
    documents,
    storage_context=StorageContext.from_defaults(vector_store=store),
    embed_model=MiniLM(),
    transformations=[SentenceSplitter(chunk_size=128, chunk_overlap=0)],
)
print(f"indexed {store.client.count()} chunks from {len(documents)} articles")

retriever = index.as_retriever(similarity_top_k=2)
for question in QUESTIONS:
    print(f"\nQ: {question}")
    for hit in retriever.retrieve(question):
        label = f"[{hit.node.metadata['source']} {hit.score:.2f}]"
        print(f"   {label} {textwrap.shorten(hit.node.get_content(), 100 - len(label))}")

# Metadata filters become a `where` on the collection: here, only the coffee article.
only_coffee = MetadataFilters.from_dicts([{"key": "source", "value": "coffee.txt"}])
coffee = index.as_retriever(similarity_top_k=1, filters=only_coffee)
[hit] = coffee.retrieve("What should I drink in the morning?")
print(f"\ncoffee.txt only: {textwrap.shorten(hit.node.get_content(), 80)}")

client.close()
