"""Any local sentence-transformers model, with the constructor and configuration of
chromadb's ``SentenceTransformerEmbeddingFunction``. sentence-transformers (and so torch) is
imported only when such a function is created; achroma never requires it."""

from __future__ import annotations

import importlib
import json
import threading
from typing import Any, ClassVar

import anyio.to_thread
import numpy as np

from achroma.embeddings.protocol import (
    AsyncEmbeddingFunction,
    Documents,
    EmbeddingFunction,
    Embeddings,
    Space,
)

_PRIMITIVES = (str, int, float, bool, list, dict, tuple)


class _SentenceTransformerSettings:
    models: ClassVar[dict[str, Any]] = {}
    _models_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        model_name: str = "all-MiniLM-L6-v2",
        device: str = "cpu",
        normalize_embeddings: bool = False,
        **kwargs: Any,
    ) -> None:
        """Load `model_name` (a hub name or a local directory) on `device`; extra keyword
        arguments go to ``SentenceTransformer`` and must be JSON-like, since they are
        persisted. Loaded models are shared between instances."""
        try:
            module = importlib.import_module("sentence_transformers")
        except ImportError as exc:
            raise ValueError(
                "The sentence_transformers python package is not installed. Please install it "
                "with `pip install sentence_transformers`"
            ) from exc
        for key, value in kwargs.items():
            if not isinstance(value, _PRIMITIVES):
                raise ValueError(f"Keyword argument {key} is not a primitive type")
        self.model_name = model_name
        self.device = device
        self.normalize_embeddings = normalize_embeddings
        self.kwargs = kwargs
        key = json.dumps([model_name, device, kwargs], sort_keys=True, default=str)
        with self._models_lock:
            if key not in self.models:
                self.models[key] = module.SentenceTransformer(
                    model_name_or_path=model_name, device=device, **kwargs
                )
            self._model = self.models[key]

    def _encode(self, input: Documents) -> Embeddings:
        vectors = self._model.encode(
            list(input), convert_to_numpy=True, normalize_embeddings=self.normalize_embeddings
        )
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    @staticmethod
    def name() -> str:
        return "sentence_transformer"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "l2", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "device": self.device,
            "normalize_embeddings": self.normalize_embeddings,
            "kwargs": self.kwargs,
        }

    @classmethod
    def build_from_config(cls, config: dict[str, Any]) -> Any:
        for field in ("model_name", "device", "normalize_embeddings"):
            if config.get(field) is None:
                raise ValueError(f"The sentence_transformer config needs {field}")
        return cls(
            model_name=config["model_name"],
            device=config["device"],
            normalize_embeddings=config["normalize_embeddings"],
            **config.get("kwargs", {}),
        )


class SentenceTransformerEmbeddingFunction(
    _SentenceTransformerSettings, EmbeddingFunction[Documents]
):
    """A sentence-transformers model run in-process. Example::

    ef = SentenceTransformerEmbeddingFunction("/models/all-mpnet-base-v2", device="cpu")
    """

    def __call__(self, input: Documents) -> Embeddings:
        return self._encode(input)


class AsyncSentenceTransformerEmbeddingFunction(
    _SentenceTransformerSettings, AsyncEmbeddingFunction[Documents]
):
    """The same model, awaited: each call runs in a worker thread. It records itself as
    ``sentence_transformer``, so a reopened collection rebuilds the sync function."""

    async def __call__(self, input: Documents) -> Embeddings:
        return await anyio.to_thread.run_sync(self._encode, input)
