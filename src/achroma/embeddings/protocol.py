"""The embedding-function protocol, as chromadb 1.5.9 defines it.

A class written for chromadb (subclassing its ``EmbeddingFunction`` or just having the same
methods) works with achroma unchanged. ``AsyncEmbeddingFunction`` is achroma's addition: the
same protocol with ``async def __call__``, awaited on the event loop instead of being sent
to a worker thread. ``SparseEmbeddingFunction`` is chromadb's protocol for functions that
give `SparseVector`s (BM25, SPLADE) instead of dense arrays.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from abc import abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol, TypeVar, Union, cast, runtime_checkable

import numpy as np
import numpy.typing as npt

from achroma.core.sparse import SparseVector

Document = str
Documents = list[Document]
Image = npt.NDArray[Any]
Images = list[Image]
Embeddable = Union[Documents, Images]  # noqa: UP007 (a runtime alias on Python 3.10)
Embedding = npt.NDArray[Union[np.float32, np.int32]]  # noqa: UP007
PyEmbedding = list[float]
Embeddings = list[Embedding]
SparseVectors = list[SparseVector]
Space = Literal["cosine", "l2", "ip"]

D = TypeVar("D", bound=Embeddable, contravariant=True)

_NUMERIC = (np.float16, np.float32, np.float64, np.int32, np.int64)


def normalize_embeddings(target: Any) -> Embeddings:
    """Chroma's accepted shapes (one vector, a list of vectors, a 2-d array) as a list of
    1-d numpy arrays."""
    if target is None or len(target) == 0:
        raise ValueError(f"Expected Embeddings to be non-empty list or numpy array, got {target}")
    if isinstance(target, np.ndarray):
        if target.ndim == 1:
            return [target]
        if target.ndim == 2:
            return list(target)
    elif isinstance(target, list):
        first = target[0]
        if isinstance(first, (int, float)) and not isinstance(first, bool):
            return [np.array(target, dtype=np.float32)]
        if isinstance(first, np.ndarray):
            return cast(Embeddings, target)
        if (
            isinstance(first, list)
            and first
            and isinstance(first[0], (int, float))
            and not isinstance(first[0], bool)
        ):
            return [np.array(row, dtype=np.float32) for row in target]
    raise ValueError(
        "Expected embeddings to be a list of floats or ints, a list of lists, a numpy array, "
        f"or a list of numpy arrays, got {target}"
    )


def validate_embeddings(embeddings: Embeddings) -> Embeddings:
    """Check that `embeddings` is a non-empty list of non-empty 1-d numeric arrays."""
    if not isinstance(embeddings, (list, np.ndarray)):
        raise ValueError(f"Expected embeddings to be a list, got {type(embeddings).__name__}")
    if len(embeddings) == 0:
        raise ValueError(
            "Expected embeddings to be a list with at least one item, got 0 embeddings"
        )
    kinds = {type(e).__name__ for e in embeddings if not isinstance(e, np.ndarray)}
    if kinds:
        raise ValueError(
            f"Expected each embedding in the embeddings to be a numpy array, got {sorted(kinds)}"
        )
    for i, embedding in enumerate(embeddings):
        if embedding.ndim != 1 or embedding.size == 0:
            raise ValueError(
                "Expected each embedding to be a 1-dimensional numpy array with at least 1 "
                f"int/float value, got shape {embedding.shape} at pos {i}"
            )
        if embedding.dtype not in _NUMERIC:
            raise ValueError(
                "Expected each value in the embedding to be a int or float, got an embedding "
                f"with {embedding.dtype} at pos {i}"
            )
    return embeddings


def _checked(result: Any) -> Embeddings:
    if result is None:
        raise ValueError("The embedding function returned None")
    return validate_embeddings(normalize_embeddings(result))


def _deprecated(what: str) -> None:
    warnings.warn(
        f"{what}. This will be required in a future version.", DeprecationWarning, stacklevel=3
    )


class _Described(Protocol):
    """The descriptive half of the protocol, shared by sync and async functions."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Initialize the embedding function. This method should be overridden."""
        _deprecated(f"The class {type(self).__name__} does not implement __init__")

    @staticmethod
    def name() -> str:
        """The name the function is registered and persisted under. Override it."""
        _deprecated("The EmbeddingFunction class does not implement name()")
        return NotImplemented  # type: ignore[no-any-return]

    def default_space(self) -> Space:
        """The distance a new collection uses when its configuration names none."""
        return "l2"

    def supported_spaces(self) -> list[Space]:
        """The distances this function's vectors are meant for."""
        return ["cosine", "l2", "ip"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> Any:
        """Rebuild the function from what ``get_config`` returned. Override it."""
        _deprecated("The EmbeddingFunction class does not implement build_from_config()")
        return NotImplemented

    def get_config(self) -> dict[str, Any]:
        """A JSON-serialisable configuration, persisted with the collection. Override it."""
        _deprecated(f"The class {type(self).__name__} does not implement get_config()")
        return NotImplemented  # type: ignore[no-any-return]

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        """Raise if a collection's function may not change from `old_config` to `new_config`."""
        return None

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        """Raise if `config` is not a valid configuration for this function."""
        return None

    def is_legacy(self) -> bool:
        """True for functions that cannot be persisted (no name or config round-trip)."""
        return (
            self.name() is NotImplemented
            or self.get_config() is NotImplemented
            or self.build_from_config(self.get_config()) is NotImplemented
        )


class EmbeddingFunction(_Described, Protocol[D]):
    """Turns documents (or images) into vectors; chromadb's protocol.

    Subclass it and implement ``__call__``, ``name``, ``get_config`` and
    ``build_from_config``; register it so a collection can rebuild it from its stored
    configuration::

        @register_embedding_function
        class MyEmbeddingFunction(EmbeddingFunction[Documents]):
            def __init__(self, dim: int = 8) -> None:
                self.dim = dim

            def __call__(self, input: Documents) -> Embeddings:
                return [np.full(self.dim, len(text), np.float32) for text in input]

            @staticmethod
            def name() -> str:
                return "my_function"

            def get_config(self) -> dict[str, Any]:
                return {"dim": self.dim}

            @staticmethod
            def build_from_config(config: dict[str, Any]) -> "MyEmbeddingFunction":
                return MyEmbeddingFunction(config["dim"])

    Whatever ``__call__`` returns (lists of floats, a 2-d array) is normalised to a list of
    1-d numpy arrays and validated, as in chromadb.
    """

    @abstractmethod
    def __call__(self, input: D) -> Embeddings: ...

    def embed_query(self, input: D) -> Embeddings:
        """Embed query texts; models that embed queries differently from documents
        override it. By default the same as ``__call__``."""
        return self.__call__(input)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        call = cls.__dict__.get("__call__")
        if call is None or getattr(call, "__isabstractmethod__", False):
            return

        @functools.wraps(call)
        def __call__(self: EmbeddingFunction[D], input: D) -> Embeddings:
            return _checked(call(self, input))

        cls.__call__ = __call__  # type: ignore[method-assign]


class AsyncEmbeddingFunction(_Described, Protocol[D]):
    """The same protocol with coroutine methods, for functions that do I/O (HTTP services)
    or run their work off the event loop themselves."""

    @abstractmethod
    async def __call__(self, input: D) -> Embeddings: ...

    async def embed_query(self, input: D) -> Embeddings:
        """Embed query texts; by default the same as ``__call__``."""
        return await self.__call__(input)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        call = cls.__dict__.get("__call__")
        if call is None or getattr(call, "__isabstractmethod__", False):
            return
        if not inspect.iscoroutinefunction(call):
            raise TypeError(f"{cls.__name__}.__call__ must be declared with async def")
        acall = cast(Callable[[Any, Any], Awaitable[Any]], call)

        @functools.wraps(call)
        async def __call__(self: AsyncEmbeddingFunction[D], input: D) -> Embeddings:
            return _checked(await acall(self, input))

        cls.__call__ = __call__  # type: ignore[method-assign]


def validate_embedding_function(embedding_function: Any) -> None:
    """Raise chromadb's error if ``__call__`` does not take exactly ``(self, input)``."""
    got = inspect.signature(type(embedding_function).__call__).parameters.keys()
    expected = inspect.signature(EmbeddingFunction.__call__).parameters.keys()
    if list(got) != list(expected):
        raise ValueError(
            "Expected EmbeddingFunction.__call__ to have the following signature: "
            f"{expected}, got {got}\n"
            "Please see https://docs.trychroma.com/guides/embeddings for details of the "
            "EmbeddingFunction interface.\n"
            "Please note the recent change to the EmbeddingFunction interface: "
            "https://docs.trychroma.com/deployment/migration#migration-to-0.4.16---november-7,"
            "-2023 \n"
        )


def validate_sparse_vectors(vectors: SparseVectors) -> SparseVectors:
    """Check that `vectors` is a non-empty list of `SparseVector` (each checked itself when
    it was built); chromadb's messages."""
    if not isinstance(vectors, list):
        raise ValueError(f"Expected sparse vectors to be a list, got {type(vectors).__name__}")
    if len(vectors) == 0:
        raise ValueError(
            f"Expected sparse vectors to be a non-empty list, got {len(vectors)} sparse vectors"
        )
    for i, vector in enumerate(vectors):
        if not isinstance(vector, SparseVector):
            raise ValueError(
                f"Expected SparseVector instance at position {i}, got {type(vector).__name__}"
            )
    return vectors


@runtime_checkable
class SparseEmbeddingFunction(Protocol[D]):
    """Turns documents into `SparseVector`s; chromadb's protocol.

    Unlike the dense protocol, every method that persists the function is abstract (as in
    chromadb): a sparse function is recorded in a collection's schema by name and config, so
    it must be rebuildable. Register a new one with ``register_sparse_embedding_function``.
    ``__call__``'s result is checked: a non-empty list of `SparseVector`.
    """

    @abstractmethod
    def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    @abstractmethod
    def __call__(self, input: D) -> SparseVectors: ...

    def embed_query(self, input: D) -> SparseVectors:
        """Embed query texts; by default the same as ``__call__``."""
        return self.__call__(input)

    @staticmethod
    @abstractmethod
    def name() -> str:
        """The name the function is registered and persisted under."""

    @staticmethod
    @abstractmethod
    def build_from_config(config: dict[str, Any]) -> SparseEmbeddingFunction[D]:
        """Rebuild the function from what ``get_config`` returned."""

    @abstractmethod
    def get_config(self) -> dict[str, Any]:
        """A JSON-serialisable configuration, persisted with the collection's schema."""

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        """Raise if the function may not change from `old_config` to `new_config`."""
        return None

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        """Raise if `config` is not a valid configuration for this function."""
        return None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        call = cls.__dict__.get("__call__")
        if call is None or getattr(call, "__isabstractmethod__", False):
            return

        @functools.wraps(call)
        def __call__(self: SparseEmbeddingFunction[D], input: D) -> SparseVectors:
            result = call(self, input)
            if result is None:
                raise ValueError("The sparse embedding function returned None")
            return validate_sparse_vectors(result)

        cls.__call__ = __call__  # type: ignore[method-assign]


def validate_sparse_embedding_function(function: Any) -> None:
    """Raise chromadb's error if ``__call__`` does not take exactly ``(self, input)``."""
    got = inspect.signature(type(function).__call__).parameters.keys()
    expected = inspect.signature(SparseEmbeddingFunction.__call__).parameters.keys()
    if list(got) != list(expected):
        raise ValueError(
            "Expected SparseEmbeddingFunction.__call__ to have the following signature: "
            f"{expected}, got {got}\n"
            "Please see https://docs.trychroma.com/guides/embeddings for details of the "
            "SparseEmbeddingFunction interface.\n"
        )
