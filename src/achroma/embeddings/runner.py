"""The one async entry point collections use to run any embedding function."""

from __future__ import annotations

import inspect
from typing import Any

import anyio.to_thread

from achroma.embeddings.protocol import Embeddings, normalize_embeddings, validate_embeddings


def is_async(function: Any) -> bool:
    """Whether calling `function` gives an awaitable (an ``AsyncEmbeddingFunction``)."""
    call = getattr(type(function), "__call__", None)  # noqa: B004 (the class's, not callable())
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(call)


async def embed(function: Any, input: Any, *, is_query: bool = False) -> Embeddings:
    """Run `function` on `input` without blocking the event loop.

    Async functions are awaited; sync ones (CPU-bound models, blocking HTTP clients) run in
    a worker thread. ``is_query=True`` uses ``embed_query`` where the function has one, as
    chromadb does for query texts. The result is a validated list of 1-d numpy arrays.
    """
    method = getattr(function, "embed_query", None) if is_query else None
    if method is None:
        method = function
    if inspect.iscoroutinefunction(method) or (method is function and is_async(function)):
        result = await method(input)
    else:
        result = await anyio.to_thread.run_sync(method, input)
    return validate_embeddings(normalize_embeddings(result))
