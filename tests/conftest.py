"""Fixtures: every behaviour runs on each client path (sync/async x ephemeral/persistent).

Tests are written once, against an awaitable client. The sync variants wrap the sync client so
that each call runs in a worker thread, exactly as a user's blocking code would call it.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import settings

import achroma
from achroma.sync import SyncWrapper

pytest_plugins = ("http_servers",)  # achroma_server / chroma_server fixtures for HTTP tests

# CI runs the same examples every time (a failure is reproducible from the log, not luck);
# HYPOTHESIS_PROFILE=explore draws new ones, as the long runs do.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile(
    os.environ.get(
        "HYPOTHESIS_PROFILE", "explore" if os.environ.get("ACHROMA_LONG_TESTS") == "1" else "ci"
    )
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def compat_clients() -> Iterator[tuple[Any, Any]]:
    """chromadb's and achroma's EphemeralClient, for the side-by-side tests of one module
    (tests/side_by_side.py). chromadb's default settings: it allows no others in a process."""
    chromadb = pytest.importorskip("chromadb")
    ours = achroma.EphemeralClient()
    yield chromadb.EphemeralClient(), ours
    ours.close()


class Awaitable:
    """Presents a sync achroma object with the async object's awaitable interface."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(getattr(self._inner._async_type, name, None)):
            return _adapt(attr) if not callable(attr) else attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            args = tuple(a._inner if isinstance(a, Awaitable) else a for a in args)
            result = await anyio.to_thread.run_sync(functools.partial(attr, *args, **kwargs))
            return _adapt(result)

        return call

    def __repr__(self) -> str:
        return repr(self._inner)

    def __eq__(self, other: object) -> bool:
        return bool(self._inner == (other._inner if isinstance(other, Awaitable) else other))

    def __hash__(self) -> int:
        return hash(self._inner)


def _adapt(value: Any) -> Any:
    if isinstance(value, SyncWrapper):
        return Awaitable(value)
    if isinstance(value, list) and value and isinstance(value[0], SyncWrapper):
        return [Awaitable(v) for v in value]
    return value


ClientFactory = Callable[..., Any]


def _factories(tmp_path: Path) -> dict[str, ClientFactory]:
    path = tmp_path / "chroma"

    async def async_ephemeral(**kw: Any) -> Any:
        return await achroma.AsyncEphemeralClient(**kw)

    async def async_persistent(**kw: Any) -> Any:
        return await achroma.AsyncPersistentClient(path, **kw)

    async def sync_ephemeral(**kw: Any) -> Any:
        return Awaitable(await anyio.to_thread.run_sync(lambda: achroma.EphemeralClient(**kw)))

    async def sync_persistent(**kw: Any) -> Any:
        return Awaitable(
            await anyio.to_thread.run_sync(lambda: achroma.PersistentClient(path, **kw))
        )

    return {
        "async-ephemeral": async_ephemeral,
        "async-persistent": async_persistent,
        "sync-ephemeral": sync_ephemeral,
        "sync-persistent": sync_persistent,
    }


CLIENT_KINDS = ["async-ephemeral", "async-persistent", "sync-ephemeral", "sync-persistent"]


@pytest.fixture(params=CLIENT_KINDS)
async def make_client(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[ClientFactory]:
    """A factory for clients of one kind; every client it makes is closed after the test."""
    factory = _factories(tmp_path)[request.param]
    made: list[Any] = []

    async def make(**kw: Any) -> Any:
        client = await factory(**kw)
        made.append(client)
        return client

    make.kind = request.param  # type: ignore[attr-defined]
    yield make
    for client in made:
        await client.close()


@pytest.fixture
async def client(make_client: ClientFactory) -> Any:
    return await make_client(settings=achroma.Settings(allow_reset=True))
