"""Testing your own async code that uses achroma, with pytest and anyio's pytest plugin.

The code under test is `Notes`, a small store of notes searchable by similarity and tag. Each
test gets a fresh in-memory store from an async fixture (an `AsyncEphemeralClient` starts
empty once every earlier one has closed), or a directory of its own (`tmp_path`) when it
checks what survives a restart. The tests pass their own small embeddings, so no model runs
and the suite takes a fraction of a second.

anyio's plugin comes with anyio (an achroma dependency): mark the tests `anyio` and choose the
backend with the `anyio_backend` fixture. Run this file (`python testing_with_anyio.py`) and it
runs pytest on itself, or run `pytest testing_with_anyio.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

import achroma

# --- the code under test (in your project, imported from your package) ---


class Notes:
    """Notes stored with their embeddings, found again by similarity and tag."""

    def __init__(self, collection: achroma.AsyncCollection) -> None:
        self._collection = collection

    @classmethod
    async def open(cls, client: achroma.AsyncClient, name: str = "notes") -> Notes:
        collection = await client.get_or_create_collection(
            name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )
        return cls(collection)

    async def add(self, note_id: str, text: str, embedding: list[float], tag: str) -> None:
        await self._collection.upsert(
            ids=[note_id], embeddings=[embedding], documents=[text], metadatas=[{"tag": tag}]
        )

    async def similar(
        self, embedding: list[float], n: int = 3, tag: str | None = None
    ) -> list[str]:
        """Ids of the `n` notes nearest to `embedding`, nearest first."""
        result = await self._collection.query(
            query_embeddings=[embedding],
            n_results=n,
            where={"tag": tag} if tag else None,
            include=[],
        )
        return result["ids"][0]

    async def forget(self, tag: str) -> int:
        """Delete the notes of one tag; returns how many notes remain."""
        await self._collection.delete(where={"tag": tag})
        return await self._collection.count()


# --- the tests ---

pytestmark = pytest.mark.anyio

NOTES = {
    "n1": ("buy milk", [1.0, 0.0, 0.0], "errands"),
    "n2": ("buy bread", [0.9, 0.1, 0.0], "errands"),
    "n3": ("call the dentist", [0.0, 1.0, 0.0], "health"),
    "n4": ("book a check-up", [0.1, 0.9, 0.1], "health"),
    "n5": ("water the plants", [0.0, 0.0, 1.0], "home"),
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # achroma's store runs on asyncio (aiosqlite), not trio


@pytest.fixture
async def client() -> AsyncIterator[achroma.AsyncClient]:
    async with await achroma.AsyncEphemeralClient() as client:
        yield client


@pytest.fixture
async def notes(client: achroma.AsyncClient) -> Notes:
    notes = await Notes.open(client)
    for note_id, (text, embedding, tag) in NOTES.items():
        await notes.add(note_id, text, embedding, tag)
    return notes


async def test_similar_returns_the_nearest_notes_first(notes: Notes) -> None:
    assert await notes.similar([1.0, 0.05, 0.0], n=2) == ["n1", "n2"]


async def test_similar_keeps_to_the_tag(notes: Notes) -> None:
    assert await notes.similar([1.0, 0.0, 0.0], n=2, tag="health") == ["n4", "n3"]


async def test_forget_deletes_only_that_tag(notes: Notes) -> None:
    assert await notes.forget("errands") == 3
    assert "n1" not in await notes.similar([1.0, 0.0, 0.0], n=3)


async def test_each_test_starts_with_an_empty_store(client: achroma.AsyncClient) -> None:
    assert await client.list_collections() == []


async def test_concurrent_adds_all_land(client: achroma.AsyncClient) -> None:
    notes = await Notes.open(client, "many-notes")
    async with anyio.create_task_group() as tasks:
        for i in range(20):
            tasks.start_soon(notes.add, f"m{i}", f"note {i}", [1.0, i / 20, 0.0], "bulk")
    assert len(await notes.similar([1.0, 0.0, 0.0], n=20)) == 20


async def test_notes_survive_a_restart(tmp_path: Path) -> None:
    async with await achroma.AsyncPersistentClient(tmp_path / "chroma") as client:
        await (await Notes.open(client)).add("n1", "buy milk", [1.0, 0.0, 0.0], "errands")
    async with await achroma.AsyncPersistentClient(tmp_path / "chroma") as client:
        assert await (await Notes.open(client)).similar([1.0, 0.0, 0.0], n=1) == ["n1"]


if __name__ == "__main__":
    # This file imported anyio before pytest loads it as a plugin, hence the warning to
    # silence; no:cacheprovider leaves no .pytest_cache behind.
    quiet = ["-q", "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    raise SystemExit(pytest.main([__file__, *quiet]))
