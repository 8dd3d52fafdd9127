"""`Bm25EmbeddingFunction`: chromadb's older, fastembed-based BM25 function (``"bm25"``).

chromadb deprecates it for `ChromaBm25EmbeddingFunction`; it is here so that code and
collection schemas that name it keep working. Like chromadb's, it needs the optional
``fastembed`` package (``pip install fastembed``), which downloads the ``Qdrant/bm25``
model files on first use, and says so with a ValueError when it is missing.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, TypedDict

from achroma.core.sparse import SparseVector
from achroma.embeddings.protocol import Documents, SparseEmbeddingFunction, SparseVectors

TaskType = Literal["document", "query"]

_MISSING = (
    "The fastembed python package is not installed. Please install it with `pip install fastembed`"
)


class Bm25EmbeddingFunctionQueryConfig(TypedDict):
    """How ``embed_query`` embeds: as documents or as queries."""

    task: TaskType


def _fastembed_bm25() -> Any:
    try:
        from fastembed.sparse.bm25 import Bm25  # type: ignore[import-not-found]
    except ImportError:
        raise ValueError(_MISSING) from None
    return Bm25


class Bm25EmbeddingFunction(SparseEmbeddingFunction[Documents]):
    """fastembed's BM25 model; chromadb's deprecated ``bm25`` function.

    Arguments left as None take fastembed's defaults; extra keyword arguments (primitive
    values only, so they can be persisted) go to fastembed's ``Bm25``.
    """

    def __init__(
        self,
        avg_len: float | None = None,
        task: TaskType | None = "document",
        cache_dir: str | None = None,
        k: float | None = None,
        b: float | None = None,
        language: str | None = None,
        token_max_length: int | None = None,
        disable_stemmer: bool | None = None,
        specific_model_path: str | None = None,
        query_config: Bm25EmbeddingFunctionQueryConfig | None = None,
        **kwargs: Any,
    ) -> None:
        warnings.warn(
            "Bm25EmbeddingFunction is deprecated. Please use ChromaBm25EmbeddingFunction instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        bm25 = _fastembed_bm25()
        self.task = task
        self.query_config = query_config
        self.cache_dir = cache_dir
        self.k = k
        self.b = b
        self.avg_len = avg_len
        self.language = language
        self.token_max_length = token_max_length
        self.disable_stemmer = disable_stemmer
        self.specific_model_path = specific_model_path
        for key, value in kwargs.items():
            if not isinstance(value, (str, int, float, bool, list, dict, tuple)):
                raise ValueError(f"Keyword argument {key} is not a primitive type")
        self.kwargs = kwargs
        options = {
            "model_name": "Qdrant/bm25",
            "cache_dir": cache_dir,
            "k": k,
            "b": b,
            "avg_len": avg_len,
            "language": language,
            "token_max_length": token_max_length,
            "disable_stemmer": disable_stemmer,
            "specific_model_path": specific_model_path,
            **kwargs,
        }
        self._model = bm25(**{key: value for key, value in options.items() if value is not None})

    def __call__(self, input: Documents) -> SparseVectors:
        return self._embed(input, self.task)

    def embed_query(self, input: Documents) -> SparseVectors:
        """Embed as ``query_config["task"]`` says; without a query config, as ``__call__``."""
        if self.query_config is None:
            return self.__call__(input)
        return self._embed(input, self.query_config.get("task"))

    def _embed(self, input: Documents, task: str | None) -> SparseVectors:
        _fastembed_bm25()
        if task == "document":
            embedded = self._model.embed(list(input))
        elif task == "query":
            embedded = self._model.query_embed(list(input))
        else:
            raise ValueError(f"Invalid task: {task}")
        return [_sorted_vector(v.indices.tolist(), v.values.tolist()) for v in embedded]

    @staticmethod
    def name() -> str:
        return "bm25"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> Bm25EmbeddingFunction:
        return Bm25EmbeddingFunction(
            task=config.get("task"),
            query_config=config.get("query_config"),
            cache_dir=config.get("cache_dir"),
            k=config.get("k"),
            b=config.get("b"),
            avg_len=config.get("avg_len"),
            language=config.get("language"),
            token_max_length=config.get("token_max_length"),
            disable_stemmer=config.get("disable_stemmer"),
            specific_model_path=config.get("specific_model_path"),
            **config.get("kwargs", {}),
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "query_config": self.query_config,
            "cache_dir": self.cache_dir,
            "k": self.k,
            "b": self.b,
            "avg_len": self.avg_len,
            "language": self.language,
            "token_max_length": self.token_max_length,
            "disable_stemmer": self.disable_stemmer,
            "specific_model_path": self.specific_model_path,
            "kwargs": self.kwargs,
        }


def _sorted_vector(indices: list[int], values: list[float]) -> SparseVector:
    pairs = sorted(zip(indices, values, strict=True), key=lambda pair: pair[0])
    return SparseVector(indices=[i for i, _ in pairs], values=[v for _, v in pairs])
