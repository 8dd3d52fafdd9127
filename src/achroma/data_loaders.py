"""Data loaders: what turns stored URIs into data, as chromadb's do.

A collection's `data_loader` is called with a list of URIs (None where a record has none)
and returns one item per URI. It serves `include=["data"]` on get and query, and feeds a
multimodal embedding function for `add(uris=...)` and `query(query_uris=...)`.

Example::

    from achroma.data_loaders import ImageLoader

    collection = client.create_collection(
        "photos", embedding_function=my_clip_function, data_loader=ImageLoader()
    )
    collection.add(ids=["cat"], uris=["images/cat.png"])  # loaded, then embedded
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import anyio.to_thread
import numpy as np

from achroma.embeddings.protocol import Image
from achroma.embeddings.runner import is_async

URI = str
URIs = list[URI]
Loadable = list[Image | None]
L = TypeVar("L", covariant=True, bound=Loadable)

PILLOW_MISSING = (
    "The PIL python package is not installed. Please install it with `pip install pillow`"
)


class DataLoader(Protocol[L]):
    """chromadb's protocol: URIs in, one loaded item per URI out. An ``async def __call__``
    is awaited on the event loop (achroma's addition); a plain one runs in a worker thread."""

    def __call__(self, uris: URIs) -> L: ...


class ImageLoader(DataLoader[list[Image | None]]):
    """Loads local image files into numpy arrays with Pillow (``pip install pillow``), in
    parallel threads; a None URI gives None."""

    def __init__(self, max_workers: int = os.cpu_count() or 1) -> None:
        try:
            self._pil_image = importlib.import_module("PIL.Image")
        except ImportError:
            raise ValueError(PILLOW_MISSING) from None
        self._max_workers = max_workers

    def _load_image(self, uri: URI | None) -> Image | None:
        if uri is None:
            return None
        with self._pil_image.open(uri) as image:
            return np.array(image)

    def __call__(self, uris: Sequence[URI | None]) -> list[Image | None]:
        with ThreadPoolExecutor(max_workers=self._max_workers) as executor:
            return list(executor.map(self._load_image, uris))


async def load(loader: Any, uris: Sequence[URI | None]) -> Any:
    """Run `loader` on `uris` without blocking the event loop."""
    if is_async(loader):
        return await loader(list(uris))
    return await anyio.to_thread.run_sync(loader, list(uris))
