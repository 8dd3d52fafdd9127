"""The one blocking wrapper: threads, running loops, and no hand-written sync bodies."""

from __future__ import annotations

import asyncio
import inspect
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import achroma
from achroma.api.client import AsyncClient
from achroma.api.collection import AsyncCollection


def test_every_async_method_has_a_sync_twin() -> None:
    for async_type, sync_type in [
        (AsyncClient, achroma.ClientAPI),
        (AsyncCollection, achroma.Collection),
    ]:
        for name, member in inspect.getmembers(async_type, inspect.iscoroutinefunction):
            if name.startswith("_"):
                continue
            twin = getattr(sync_type, name)
            assert not inspect.iscoroutinefunction(twin), name
            assert inspect.signature(twin) == inspect.signature(member), name


def test_sync_client_from_eight_threads_at_once(tmp_path: Path) -> None:
    client = achroma.PersistentClient(tmp_path / "db")

    def work(i: int) -> str:
        col = client.create_collection(f"col-{i}")
        col.modify(metadata={"thread": i})
        return client.get_collection(f"col-{i}").metadata["thread"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(32)))
    assert results == list(range(32))
    assert client.count_collections() == 32
    client.close()


def test_sync_client_inside_a_running_event_loop(tmp_path: Path) -> None:
    async def notebook_cell() -> int:
        # A Jupyter cell or a FastAPI sync route: blocking calls with a loop running.
        client = achroma.PersistentClient(tmp_path / "db")
        client.create_collection("docs")
        n = client.count_collections()
        client.close()
        return n

    assert asyncio.run(notebook_cell()) == 1


def test_sync_client_as_context_manager(tmp_path: Path) -> None:
    with achroma.PersistentClient(tmp_path / "db") as client:
        client.create_collection("docs")
    try:
        client.list_collections()
    except achroma.errors.ClientClosedError:
        pass
    else:
        raise AssertionError("closed client still answered")


def test_collections_returned_by_sync_client_are_sync(tmp_path: Path) -> None:
    with achroma.PersistentClient(tmp_path / "db") as client:
        col = client.create_collection("docs")
        assert isinstance(col, achroma.Collection)
        assert all(isinstance(c, achroma.Collection) for c in client.list_collections())
