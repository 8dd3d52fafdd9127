"""The one blocking wrapper: sync classes run the async core on a private event loop.

A single background thread per process runs an anyio event loop behind a blocking portal.
It starts on first use, is safe to call from many threads at once and from inside another
running event loop (a Jupyter cell, a FastAPI sync route): the caller's thread blocks, the
private loop does the work, so there is no re-entrancy and no deadlock.

Sync classes are declared with :func:`blocking`, which copies every public coroutine method of
the async class as a sync method with the same signature and docstring. No sync method body is
written by hand.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

T = TypeVar("T")
_lock = threading.Lock()
_portal: BlockingPortal | None = None
_portal_cm: contextlib.AbstractContextManager[BlockingPortal] | None = None
_shutdown_hooks: list[Callable[[], Awaitable[None]]] = []
_at_exit_registered = False


def portal() -> BlockingPortal:
    """The process's blocking portal, started on first use."""
    global _portal, _portal_cm, _at_exit_registered
    if _portal is not None:
        return _portal
    with _lock:
        if _portal is None:
            cm = start_blocking_portal(name="achroma-loop")
            _portal = cm.__enter__()
            _portal_cm = cm
            if not _at_exit_registered:
                # threading's exit hooks run before non-daemon threads (aiosqlite's) are
                # joined, so stores are closed there rather than in `atexit`.
                threading._register_atexit(_shutdown)  # type: ignore[attr-defined]
                _at_exit_registered = True
        return _portal


def in_portal_thread() -> bool:
    return _portal is not None and threading.current_thread().name == "achroma-loop"


def run(fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
    """Run ``await fn(*args)`` on the private loop and return its result or raise its error."""
    if in_portal_thread():
        raise RuntimeError(
            "a synchronous achroma client was called from inside achroma's own event loop; "
            "use the async client there"
        )
    result: T = portal().call(fn, *args)
    return result


def on_shutdown(hook: Callable[[], Awaitable[None]]) -> None:
    """Run `hook` on the private loop when the interpreter exits (e.g. close open stores)."""
    _shutdown_hooks.append(hook)


def _shutdown() -> None:
    global _portal, _portal_cm
    with _lock:
        p, cm = _portal, _portal_cm
        _portal = _portal_cm = None
    if p is None or cm is None:
        return
    for hook in _shutdown_hooks:
        with contextlib.suppress(Exception):
            p.call(hook)
    cm.__exit__(None, None, None)


# --- the generic wrapper -------------------------------------------------------------

_SYNC_FOR: dict[type, type[SyncWrapper]] = {}


class SyncWrapper:
    """Base of every sync class: holds the async object it wraps."""

    __slots__ = ("_async",)
    _async_type: type

    def __init__(self, inner: Any) -> None:
        self._async = inner

    def __repr__(self) -> str:
        return repr(self._async).replace("Async", "", 1)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SyncWrapper):
            return bool(self._async == other._async)
        return bool(self._async == other)

    def __hash__(self) -> int:
        return hash(self._async)


def to_sync(value: Any) -> Any:
    """Wrap async objects in a result (alone or in a list) in their sync class."""
    wrapper = _SYNC_FOR.get(type(value))
    if wrapper is not None:
        return wrapper(value)
    if isinstance(value, list) and value and type(value[0]) in _SYNC_FOR:
        return [to_sync(v) for v in value]
    return value


def _unwrap(value: Any) -> Any:
    return value._async if isinstance(value, SyncWrapper) else value


def _sync_method(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def method(self: SyncWrapper, *args: Any, **kwargs: Any) -> Any:
        bound = getattr(self._async, name)
        args = tuple(_unwrap(a) for a in args)
        kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
        return to_sync(run(functools.partial(bound, *args, **kwargs)))

    return method


def _forward_property(name: str, doc: str | None) -> property:
    def fget(self: SyncWrapper) -> Any:
        return to_sync(getattr(self._async, name))

    def fset(self: SyncWrapper, value: Any) -> None:
        setattr(self._async, name, value)

    return property(fget, fset, doc=doc)


def blocking(async_type: type) -> Callable[[type[T]], type[T]]:
    """Class decorator: give a `SyncWrapper` subclass the sync twin of every public method
    and property of `async_type`."""

    def decorate(cls: type[T]) -> type[T]:
        assert issubclass(cls, SyncWrapper)
        cls._async_type = async_type
        for name, member in inspect.getmembers(async_type):
            if name.startswith("_") and name not in ("__len__",):
                continue
            if name in cls.__dict__:
                continue
            static = inspect.getattr_static(async_type, name)
            if isinstance(static, property):
                setattr(cls, name, _forward_property(name, static.__doc__))
            elif inspect.iscoroutinefunction(member):
                setattr(cls, name, _sync_method(name, member))
            elif callable(member) and not isinstance(static, (staticmethod, classmethod)):
                setattr(cls, name, _forward_plain(name, member))
        _SYNC_FOR[async_type] = cls
        return cls

    return decorate


def _forward_plain(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def method(self: SyncWrapper, *args: Any, **kwargs: Any) -> Any:
        return to_sync(getattr(self._async, name)(*args, **kwargs))

    return method
