"""Embedding a collection's inputs: choosing the function as chromadb does, and reading
URIs through the data loader."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeAlias, Union

import numpy as np
import numpy.typing as npt

from achroma.api.record_inputs import normalize_embeddings
from achroma.data_loaders import DataLoader, Loadable, load
from achroma.embeddings import DefaultEmbeddingFunction, embed, embedding_function_from_config
from achroma.embeddings.protocol import AsyncEmbeddingFunction, Documents, EmbeddingFunction, Images

# What `embedding_function=` takes: chromadb's protocol or achroma's async one, embedding
# documents or images (chromadb's `EmbeddingFunction[Embeddable]` would refuse a function
# of documents only, its type parameter being contravariant).
CollectionEmbeddingFunction: TypeAlias = Union[  # noqa: UP007
    EmbeddingFunction[Documents],
    EmbeddingFunction[Images],
    AsyncEmbeddingFunction[Documents],
    AsyncEmbeddingFunction[Images],
]


# The default argument of every `embedding_function=` parameter, as in chromadb: it stands
# for "the function the collection recorded, else the default model" (creating it loads
# nothing; the model is read on first use).
DEFAULT_EMBEDDING_FUNCTION: Any = DefaultEmbeddingFunction()

NO_LOADER_MESSAGE = "You must set a data loader on the collection if loading from URIs."

NO_FUNCTION_MESSAGE = (
    "You must provide an embedding function to compute embeddings."
    "https://docs.trychroma.com/guides/embeddings"
)


@dataclasses.dataclass
class Inputs:
    """What an embedding function can embed, one list per record or query (None: not given)."""

    documents: list[Any] | None
    images: list[Any] | None
    uris: list[Any] | None


# The inputs each operation embeds when no embeddings are given, in chromadb's terms.
EMBEDDABLE = {
    "add": ("documents", "images", "uris"),
    "query": ("documents", "images", "uris"),
    "upsert": ("documents", "images"),
    "update": ("documents", "images"),
}


class Embedder:
    """The embedding function and data loader of one collection handle."""

    def __init__(
        self,
        function: CollectionEmbeddingFunction | None,
        data_loader: DataLoader[Loadable] | None,
    ) -> None:
        self.function = function
        self.data_loader = data_loader
        # The function rebuilt from the configuration, and the record it was built from.
        self._recorded: tuple[Any, Any] | None = None

    async def embed(
        self,
        inputs: Inputs,
        fields: tuple[str, ...],
        record: Any,
        *,
        is_query: bool = False,
    ) -> npt.NDArray[np.float32]:
        """Embed the one field of `inputs` that is given: documents, images, or the data the
        data loader reads from URIs. `record` is the function the collection records."""
        given = [f for f in fields if getattr(inputs, f) is not None]
        if len(given) != 1:
            raise ValueError(f"Exactly one of {', '.join(fields)} must be provided")
        field = given[0]
        data: Any = getattr(inputs, field)
        if field == "documents" and any(d is None for d in data):
            raise ValueError("Expected every document to be a str when computing embeddings")
        if field == "uris":
            data = await self.load(data)
        vectors = await embed(self.chosen(record), data, is_query=is_query)
        return normalize_embeddings(vectors)

    async def load(self, uris: list[Any]) -> Any:
        """The data the data loader reads from `uris`."""
        if self.data_loader is None:
            raise ValueError(NO_LOADER_MESSAGE)
        return await load(self.data_loader, uris)

    def chosen(self, record: Any) -> Any:
        """The function that embeds documents and query texts, chosen as chromadb does: the
        caller's own; else the one the configuration records; else, for a collection that
        records nothing, the default model; a legacy record needs the caller's function."""
        function = self.function
        if function is not None and not isinstance(function, DefaultEmbeddingFunction):
            return function
        if self._recorded is None or self._recorded[0] != record:
            self._recorded = (record, embedding_function_from_config(record))
        if self._recorded[1] is not None:
            return self._recorded[1]
        if record is None:
            return function if function is not None else DEFAULT_EMBEDDING_FUNCTION
        if function is None:
            raise ValueError(NO_FUNCTION_MESSAGE)
        return function
