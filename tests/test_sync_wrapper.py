"""The one blocking wrapper: threads, running loops, and no hand-written sync bodies."""

from __future__ import annotations

import asyncio
import inspect
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import achroma
from achroma.api.client import AsyncAdminAPI, AsyncClient
from achroma.api.collection import AsyncCollection

SYNC_TWINS: list[tuple[type, type]] = [
    (AsyncClient, achroma.ClientAPI),
    (AsyncAdminAPI, achroma.AdminAPI),
    (AsyncCollection, achroma.Collection),
]
SYNC_NAME = {a.__name__: s.__name__ for a, s in SYNC_TWINS}


def _as_sync(annotation: object) -> object:
    """A return annotation (a string, under postponed evaluation) with sync class names."""
    if not isinstance(annotation, str):
        return annotation
    return re.sub(r"\w+", lambda m: SYNC_NAME.get(m[0], m[0]), annotation)


def _public(async_type: type) -> list[tuple[str, object]]:
    return [
        (name, member)
        for name, member in inspect.getmembers(async_type)
        if not name.startswith("_")
        and (callable(member) or isinstance(inspect.getattr_static(async_type, name), property))
    ]


@pytest.mark.parametrize(("async_type", "sync_type"), SYNC_TWINS)
def test_every_public_async_method_has_a_sync_twin_with_its_signature(
    async_type: type, sync_type: type
) -> None:
    for name, member in inspect.getmembers(async_type, inspect.iscoroutinefunction):
        if name.startswith("_"):
            continue
        twin = getattr(sync_type, name)
        assert not inspect.iscoroutinefunction(twin), name
        expected = inspect.signature(member)
        expected = expected.replace(return_annotation=_as_sync(expected.return_annotation))
        assert inspect.signature(twin) == expected, name
        assert inspect.getdoc(twin) == inspect.getdoc(member), name


@pytest.mark.parametrize(("async_type", "sync_type"), SYNC_TWINS)
def test_properties_and_plain_methods_are_forwarded_with_their_docstrings(
    async_type: type, sync_type: type
) -> None:
    for name, member in _public(async_type):
        twin = inspect.getattr_static(sync_type, name)
        static = inspect.getattr_static(async_type, name)
        if isinstance(static, property):
            assert isinstance(twin, property), name
            assert twin.__doc__ == static.__doc__, name
            assert (twin.fset is None) == (static.fset is None), name
        elif not isinstance(static, (staticmethod, classmethod)):
            assert inspect.getdoc(twin) == inspect.getdoc(member), name


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
