"""Where a request leaves the server's own code: the api layer that validates it, and the store
behind that layer. Each boundary decides which errors are the caller's.

The api layer raises chromadb's client-side validation errors, some of them plain `ValueError`s
and `TypeError`s (as chromadb's embedded client does); `validated` answers those as 400s. The
store may raise only `ChromaError`s (the `Backend` contract); `guarded` makes anything else a
`StoreFault`, so that a bug deep in the engine can never pass for a validation error.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable
from typing import Any, TypeVar, cast

from achroma.backend.base import Backend
from achroma.errors import ChromaError
from achroma.server.errors import invalid_argument

T = TypeVar("T")

# What chromadb's client-side validation raises besides its own error classes.
VALIDATION_ERRORS = (ValueError, TypeError, AttributeError, IndexError, OverflowError)


class StoreFault(Exception):
    """The store raised something other than a `ChromaError` (the cause): a bug."""


async def validated(call: Awaitable[T]) -> T:
    """The result of a call on the api layer, with its plain validation errors as 400s."""
    try:
        return await call
    except ChromaError:
        raise
    except VALIDATION_ERRORS as exc:
        raise invalid_argument(str(exc)) from exc


class _Guarded:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._backend, name)
        if not inspect.iscoroutinefunction(found):
            return found

        @functools.wraps(found)
        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return await found(*args, **kwargs)
            except ChromaError:
                raise
            except Exception as exc:
                raise StoreFault(f"{type(exc).__name__} in Backend.{name}") from exc

        return call


def guarded(backend: Backend) -> Backend:
    """`backend`, with every error but a `ChromaError` raised as a `StoreFault`."""
    return cast(Backend, _Guarded(backend))
