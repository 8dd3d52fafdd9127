"""`AsyncCollection`: a handle on one collection, thin over the backend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from achroma.api.configuration import update_configuration
from achroma.api.models import CollectionModel
from achroma.api.validation import validate_collection_name, validate_metadata

if TYPE_CHECKING:
    from achroma.api.client import AsyncClient


class AsyncCollection:
    """A collection of records. Obtain one from `AsyncClient.create_collection` and friends."""

    def __init__(
        self,
        client: AsyncClient,
        model: CollectionModel,
        embedding_function: Any = None,
        data_loader: Any = None,
    ) -> None:
        self._client = client
        self._model = model
        self._embedding_function = embedding_function
        self._data_loader = data_loader

    def __repr__(self) -> str:
        return f"AsyncCollection(name={self.name})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AsyncCollection):
            return NotImplemented
        return self._model.id == other._model.id and self._model.name == other._model.name

    def __hash__(self) -> int:
        return hash(self._model.id)

    @property
    def id(self) -> UUID:
        """The collection's UUID."""
        return self._model.id

    @property
    def name(self) -> str:
        return self._model.name

    @property
    def metadata(self) -> dict[str, Any] | None:
        return self._model.metadata

    @property
    def configuration(self) -> dict[str, Any]:
        """The collection configuration (HNSW parameters, embedding function)."""
        return self._model.configuration

    @property
    def configuration_json(self) -> dict[str, Any]:
        return self._model.configuration

    @property
    def tenant(self) -> str:
        return self._model.tenant

    @property
    def database(self) -> str:
        return self._model.database

    @property
    def embedding_function(self) -> Any:
        return self._embedding_function

    @property
    def data_loader(self) -> Any:
        return self._data_loader

    async def modify(
        self,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> None:
        """Rename the collection, replace its metadata, or change search-time settings."""
        if name is not None:
            validate_collection_name(name)
        if metadata is not None:
            validate_metadata(metadata, "modify")
            if any(key.startswith("hnsw:") for key in metadata):
                raise ValueError("Changing the distance function of a collection once it is created is not supported currently.")
        new_configuration = (
            update_configuration(self._model.configuration, configuration)
            if configuration is not None
            else None
        )
        await self._client._backend.modify_collection(
            self._model, name, metadata, new_configuration
        )
        if name is not None:
            self._model.name = name
        if metadata is not None:
            self._model.metadata = metadata
        if new_configuration is not None:
            self._model.configuration = new_configuration
