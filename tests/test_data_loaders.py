"""Data loaders, URIs and images on every client path: what the loader reads is embedded and
returned as `data`, loaders run off the event loop, and a failing load writes nothing.
(Equality with chromadb is checked in test_compat_multimodal.py.)"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import achroma
from achroma.data_loaders import ImageLoader
from http_servers import Server

pytestmark = pytest.mark.anyio


class MeanPixel:
    """Images to (mean, max, 1); texts to (length, 0, 0)."""

    def __call__(self, input: Any) -> list[np.ndarray]:
        return [
            np.array([len(x), 0, 0], np.float32)
            if isinstance(x, str)
            else np.array([x.mean(), x.max(), 1], np.float32)
            for x in input
        ]


class ArrayLoader:
    """Reads .npy files; records the thread it ran on."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def __call__(self, uris: list[str | None]) -> list[np.ndarray | None]:
        self.threads.append(threading.get_ident())
        return [np.load(u) if u is not None else None for u in uris]


class AsyncArrayLoader:
    async def __call__(self, uris: list[str | None]) -> list[np.ndarray | None]:
        return [np.load(u) if u is not None else None for u in uris]


@pytest.fixture
def arrays(tmp_path: Path) -> list[str]:
    paths = []
    for value in (1, 5, 9):
        path = tmp_path / f"{value}.npy"
        np.save(path, np.full((2, 3), value, np.uint8))
        paths.append(str(path))
    return paths


async def test_uris_are_loaded_embedded_and_given_back_as_data(
    client: Any, arrays: list[str]
) -> None:
    loader = ArrayLoader()
    collection = await client.create_collection(
        "pictures", embedding_function=MeanPixel(), data_loader=loader
    )
    await collection.add(ids=["a", "b", "c"], uris=arrays)
    got = await collection.get(ids=["b"], include=["data", "embeddings"])
    assert got["uris"] == [arrays[1]]
    assert got["included"] == ["data", "embeddings", "uris"]
    assert np.array_equal(got["data"][0], np.full((2, 3), 5, np.uint8))
    assert got["embeddings"].tolist() == [[5.0, 5.0, 1.0]]

    found = await collection.query(query_uris=[arrays[2]], n_results=2, include=["data"])
    assert found["ids"] == [["c", "b"]]
    assert [d.max() for d in found["data"][0]] == [9, 5]
    assert threading.main_thread().ident not in loader.threads


async def test_an_async_loader_is_awaited(client: Any, arrays: list[str]) -> None:
    collection = await client.create_collection(
        "pictures", embedding_function=MeanPixel(), data_loader=AsyncArrayLoader()
    )
    await collection.add(ids=["a", "b"], uris=arrays[:2])
    got = await collection.get(include=["data"])
    assert [d.max() for d in got["data"]] == [1, 5]


async def test_images_are_embedded_and_queried(client: Any) -> None:
    collection = await client.create_collection("pictures", embedding_function=MeanPixel())
    dark, bright = np.zeros((4, 4), np.uint8), np.full((4, 4, 3), 200, np.uint8)
    await collection.add(ids=["dark", "bright"], images=[dark, bright], documents=None)
    await collection.add(ids=["text"], documents=["words"])
    found = await collection.query(query_images=np.full((2, 2), 190.0), n_results=1)
    assert found["ids"] == [["bright"]]
    got = await collection.get(ids=["dark"], include=["embeddings", "uris", "documents"])
    assert got["embeddings"].tolist() == [[0.0, 0.0, 1.0]]
    assert got["uris"] == [None] and got["documents"] == [None]


async def test_a_failing_load_writes_nothing(client: Any, arrays: list[str]) -> None:
    collection = await client.create_collection(
        "pictures", embedding_function=MeanPixel(), data_loader=ArrayLoader()
    )
    with pytest.raises(FileNotFoundError):
        await collection.add(ids=["a", "b"], uris=[arrays[0], "/no/such/file.npy"])
    assert await collection.count() == 0


async def test_uris_without_a_loader_name_the_data_loader(client: Any, arrays: list[str]) -> None:
    collection = await client.create_collection("pictures", embedding_function=MeanPixel())
    with pytest.raises(ValueError, match="data loader"):
        await collection.add(ids=["a"], uris=arrays[:1])
    with pytest.raises(ValueError, match="data loader"):
        await collection.get(include=["data"])
    await collection.add(ids=["a"], embeddings=[[1, 2, 3]], uris=arrays[:1])
    assert (await collection.get(include=["uris", "metadatas"]))["metadatas"] == [{}]


async def test_a_bad_uri_type_is_a_type_error_and_writes_nothing(client: Any) -> None:
    collection = await client.create_collection("pictures", embedding_function=None)
    with pytest.raises(TypeError, match="argument 'uris'"):
        await collection.add(ids=["a", "b"], embeddings=[[1, 2], [3, 4]], uris=["ok", 7])
    assert await collection.count() == 0


def test_image_loader_reads_png_files_as_arrays(tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    pixels = np.arange(27, dtype=np.uint8).reshape(3, 3, 3)
    image.fromarray(pixels).save(tmp_path / "p.png")
    loaded = ImageLoader(max_workers=2)([str(tmp_path / "p.png"), None])
    assert np.array_equal(loaded[0], pixels) and loaded[1] is None


def test_image_loader_without_pillow_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.import_module

    def no_pil(name: str, *args: Any) -> Any:
        if name.startswith("PIL"):
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_pil)
    with pytest.raises(ValueError, match="pip install pillow"):
        ImageLoader()


async def test_data_is_loaded_by_the_http_client(achroma_server: Server, arrays: list[str]) -> None:
    client = await achroma.AsyncHttpClient(host=achroma_server.host, port=achroma_server.port)
    try:
        collection = await client.create_collection(
            "http-pictures", embedding_function=MeanPixel(), data_loader=ArrayLoader()
        )
        await collection.add(ids=["a", "b"], uris=arrays[:2])
        found = await collection.query(query_uris=arrays[1:2], n_results=1, include=["data"])
        assert found["ids"] == [["b"]] and found["uris"] == [[arrays[1]]]
        assert found["data"][0][0].max() == 5
    finally:
        await client.delete_collection("http-pictures")
        await client.close()
