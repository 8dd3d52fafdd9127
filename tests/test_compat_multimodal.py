"""Images, URIs and data loaders: the same calls on chromadb 1.5.9 and on achroma give the same
outcome.

Both collections get the same multimodal embedding function (texts and images to small
vectors) and each library's own `ImageLoader`, reading PNG files written for the test. Each
call's result (or exception class and message) is compared, then the whole collection.

Left out, because chromadb's behaviour there is a bug:
- With "data" in `include`, chromadb appends "uris" to the caller's own list and also returns
  metadatas it was not asked for. achroma returns the URIs (they are what the data was loaded
  from) but neither touches the caller's list nor adds metadatas; `metadatas` is not compared
  when only "data" asked for it.
- The order of the fields in "Exactly one of ..." (chromadb joins a Python set).
- upsert and update given uris beside documents or images: chromadb embeds whichever of the
  fields a Python set yields first, so the outcome changes from process to process. achroma
  embeds the documents or images and stores the URIs.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

chromadb = pytest.importorskip("chromadb")
pytest.importorskip("PIL")

from chromadb.utils.data_loaders import ImageLoader as ChromaImageLoader  # noqa: E402
from PIL import Image  # noqa: E402

from achroma.utils.data_loaders import ImageLoader  # noqa: E402
from side_by_side import call  # noqa: E402

GRAY = np.zeros((2, 2), dtype=np.uint8)
WHITE = np.full((3, 3, 3), 255, dtype=np.uint8)


class Multimodal:
    """Texts become (length, 1, 0); images become (mean pixel, 0, 1)."""

    def __call__(self, input: Any) -> list[np.ndarray]:
        return [
            np.array([len(x), 1.0, 0.0], np.float32)
            if isinstance(x, str)
            else np.array([float(np.asarray(x).mean()), 0.0, 1.0], np.float32)
            for x in input
        ]

    def embed_query(self, input: Any) -> list[np.ndarray]:
        return self(input)

    @staticmethod
    def name() -> str:
        return "test_multimodal"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> Multimodal:
        return Multimodal()

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "l2"

    def supported_spaces(self) -> list[str]:
        return ["l2", "cosine", "ip"]


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("pictures")
    paths = []
    for i in range(3):
        pixels = (np.arange(48).reshape(4, 4, 3) * (i + 1) % 255).astype(np.uint8)
        path = folder / f"{i}.png"
        Image.fromarray(pixels).save(path)
        paths.append(str(path))
    return paths


@pytest.fixture
def pair(compat_clients: tuple[Any, Any]) -> tuple[Any, Any]:
    name = f"multimodal-{uuid.uuid4().hex[:12]}"
    return (
        compat_clients[0].create_collection(
            name, embedding_function=Multimodal(), data_loader=ChromaImageLoader(max_workers=2)
        ),
        compat_clients[1].create_collection(
            name, embedding_function=Multimodal(), data_loader=ImageLoader(max_workers=2)
        ),
    )


def _same(expected: Any, actual: Any, where: str) -> None:
    if isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
        assert isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray), where
        assert actual.dtype == expected.dtype and actual.shape == expected.shape, where
        assert np.allclose(actual, expected), where
    elif isinstance(expected, list | tuple):
        assert isinstance(actual, list | tuple) and len(actual) == len(expected), (
            f"{where}\n  chromadb: {expected!r}\n  achroma:  {actual!r}"
        )
        for e, a in zip(expected, actual, strict=True):
            _same(e, a, where)
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-5), where
    else:
        assert actual == expected, f"{where}\n  chromadb: {expected!r}\n  achroma:  {actual!r}"


def _compare(expected: Any, actual: Any, where: str, include: list[str] | None) -> None:
    if expected[0] == "error" or actual[0] == "error":
        assert actual == expected, f"{where}\n  chromadb: {expected}\n  achroma:  {actual}"
        return
    e, a = expected[1], actual[1]
    if not isinstance(e, dict):
        assert a == e, where
        return
    assert list(a) == list(e), where
    for field in e:
        if field == "metadatas" and include is not None and "metadatas" not in include:
            continue  # chromadb's unrequested metadatas with "data" (module docstring)
        _same(e[field], a[field], f"{where}: {field}")


def run(pair: tuple[Any, Any], method: str, **kwargs: Any) -> None:
    """Call `method` on both collections, compare the outcomes, then the stored records."""
    include = kwargs.get("include")
    where = f"{method}(**{kwargs!r})"
    _compare(call(pair[0], method, kwargs), call(pair[1], method, kwargs), where, include)
    everything = {"include": ["embeddings", "documents", "metadatas", "uris"]}
    expected, actual = (call(c, "get", everything) for c in pair)
    _compare(expected, actual, f"state after {where}", everything["include"])


def test_add_embeds_images_and_the_data_loaded_from_uris(pair: Any, pictures: list[str]) -> None:
    run(pair, "add", ids=["u0", "u1"], uris=pictures[:2])
    run(pair, "add", ids=["i0"], images=[GRAY])
    run(pair, "add", ids=["i1"], images=WHITE)
    run(pair, "add", ids=["e0"], embeddings=[[1, 2, 3]], uris=[pictures[2]])
    run(pair, "add", ids=["m0"], embeddings=[[1, 2, 3]], uris=[pictures[2]], metadatas={"k": 1})


BAD_INPUT = [
    {"documents": ["d"], "uris": ["/nowhere.png"]},
    {"images": [GRAY], "uris": ["/nowhere.png"]},
    {"images": [GRAY], "documents": ["d"]},
    {"images": [np.zeros(3)]},
    {"images": ["not an image"]},
    {"images": []},
    {"uris": []},
    {"documents": []},
    {"images": [GRAY, GRAY]},
    {"embeddings": [[1, 2, 3]], "uris": [3]},
    {"embeddings": [[1, 2, 3]], "uris": ["a", "b"]},
]


def _deterministic(method: str, kwargs: dict[str, Any]) -> bool:
    """Whether chromadb's outcome is the same in every process (module docstring)."""
    return method == "add" or "uris" not in kwargs or not {"documents", "images"} & set(kwargs)


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        (method, kwargs)
        for method in ("add", "upsert", "update")
        for kwargs in BAD_INPUT
        if _deterministic(method, kwargs)
    ],
    ids=repr,
)
def test_bad_multimodal_input_is_refused_alike(
    pair: Any, pictures: list[str], method: str, kwargs: dict[str, Any]
) -> None:
    run(pair, "add", ids=["x"], uris=[pictures[0]])
    run(pair, method, ids=["x"], **kwargs)


def test_a_missing_file_fails_the_whole_add(pair: Any, pictures: list[str]) -> None:
    run(pair, "add", ids=["a", "b"], uris=[pictures[0], "/nowhere/at/all.png"])


def test_upsert_and_update_embed_images_and_store_uris(pair: Any, pictures: list[str]) -> None:
    run(pair, "add", ids=["u0", "u1"], uris=pictures[:2])
    run(pair, "upsert", ids=["u0"], uris=[pictures[1]])
    run(pair, "upsert", ids=["u0"], images=[WHITE])
    run(pair, "update", ids=["u1"], uris=[pictures[2]])
    run(pair, "update", ids=["u1"], images=[GRAY])
    run(pair, "update", ids=["u1"], images=[GRAY], documents=["d"])


@pytest.mark.parametrize(
    "include",
    [["data"], ["uris"], ["data", "uris"], ["data", "metadatas"], ["metadatas"], ["documents"]],
    ids=repr,
)
def test_get_loads_data_from_uris(pair: Any, pictures: list[str], include: list[str]) -> None:
    run(pair, "add", ids=["u0", "u1"], uris=pictures[:2])
    run(pair, "add", ids=["i0"], images=[GRAY])
    run(pair, "add", ids=["m0"], images=[WHITE], metadatas=[{"k": 1}])
    run(pair, "get", include=include)
    run(pair, "get", ids=["u1", "m0"], include=include)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"query_uris": ["PICTURE0"], "include": ["uris", "distances", "data"]},
        {"query_uris": ["PICTURE0", "PICTURE2"], "include": ["distances"]},
        {"query_images": [GRAY], "include": ["uris", "distances"]},
        {"query_images": WHITE, "include": ["distances"]},
        {"query_texts": ["ab"], "query_images": [GRAY]},
        {"query_embeddings": [[1, 2, 3]], "query_uris": ["PICTURE0"]},
        {"query_embeddings": [[1, 2, 3]], "query_images": [GRAY, GRAY]},
        {"query_embeddings": [[1, 2, 3]], "query_texts": ["a", "b"]},
        {"query_embeddings": [[1, 2, 3]], "query_texts": [None]},
        {"query_texts": ["a", None]},
        {"query_images": []},
        {"query_uris": []},
        {"query_images": [np.zeros(3)]},
        {"query_embeddings": [[1, 2, 3]], "include": ["data"]},
    ],
    ids=repr,
)
def test_query_by_image_and_uri(pair: Any, pictures: list[str], kwargs: dict[str, Any]) -> None:
    run(pair, "add", ids=["u0", "u1"], uris=pictures[:2])
    run(pair, "add", ids=["i0"], images=[GRAY])
    run(pair, "add", ids=["t0"], documents=["a text"], metadatas={"k": 1})
    kwargs = {
        k: [pictures[int(u[-1])] for u in v] if k == "query_uris" else v for k, v in kwargs.items()
    }
    run(pair, "query", n_results=2, **kwargs)


def test_without_a_data_loader_uris_are_refused_alike(
    compat_clients: tuple[Any, Any], pictures: list[str]
) -> None:
    name = f"no-loader-{uuid.uuid4().hex[:12]}"
    pair = tuple(c.create_collection(name, embedding_function=Multimodal()) for c in compat_clients)
    run(pair, "add", ids=["x"], uris=pictures[:1])
    run(pair, "add", ids=["x"], embeddings=[[1, 2, 3]], uris=pictures[:1])
    run(pair, "get", include=["data"])
    run(pair, "query", query_uris=pictures[:1])
    run(pair, "query", query_embeddings=[[1, 2, 3]], include=["data", "distances"])


def test_image_loader_reads_what_chromadbs_reads(tmp_path: Path, pictures: list[str]) -> None:
    gray = tmp_path / "gray.png"
    Image.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4)).save(gray)
    uris = [*pictures, None, str(gray)]
    _same(ChromaImageLoader(max_workers=2)(uris), ImageLoader(max_workers=2)(uris), "loader")
