"""The one blocking wrapper: sync classes run the async core on a private event loop.

A single background thread per process runs an anyio event loop behind a blocking portal.
It starts on first use, is safe to call from many threads at once and from inside another
running event loop (a Jupyter cell, a FastAPI sync route): the caller's thread blocks, the
private loop does the work, so there is no re-entrancy and no deadlock.

The sync classes (`achroma.sync_api`) are generated from the async ones by
``tools/generate_sync_api.py``: each sync method is one :func:`call` of its async twin, so no
sync method body is written by hand.
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import functools
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ClassVar, Generic, ParamSpec, TypeVar, cast

from anyio.from_thread import BlockingPortal, start_blocking_portal

T = TypeVar("T")
A = TypeVar("A")
P = ParamSpec("P")
_lock = threading.Lock()
_portal: BlockingPortal | None = None
_loop: asyncio.AbstractEventLoop | None = None
_portal_cm: contextlib.AbstractContextManager[BlockingPortal] | None = None
_shutdown_hooks: list[Callable[[], Awaitable[None]]] = []
_at_exit_registered = False


def portal() -> BlockingPortal:
    """The process's blocking portal, started on first use."""
    global _portal, _portal_cm, _loop, _at_exit_registered
    if _portal is not None:
        return _portal
    with _lock:
        if _portal is None:
            cm = start_blocking_portal(name="achroma-loop")
            started = cm.__enter__()
            _loop = started.call(_running_loop)
            _portal, _portal_cm = started, cm
            if not _at_exit_registered:
                # threading's exit hooks run before non-daemon threads (aiosqlite's) are
                # joined, so stores are closed there rather than in `atexit`.
                threading._register_atexit(_shutdown)  # type: ignore[attr-defined]
                _at_exit_registered = True
        return _portal


async def _running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


class _Call:
    """One call's outcome, handed back to the blocked thread through a lock it waits on:
    cheaper than a concurrent Future (a Condition) plus a task done-callback, which take
    another loop iteration and a third of a sync query's hop."""

    __slots__ = ("done", "error", "task", "value")

    def __init__(self) -> None:
        self.done = _thread.allocate_lock()
        self.done.acquire()
        self.value: Any = None
        self.error: BaseException | None = None
        self.task: asyncio.Task[None] | None = None

    def start(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        """On the loop: the call's task, held here since the loop keeps only weak references
        to its tasks."""
        self.task = asyncio.get_running_loop().create_task(self.run(fn, args))

    async def run(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        try:
            self.value = await fn(*args)
        except BaseException as exc:  # handed to the caller, who raises it
            self.error = exc
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise  # the loop stops on these, as it did before
        finally:
            self.done.release()


def in_portal_thread() -> bool:
    return _portal is not None and threading.current_thread().name == "achroma-loop"


def run(fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
    """Run ``await fn(*args)`` on the private loop and return its result or raise its error."""
    if in_portal_thread():
        raise RuntimeError(
            "a synchronous achroma client was called from inside achroma's own event loop; "
            "use the async client there"
        )
    portal()
    assert _loop is not None
    # Straight onto the portal's loop: the portal's own `call` (a task in its task group,
    # a cancel scope) costs twice as much a call, and nothing here needs it.
    call = _Call()
    _loop.call_soon_threadsafe(call.start, fn, args)
    call.done.acquire()
    if call.error is not None:
        raise call.error
    return cast(T, call.value)


def on_shutdown(hook: Callable[[], Awaitable[None]]) -> None:
    """Run `hook` on the private loop when the interpreter exits (e.g. close open stores)."""
    _shutdown_hooks.append(hook)


def _shutdown() -> None:
    global _portal, _portal_cm, _loop
    with _lock:
        p, cm = _portal, _portal_cm
        _portal = _portal_cm = _loop = None
    if p is None or cm is None:
        return
    for hook in _shutdown_hooks:
        with contextlib.suppress(Exception):
            p.call(hook)
    cm.__exit__(None, None, None)


# --- the generic wrapper -------------------------------------------------------------


class SyncWrapper(Generic[A]):
    """Base of every sync class: holds the async object it wraps."""

    __slots__ = ("_async",)
    _async_type: ClassVar[type]

    def __init__(self, inner: A) -> None:
        self._async = inner

    def __repr__(self) -> str:
        return repr(self._async).replace("Async", "", 1)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SyncWrapper):
            return bool(self._async == other._async)
        return bool(self._async == other)

    def __hash__(self) -> int:
        return hash(self._async)


def _unwrap(value: Any) -> Any:
    return value._async if isinstance(value, SyncWrapper) else value


def call(method: Callable[P, Coroutine[Any, Any, T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``await method(*args, **kwargs)`` on the private loop, sync wrappers among the
    arguments replaced by the async objects they hold."""
    unwrapped = {k: _unwrap(v) for k, v in kwargs.items()}
    return run(functools.partial(method, *map(_unwrap, args), **unwrapped))
