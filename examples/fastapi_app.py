"""A FastAPI app over an async achroma client: add documents, search them by meaning.

The app's lifespan opens one `AsyncPersistentClient` (in ./chroma, or $CHROMA_PATH) and closes
it at shutdown; every request shares it. Documents and queries are embedded by the default
model, all-MiniLM-L6-v2, in a worker thread, so the event loop keeps serving.

    POST /documents   [{"id": "...", "text": "...", "topic": "..."}, ...]
    GET  /search?q=...&n=3&topic=...

Serve it (needs `pip install fastapi uvicorn`):

    uvicorn fastapi_app:app --app-dir examples

Or run this file: it drives the app in process, through httpx's ASGI transport, with no
network server, and prints what the endpoints answer.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

import achroma

DATA_DIR = os.environ.get("CHROMA_PATH", "./chroma")


class Document(BaseModel):
    id: str
    text: str
    topic: str = "general"


class Hit(BaseModel):
    id: str
    document: str | None
    topic: str | None
    distance: float


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with await achroma.AsyncPersistentClient(DATA_DIR) as client:
        app.state.collection = await client.get_or_create_collection("documents")
        yield


app = FastAPI(title="achroma search", lifespan=lifespan)


def get_collection(request: Request) -> achroma.AsyncCollection:
    collection: achroma.AsyncCollection = request.app.state.collection
    return collection


# Each endpoint is handed the lifespan's collection.
Docs = Annotated[achroma.AsyncCollection, Depends(get_collection)]


@app.exception_handler(ValueError)
async def invalid_request(request: Request, exc: ValueError) -> JSONResponse:
    # achroma's validation errors (InvalidArgumentError, DuplicateIDError, ...) are ValueErrors.
    return JSONResponse({"detail": str(exc)}, status_code=400)


@app.post("/documents", status_code=201)
async def add_documents(documents: list[Document], docs: Docs) -> dict[str, int]:
    """Add (or replace) documents; answers with how many the collection holds."""
    await docs.upsert(
        ids=[d.id for d in documents],
        documents=[d.text for d in documents],
        metadatas=[{"topic": d.topic} for d in documents],
    )
    return {"count": await docs.count()}


@app.get("/search")
async def search(
    docs: Docs,
    q: str,
    n: int = Query(3, ge=1, le=100),
    topic: str | None = None,
) -> list[Hit]:
    """The `n` documents nearest in meaning to `q`, optionally only those of one topic."""
    result = await docs.query(
        query_texts=[q], n_results=n, where={"topic": topic} if topic else None
    )
    # Included by default; the result's type leaves them optional.
    assert result["documents"] and result["metadatas"] and result["distances"]
    return [
        Hit(id=id_, document=doc, topic=str(meta["topic"]) if meta else None, distance=distance)
        for id_, doc, meta, distance in zip(
            result["ids"][0],
            result["documents"][0],
            result["metadatas"][0],
            result["distances"][0],
            strict=True,
        )
    ]


DOCUMENTS = [
    {"id": "bread", "text": "Knead the dough, let it rise, then bake it hot.", "topic": "food"},
    {"id": "pasta", "text": "Boil pasta in salted water until al dente.", "topic": "food"},
    {"id": "tide", "text": "The moon's pull raises the ocean twice a day.", "topic": "science"},
    {"id": "orbit", "text": "Planets follow elliptical orbits around the sun.", "topic": "science"},
    {"id": "chess", "text": "A chess opening fights for the centre of the board."},
]


async def demo() -> None:
    # Enter the app's lifespan as a server would, then call it without a network.
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as http,
    ):
        added = await http.post("/documents", json=DOCUMENTS)
        print(f"POST /documents -> {added.status_code} {added.json()}")
        searches: list[dict[str, str | int]] = [
            {"q": "how do I make bread", "n": 2},
            {"q": "what causes ocean tides", "n": 2},
            {"q": "astronomy", "n": 1, "topic": "science"},
        ]
        for params in searches:
            hits = (await http.get("/search", params=params)).raise_for_status().json()
            print(f"GET /search {params}:")
            for hit in hits:
                print(f"  {hit['id']:6} {hit['distance']:.3f}  {hit['document']}")
        bad = await http.get("/search", params={"q": "anything", "n": 0})
        print(f"GET /search n=0 -> {bad.status_code}")
        twice = await http.post("/documents", json=[DOCUMENTS[0], DOCUMENTS[0]])
        print(f"POST /documents (one id twice) -> {twice.status_code} {twice.json()['detail']}")


if __name__ == "__main__":
    asyncio.run(demo())
