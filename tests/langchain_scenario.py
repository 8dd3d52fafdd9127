"""The scenario script of tests/test_langchain_e2e.py: LangChain's `Chroma` over `chromadb`.

The pieces run in one fresh interpreter, in order: `COMMON` (imports, embeddings and data),
one of `CLIENTS` (how the run opens its client and store), `COLLECTION`, `SCENARIO` (the
calls, each outcome recorded in `out`), `ACHROMA_ONLY` on achroma's runs, and `FINISH`
(prints `out` as JSON). `chromadb` is achroma's alias or chromadb itself.
"""

# Imports, data and helpers of every script; `chromadb` is whichever the script installed.
COMMON = """
import asyncio
import json

import chromadb
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from achroma.embeddings.default import DefaultEmbeddingFunction


class MiniLM(Embeddings):
    # all-MiniLM-L6-v2, computed locally by achroma.
    def embed_documents(self, texts):
        return [vector.tolist() for vector in DefaultEmbeddingFunction()(texts)]

    def embed_query(self, text):
        return self.embed_documents([text])[0]


# Each note's text names its vector; a query is a text of the same form.
VECTORS = {
    "one": [1.0, 0.0, 0.0],
    "two": [0.0, 1.0, 0.0],
    "three": [0.9, 0.0, 0.2],
    "four": [0.5, 0.5, 0.0],
    "five": [0.0, 0.3, 1.0],
    "six": [0.7, 0.1, 0.1],
    "near one": [1.0, 0.05, 0.0],
    "new three": [0.0, 0.9, 0.1],
    "seven": [0.1, 0.1, 0.1],
    "eight": [0.2, 0.1, 0.0],
}


class Fixed(Embeddings):
    # The vector VECTORS holds for the text before the colon.
    def embed_documents(self, texts):
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text):
        return VECTORS[text.partition(":")[0]]


ARTICLES = {
    "bees": "Honey bees survive winter by clustering together and shivering to stay warm.",
    "tides": "Tides rise and fall twice a day because the moon's gravity pulls on the oceans.",
    "bikes": "Oil a bicycle chain every few hundred kilometres, and wipe off the excess oil.",
    "bread": "Bread dough rises because yeast turns sugar into carbon dioxide bubbles.",
}
QUESTIONS = ["How do bees keep warm in the cold?", "Why does the sea level change?"]


def ids(docs):
    return [doc.id for doc in docs]


def scored(pairs):
    return [[doc.id, score] for doc, score in pairs]
"""

SCENARIO = """
NOTES = {
    "n1": ("one: a note about cats", {"kind": "cat", "year": 1999, "tag": "x"}),
    "n2": ("two: a note about dogs", {"kind": "dog", "year": 2005, "tag": "y"}),
    "n3": ("three: another cat note", {"kind": "cat", "year": 2015, "tag": "z"}),
    "n4": ("four: birds and cats", {"kind": "bird", "year": 2021, "tag": "x"}),
}
MORE = [
    Document("five: dogs again", metadata={"kind": "dog", "year": 1990, "tag": "z"}, id="n5"),
    Document("six: the last cat", metadata={"kind": "cat", "year": 2010, "tag": "y"}, id="n6"),
]
FILTERS = {
    "eq": {"kind": "cat"},
    "gt": {"year": {"$gt": 2005}},
    "in": {"tag": {"$in": ["x", "z"]}},
    "and": {"$and": [{"kind": {"$ne": "cat"}}, {"year": {"$lte": 2005}}]},
    "or": {"$or": [{"tag": {"$nin": ["x", "y"]}}, {"year": {"$gte": 2021}}]},
}
WHERE_DOCUMENT = {
    "contains": {"$contains": "cat"},
    "not_contains": {"$not_contains": "cat"},
    "and": {"$and": [{"$contains": "note"}, {"$not_contains": "dogs"}]},
    "regex": {"$regex": "^(one|two):"},
}
out = {}

# Chroma batches through chromadb's create_batches when the client has get_max_batch_size.
import chromadb.utils.batch_utils as batch_utils

_create_batches = batch_utils.create_batches
batches = []


def create_batches(api, ids, *args, **kwargs):
    made = _create_batches(api, ids, *args, **kwargs)
    batches.append([api.get_max_batch_size(), len(made)])
    return made


batch_utils.create_batches = create_batches

texts = [text for text, _ in NOTES.values()]
metadatas = [metadata for _, metadata in NOTES.values()]
out["add_texts"] = store.add_texts(texts, metadatas=metadatas, ids=list(NOTES))
out["add_documents"] = store.add_documents(MORE)
# A text without metadata goes through a second upsert of its own.
out["add_texts_partial_metadata"] = store.add_texts(
    ["seven: no metadata", "eight: some"], metadatas=[{}, {"kind": "fish"}], ids=["n7", "n8"]
)
store.delete(ids=["n7", "n8"])
out["count"] = collection.count()

out["similarity_search"] = ids(store.similarity_search("near one", k=4))
out["with_score"] = scored(store.similarity_search_with_score("near one", k=6))
out["by_vector"] = ids(store.similarity_search_by_vector([0.0, 1.0, 0.2], k=2))
out["by_vector_with_scores"] = scored(
    store.similarity_search_by_vector_with_relevance_scores([0.0, 1.0, 0.2], k=3)
)
out["with_vectors"] = [
    [doc.id, [float(x) for x in vector]]
    for doc, vector in store.similarity_search_with_vectors("near one", k=2)
]
first = store.similarity_search("near one", k=1)[0]
out["document"] = [first.id, first.page_content, first.metadata]
out["over_count"] = ids(store.similarity_search("near one", k=10))
for name, where in FILTERS.items():
    out["filter_" + name] = ids(store.similarity_search("near one", k=6, filter=where))
for name, where in WHERE_DOCUMENT.items():
    out["where_document_" + name] = scored(
        store.similarity_search_with_score("near one", k=6, where_document=where)
    )
out["filter_and_where_document"] = ids(
    store.similarity_search_by_vector(
        [1.0, 0.0, 0.0], k=6, filter={"year": {"$lt": 2020}}, where_document={"$contains": "cat"}
    )
)
out["mmr"] = ids(store.max_marginal_relevance_search("near one", k=3, fetch_k=6, lambda_mult=0.3))
out["mmr_filtered"] = ids(
    store.max_marginal_relevance_search("near one", k=2, fetch_k=6, filter={"kind": "cat"})
)
out["mmr_by_vector"] = ids(
    store.max_marginal_relevance_search_by_vector([0.0, 1.0, 0.0], k=2, fetch_k=4, lambda_mult=0.9)
)
# The collection's default space, l2, picks LangChain's euclidean relevance function.
out["notes_space"] = collection.configuration["hnsw"]["space"]
out["relevance_l2"] = scored(store.similarity_search_with_relevance_scores("near one", k=3))

got = store.get()
out["get"] = [got["ids"], got["documents"], got["metadatas"], got["embeddings"]]
got = store.get(ids=["n4", "n2"], include=["embeddings"])
out["get_ids_embeddings"] = [
    got["ids"], got["documents"], [[float(x) for x in e] for e in got["embeddings"]]
]
got = store.get(where={"kind": "cat"}, limit=2, offset=1)
out["get_where_page"] = got["ids"]
out["get_where_document"] = store.get(where_document={"$contains": "dogs"})["ids"]
out["get_by_ids"] = sorted(ids(store.get_by_ids(["n6", "n1", "missing"])))

store.update_document("n3", Document(page_content="new three: no cat", metadata={"kind": "fish"}))
got = store.get(ids=["n3"], include=["documents", "metadatas", "embeddings"])
out["update_document"] = [got["documents"], got["metadatas"], got["embeddings"][0].tolist()]
out["updated_nearest"] = ids(store.similarity_search("two", k=2))
store.update_documents(
    ["n1", "n2"],
    [Document(page_content="one: cats, updated", metadata={"kind": "cat", "v": 2}),
     Document(page_content="two: dogs, updated", metadata={"kind": "dog", "v": 2})],
)
out["update_documents"] = store.get(where={"v": 2})["documents"]

store.delete(ids=["n5"])
out["delete_ids"] = sorted(store.get()["ids"])
store.delete(where={"kind": "dog"})
out["delete_where"] = sorted(store.get()["ids"])

retriever = store.as_retriever(search_kwargs={"k": 2, "filter": {"kind": "cat"}})
out["retriever"] = ids(retriever.invoke("near one"))
mmr_retriever = store.as_retriever(search_type="mmr", search_kwargs={"k": 2, "fetch_k": 4})
out["mmr_retriever"] = ids(mmr_retriever.invoke("near one"))

from_texts = Chroma.from_texts(
    texts, Fixed(), metadatas=metadatas, ids=list(NOTES), collection_name="from_texts", **place
)
out["from_texts"] = [sorted(from_texts.get()["ids"]), ids(from_texts.similarity_search("two", k=1))]
from_documents = Chroma.from_documents(MORE, Fixed(), collection_name="from_documents", **place)
out["from_documents"] = from_documents.get()["ids"]
from_documents.reset_collection()
out["reset_collection"] = from_documents._collection.count()
from_documents.delete_collection()
out["delete_collection"] = sorted(c.name for c in client.list_collections())


# None of these is Chroma's own: LangChain's base class runs the sync method in an executor.
ASYNC = [
    "aadd_texts", "aadd_documents", "asimilarity_search", "asimilarity_search_with_score",
    "asimilarity_search_by_vector", "amax_marginal_relevance_search", "aget_by_ids", "adelete",
    "afrom_texts", "afrom_documents",
]
out["async_overridden"] = [name for name in ASYNC if name in vars(Chroma)]
out["async_inherited"] = [name for name in ASYNC if name in vars(VectorStore)]


async def use_async():
    out["aadd_texts"] = await store.aadd_texts(texts, metadatas=metadatas, ids=list(NOTES))
    out["aadd_documents"] = await store.aadd_documents(MORE)
    out["asimilarity_search"] = ids(
        await store.asimilarity_search("near one", k=3, filter={"tag": "x"})
    )
    out["asimilarity_search_with_score"] = scored(
        await store.asimilarity_search_with_score("near one", k=3)
    )
    out["asimilarity_search_by_vector"] = ids(
        await store.asimilarity_search_by_vector([0.0, 0.3, 1.0], k=2)
    )
    out["amax_marginal_relevance_search"] = ids(
        await store.amax_marginal_relevance_search("near one", k=3, fetch_k=6, lambda_mult=0.3)
    )
    out["aget_by_ids"] = sorted(ids(await store.aget_by_ids(["n2", "n5"])))
    out["aretriever"] = ids(await retriever.ainvoke("near one"))
    await store.adelete(["n1", "n2"])
    out["adelete"] = sorted(store.get()["ids"])
    afrom = await Chroma.afrom_texts(
        texts[:2], Fixed(), ids=["a1", "a2"], collection_name="afrom", **place
    )
    out["afrom_texts"] = ids(await afrom.asimilarity_search("two", k=2))
    afrom = await Chroma.afrom_documents(MORE, Fixed(), collection_name="afrom", **place)
    out["afrom_documents"] = sorted(afrom.get()["ids"])


asyncio.run(use_async())

# Articles: a retriever over all-MiniLM-L6-v2 and cosine distance.
articles = Chroma.from_documents(
    [Document(text, metadata={"name": name}, id=name) for name, text in ARTICLES.items()],
    MiniLM(),
    collection_name="articles",
    collection_configuration={"hnsw": {"space": "cosine"}},
    **place,
)
out["articles_space"] = articles._collection.configuration["hnsw"]["space"]
out["relevance_scores"] = [
    scored(articles.similarity_search_with_relevance_scores(q, k=2)) for q in QUESTIONS
]
threshold = articles.as_retriever(
    search_type="similarity_score_threshold", search_kwargs={"score_threshold": 0.3, "k": 4}
)
out["threshold_retriever"] = [ids(threshold.invoke(q)) for q in QUESTIONS]
article_retriever = articles.as_retriever(search_kwargs={"k": 2})
out["retrieve"] = [
    [[doc.id, doc.page_content] for doc in article_retriever.invoke(q)] for q in QUESTIONS
]


async def aretrieve():
    found = [await article_retriever.ainvoke(q) for q in QUESTIONS]
    return [[[doc.id, doc.page_content] for doc in docs] for docs in found]


out["aretrieve"] = asyncio.run(aretrieve())
articles.delete(ids=["tides"])
out["retrieve_after_delete"] = ids(article_retriever.invoke(QUESTIONS[1]))
out["batches"] = batches
"""

# Only on achroma: chromadb's local clients raise NotImplementedError for search and fork,
# and refuse sparse indexes. Chroma's constructor never passes a schema, so the BM25
# collection is made beforehand on the same client, as langchain-chroma's docs do.
ACHROMA_ONLY = """
from chromadb import K, Knn, Rrf, Search

hybrid = Chroma("hybrid", Fixed(), **place)
hybrid.add_texts(texts, metadatas=metadatas, ids=list(NOTES))
hybrid.add_documents(MORE)
cats_near_one = Search().where(K("kind") == "cat").rank(Knn(query=VECTORS["near one"])).limit(2)
found = hybrid.hybrid_search(cats_near_one.select(K.DOCUMENT, K.METADATA))
out["hybrid_knn"] = [[doc.id, doc.page_content, doc.metadata] for doc in found]
rows = hybrid._collection.search(cats_near_one.select(K.SCORE)).rows()[0]
out["hybrid_knn_scores"] = [[row["id"], row["score"]] for row in rows]
fused = Rrf(
    ranks=[
        Knn(query=VECTORS["near one"], return_rank=True, limit=10),
        Knn(query=[0.0, 1.0, 0.0], return_rank=True, limit=10),
    ],
    weights=[2.0, 1.0],
    k=60,
)
rows = hybrid._collection.search(Search().rank(fused).limit(6).select(K.SCORE)).rows()[0]
out["hybrid_rrf"] = [[row["id"], row["score"]] for row in rows]
found = hybrid.hybrid_search(Search().rank(fused).limit(3).select(K.DOCUMENT, "year"))
out["hybrid_rrf_documents"] = [[doc.id, doc.metadata] for doc in found]
forked = hybrid.fork("hybrid_fork")
out["fork"] = [forked._collection.name, sorted(forked.get()["ids"])]

from chromadb import Schema, SparseVectorIndexConfig
from chromadb.utils.embedding_functions import ChromaBm25EmbeddingFunction

bm25 = SparseVectorIndexConfig(
    source_key=K.DOCUMENT, embedding_function=ChromaBm25EmbeddingFunction(), bm25=True
)
hybrid._client.create_collection(
    "keywords", schema=Schema().create_index(bm25, key="sparse_embedding"), embedding_function=None
)
keywords = Chroma("keywords", MiniLM(), **place)
keywords.add_texts(list(ARTICLES.values()), ids=list(ARTICLES), metadatas=[{"n": 1}] * 4)
question = "what makes yeast dough rise?"
both = Rrf(
    [
        Knn(query=MiniLM().embed_query(question), return_rank=True, limit=4, default=4),
        Knn(query=question, key="sparse_embedding", return_rank=True, limit=4, default=4),
    ]
)
found = keywords.hybrid_search(Search().rank(both).limit(2).select(K.DOCUMENT, K.METADATA))
out["hybrid_bm25"] = ids(found)
out["bm25_only"] = ids(
    keywords.hybrid_search(
        Search()
        .rank(Knn(query="moon gravity", key="sparse_embedding"))
        .select(K.DOCUMENT, K.METADATA)
    )
)
"""

FINISH = """
print(json.dumps(out))
"""

# How each run opens `client`, `store` (collection "notes", through the Chroma constructor its
# users would call) and `place`, the arguments that put another store on the same client.
CLIENTS = {
    "ephemeral": """
client = chromadb.EphemeralClient()
place = {{"client": client}}
store = Chroma("notes", Fixed(), client=client)
""",
    "persistent": """
place = {{"persist_directory": {path!r}}}
store = Chroma("notes", Fixed(), persist_directory={path!r})
client = store._client
""",
    "http": """
place = {{"host": "127.0.0.1", "port": {port}}}
store = Chroma("notes", Fixed(), host="127.0.0.1", port={port})
client = chromadb.HttpClient(host="127.0.0.1", port={port})
""",
    "chromadb": """
place = {{"persist_directory": {path!r}}}
store = Chroma("notes", Fixed(), persist_directory={path!r})
client = store._client
""",
}
ACHROMA_CLIENTS = ["ephemeral", "persistent", "http"]

# After CLIENTS: the store's collection.
COLLECTION = """
collection = store._collection
"""
