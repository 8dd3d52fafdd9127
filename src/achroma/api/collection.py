"""`AsyncCollection`: a handle on one collection, thin over the backend."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any, TypeAlias, TypeVar, Union
from uuid import UUID

import numpy as np
import numpy.typing as npt

from achroma.api.configuration import (
    check_update_target,
    handle_configuration,
    parse_update,
    update_json,
    updated_configuration,
)
from achroma.api.embedding_inputs import (
    EMBEDDABLE,
    NO_LOADER_MESSAGE,
    CollectionEmbeddingFunction,
    Embedder,
    Inputs,
)
from achroma.api.record_inputs import (
    check_embeddings_finite,
    check_encodable,
    check_lengths,
    check_u32,
    check_uris,
    normalize_documents,
    normalize_embeddings,
    normalize_ids,
    normalize_images,
    normalize_metadatas,
    normalize_query_ids,
    normalize_uris,
    reject_none_values,
    validate_get_limit_offset,
    validate_images,
    validate_include,
    validate_n_results,
)
from achroma.api.search_inputs import search_json, string_knns
from achroma.api.sparse_inputs import apply_sparse_embeddings, embed_sparse_query
from achroma.api.types import ID, CollectionMetadata, UpdateMetadata
from achroma.api.validation import (
    check_modify_metadata,
    collection_name_problem,
    convert_metadata,
    metadata_problem,
    raise_invalid,
    require_str,
    validate_collection_name,
)
from achroma.backend.base import Backend
from achroma.core import off_loop
from achroma.core.filters import check_sendable, parse_where, parse_where_document
from achroma.core.models import (
    CollectionModel,
    DeleteResult,
    GetResult,
    Include,
    IndexingStatus,
    Metadata,
    QueryResult,
    Where,
    WhereDocument,
)
from achroma.core.records import RecordBatch
from achroma.core.requests import DeleteRequest, GetRequest, QueryRequest, RecordFilter
from achroma.core.search_plan import EMBEDDING as EMBEDDING_KEY
from achroma.core.search_plan import parse_search_request
from achroma.core.sparse import SparseVector
from achroma.data_loaders import URI, DataLoader, Loadable
from achroma.embeddings import (
    embedding_function_from_config,
    embedding_function_to_config,
    overwrite_embedding_function,
    validate_embedding_function,
)
from achroma.embeddings.protocol import (
    Document,
    Embedding,
    Image,
    PyEmbedding,
)
from achroma.errors import InvalidArgumentError
from achroma.schema import Schema
from achroma.search import ReadLevel, Search, SearchResult

T = TypeVar("T")
OneOrMany: TypeAlias = Union[T, list[T]]  # noqa: UP007 (a runtime alias on Python 3.10)


def with_uris(include: list[Include]) -> tuple[Include, ...]:
    """`include` for the backend: loading "data" needs the URIs, which the result then
    includes too (as in chromadb)."""
    if "data" in include and "uris" not in include:
        return (*include, "uris")
    return tuple(include)


@contextlib.contextmanager
def errors_in(op: str) -> Iterator[None]:
    """Append Chroma's " in <op>." to errors of its client-side validation (not to
    `InvalidArgumentError`, which Chroma raises server-side without the suffix)."""
    try:
        yield
    except InvalidArgumentError:
        raise
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        suffix = f" in {op}."
        if exc.args and isinstance(exc.args[0], str) and not exc.args[0].endswith(suffix):
            exc.args = (exc.args[0] + suffix, *exc.args[1:])
        raise


class AsyncCollection:
    """A collection of records. Obtain one from `AsyncClient.create_collection` and friends."""

    def __init__(
        self,
        backend: Backend,
        model: CollectionModel,
        embedding_function: CollectionEmbeddingFunction | None = None,
        data_loader: DataLoader[Loadable] | None = None,
    ) -> None:
        if embedding_function is not None:
            validate_embedding_function(embedding_function)
        self._backend = backend
        self._model = model
        self._embedder = Embedder(embedding_function, data_loader)
        self._schema_cache: tuple[Any, Schema] | None = None

    def __repr__(self) -> str:
        return f"AsyncCollection(name={self.name})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AsyncCollection):
            return NotImplemented
        return self._model.id == other._model.id and self._model.name == other._model.name

    def __hash__(self) -> int:
        return hash(self._model.id)

    @property
    def model(self) -> CollectionModel:
        """The collection as the backend stores it (the wire's `Collection` object: id,
        name, configuration, metadata, dimension, ...)."""
        return self._model

    @property
    def id(self) -> UUID:
        """The collection's UUID."""
        return self._model.id

    @property
    def name(self) -> str:
        """The collection's name."""
        return self._model.name

    @property
    def metadata(self) -> CollectionMetadata | None:
        """The collection's metadata, as last set (None when it has none)."""
        return self._model.metadata

    @property
    def configuration(self) -> dict[str, Any]:
        """The collection configuration: HNSW parameters and the embedding function (an
        instance rebuilt from its record, or None), as chromadb gives it."""
        configuration = dict(self._model.configuration)
        configuration["embedding_function"] = embedding_function_from_config(
            configuration.get("embedding_function")
        )
        return configuration

    @property
    def configuration_json(self) -> dict[str, Any]:
        """The configuration as stored: the embedding function as its name and config."""
        return self._model.configuration

    @property
    def schema(self) -> Schema:
        """The collection's index schema as the backend reported it (with the metadata keys
        discovered by writes up to then: `get_collection` again to see later ones)."""
        return Schema.deserialize_from_json(self._model.schema or {})

    def _schema(self) -> Schema:
        """`schema`, rebuilt (with its embedding functions) only when the model's changes."""
        current = self._model.schema
        if self._schema_cache is None or self._schema_cache[0] is not current:
            self._schema_cache = (current, self.schema)
        return self._schema_cache[1]

    @property
    def tenant(self) -> str:
        """The tenant the collection belongs to."""
        return self._model.tenant

    @property
    def database(self) -> str:
        """The database the collection belongs to."""
        return self._model.database

    @property
    def embedding_function(self) -> CollectionEmbeddingFunction | None:
        """The function this handle embeds documents and query texts with (None: the
        one the collection records, else the default model)."""
        return self._embedder.function

    @property
    def data_loader(self) -> DataLoader[Loadable] | None:
        """The loader that reads `uris` into data for embedding and for `include=["data"]`."""
        return self._embedder.data_loader

    async def modify(
        self,
        name: str | None = None,
        metadata: CollectionMetadata | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> None:
        """Rename the collection, replace its metadata (a None value drops its key), or change
        search-time HNSW settings (`ef_search`, `max_neighbors`, `resize_factor`,
        `sync_threshold`; `num_threads` and `batch_size` are accepted and not kept).

        Arguments are checked in chromadb's order, and nothing is written unless all pass.
        """
        if metadata is not None:
            check_modify_metadata(metadata)
            if "hnsw:space" in metadata:
                raise ValueError(
                    "Changing the distance function of a collection once it is created is not "
                    "supported currently."
                )
        text = update_json(configuration)
        if name is not None:
            require_str(name, "new_name")
        new_metadata = convert_metadata(metadata, "new_metadata", allow_none=True)
        update = parse_update(text, configuration)
        raise_invalid(
            new_name=collection_name_problem(name) if name is not None else None,
            new_metadata=metadata_problem(new_metadata),
        )
        check_update_target(update)
        if update is not None and update.embedding_function is not None:
            record = self._updated_function_record(update.embedding_function)
            update = dataclasses.replace(update, embedding_function=record)
        new_configuration = (
            updated_configuration(self._model.configuration, update) if update else None
        )
        await self._backend.modify_collection(self._model, name, new_metadata, new_configuration)
        # The handle caches what was asked for, as chromadb's does.
        if name:
            self._model.name = name
        if metadata:
            self._model.metadata = metadata
        if update:
            self._model.configuration = handle_configuration(self._model.configuration, update)

    def _updated_function_record(self, function: Any) -> dict[str, Any]:
        """What the configuration records after ``modify(configuration={"embedding_function":
        function})``: chromadb's rule (same name, an accepted config change), checked before
        anything is written. A dict is a record already (a server receiving a client's)."""
        if isinstance(function, dict):
            return function
        if not function.is_legacy():
            function.validate_config(function.get_config())
        existing = embedding_function_from_config(
            self._model.configuration.get("embedding_function")
        )
        if existing is not None:
            function = overwrite_embedding_function(existing, function)
        return embedding_function_to_config(function)

    # --- records ---

    async def count(self) -> int:
        """How many records the collection holds."""
        return await self._backend.count(self._model)

    async def fork_count(self) -> int:
        """How many other collections share this one's fork line: the collection it was
        forked from (or that line's first), and every fork made from any of them.

        (chromadb's local clients raise NotImplementedError; Chroma Cloud counts forks.)
        """
        return await self._backend.fork_count(self._model)

    async def get_indexing_status(self) -> IndexingStatus:
        """How many write batches the vector index has applied, of how many committed.

        Queries never wait on this (a read catches the index up first); it shows work the
        index still has to do. (chromadb's local clients raise NotImplementedError.)
        """
        return await self._backend.indexing_status(self._model)

    async def add(
        self,
        ids: OneOrMany[ID],
        embeddings: OneOrMany[Embedding] | OneOrMany[PyEmbedding] | None = None,
        metadatas: OneOrMany[Metadata] | None = None,
        documents: OneOrMany[Document] | None = None,
        images: OneOrMany[Image] | None = None,
        uris: OneOrMany[URI] | None = None,
    ) -> None:
        """Add records. Ids that already exist are left unchanged, as in Chroma.

        Without `embeddings`, the documents are embedded by the collection's embedding
        function. The whole batch is validated first: a bad batch writes nothing.
        """
        batch = await self._prepare("add", ids, embeddings, metadatas, documents, images, uris)
        await self._backend.add(self._model, batch)

    async def upsert(
        self,
        ids: OneOrMany[ID],
        embeddings: OneOrMany[Embedding] | OneOrMany[PyEmbedding] | None = None,
        metadatas: OneOrMany[UpdateMetadata] | None = None,
        documents: OneOrMany[Document] | None = None,
        images: OneOrMany[Image] | None = None,
        uris: OneOrMany[URI] | None = None,
    ) -> None:
        """Add new records and update existing ones (metadata is merged; None removes a key)."""
        batch = await self._prepare("upsert", ids, embeddings, metadatas, documents, images, uris)
        await self._backend.upsert(self._model, batch)

    async def update(
        self,
        ids: OneOrMany[ID],
        embeddings: OneOrMany[Embedding] | OneOrMany[PyEmbedding] | None = None,
        metadatas: OneOrMany[UpdateMetadata] | None = None,
        documents: OneOrMany[Document] | None = None,
        images: OneOrMany[Image] | None = None,
        uris: OneOrMany[URI] | None = None,
    ) -> None:
        """Update existing records; ids that do not exist are ignored with a logged warning.

        Only the fields given change; metadata is merged and a None value removes its key.
        """
        batch = await self._prepare("update", ids, embeddings, metadatas, documents, images, uris)
        await self._backend.update(self._model, batch)

    async def _prepare(
        self,
        op: str,
        ids: Any,
        embeddings: Any,
        metadatas: Any,
        documents: Any,
        images: Any,
        uris: Any,
    ) -> RecordBatch:
        size = len(ids) if isinstance(ids, list) else 1  # (a large batch: off the loop)
        with errors_in(op):
            checked = await off_loop.for_batch(
                size, _checked_inputs, op, ids, embeddings, metadatas, documents, images, uris
            )
            id_list, vectors, metadata_list, document_list, image_list, uri_list = checked
            if vectors is None:
                # As in chromadb, uris are embedded (through the data loader) only on add;
                # upsert and update store them beside what they embed.
                inputs = Inputs(document_list, image_list, uri_list if op == "add" else None)
                if op != "update" or inputs.documents is not None or inputs.images is not None:
                    vectors = await self._embed(inputs, EMBEDDABLE[op])
            metadata_list = await self._with_sparse_embeddings(metadata_list, document_list)
        return await off_loop.for_batch(
            size, _checked_batch, op, id_list, vectors, metadata_list, document_list, uri_list
        )

    async def _with_sparse_embeddings(
        self, metadatas: list[Any] | None, documents: list[Any] | None
    ) -> list[Any] | None:
        """The metadatas with the schema's sparse embedding targets filled in (chromadb's
        client-side step; a server, which never embeds, overrides it)."""
        return await apply_sparse_embeddings(self._schema(), metadatas, documents)

    async def _embed(
        self, inputs: Inputs, fields: tuple[str, ...], *, is_query: bool = False
    ) -> npt.NDArray[np.float32]:
        record = self._model.configuration.get("embedding_function")
        return await self._embedder.embed(inputs, fields, record, is_query=is_query)

    async def get(
        self,
        ids: OneOrMany[ID] | None = None,
        where: Where | None = None,
        limit: int | None = None,
        offset: int | None = None,
        where_document: WhereDocument | None = None,
        include: list[Include] = ["metadatas", "documents"],  # noqa: B006 (Chroma's signature)
    ) -> GetResult:
        """Records by id and/or filter, in insertion order, paged by `limit` and `offset`."""
        with errors_in("get"):
            id_list = (
                normalize_ids(
                    ids,
                    nonempty_message="Expected IDs to be a non-empty list, got 0 IDs",
                    allow_empty_id=True,
                )
                if ids is not None
                else None
            )
            selection = self._parse_filters(id_list, where, where_document)
            include = validate_include(include, allow_distances=False)
            if "data" in include and self._embedder.data_loader is None:
                raise ValueError(NO_LOADER_MESSAGE)
        validate_get_limit_offset(limit, offset)
        check_encodable(id_list)
        check_u32(limit, offset)
        check_sendable(selection.where, selection.where_document)
        request = GetRequest(selection, limit, offset, with_uris(include))
        result = await self._backend.get(self._model, request)
        if "data" in include and result["uris"] is not None:
            result["data"] = await self._embedder.load(result["uris"])
        return result

    async def peek(self, limit: int = 10) -> GetResult:
        """The first `limit` records, with their embeddings."""
        validate_get_limit_offset(limit, None)
        check_u32(limit)
        return await self._backend.get(
            self._model, GetRequest(limit=limit, include=("metadatas", "documents", "embeddings"))
        )

    async def query(
        self,
        query_embeddings: OneOrMany[Embedding] | OneOrMany[PyEmbedding] | None = None,
        query_texts: OneOrMany[Document] | None = None,
        query_images: OneOrMany[Image] | None = None,
        query_uris: OneOrMany[URI] | None = None,
        ids: OneOrMany[ID] | None = None,
        n_results: int = 10,
        where: Where | None = None,
        where_document: WhereDocument | None = None,
        include: list[Include] = ["metadatas", "documents", "distances"],  # noqa: B006
    ) -> QueryResult:
        """The `n_results` nearest records to each query, nearest first.

        Give query vectors, or one of `query_texts`, `query_images` or `query_uris` (read
        by the data loader) for the embedding function. `where`, `where_document` and `ids`
        restrict the search; results stay exact under filters.
        """
        with errors_in("query"):
            include = validate_include(include, allow_distances=True)
            if (
                query_embeddings is None
                and query_texts is None
                and query_images is None
                and query_uris is None
            ):
                raise ValueError(
                    "At least one of one of embeddings, documents, images, uris must be provided"
                )
            vectors = (
                normalize_embeddings(query_embeddings) if query_embeddings is not None else None
            )
            inputs = Inputs(
                normalize_documents(query_texts, allow_none=vectors is not None),
                normalize_images(query_images),
                normalize_uris(query_uris),
            )
            check_lengths(
                embeddings=vectors,
                documents=inputs.documents,
                images=inputs.images,
                uris=inputs.uris,
            )
            validate_images(inputs.images)
            n = validate_n_results(n_results)
            filters = self._parse_filters(None, where, where_document)
            id_list = normalize_query_ids(ids)
            if vectors is None:
                vectors = await self._embed(inputs, EMBEDDABLE["query"], is_query=True)
        check_encodable(id_list)
        check_u32(n)
        check_sendable(filters.where, filters.where_document)
        selection = dataclasses.replace(filters, ids=id_list)
        request = QueryRequest(vectors, n, selection, with_uris(include))
        result = await self._backend.query(self._model, request)
        if "data" in include and self.data_loader is not None and result["uris"] is not None:
            result["data"] = [await self._embedder.load(uris) for uris in result["uris"]]
        return result

    async def delete(
        self,
        ids: OneOrMany[ID] | None = None,
        where: Where | None = None,
        where_document: WhereDocument | None = None,
        limit: int | None = None,
    ) -> DeleteResult:
        """Delete records by id and/or filter (`limit` caps a filtered delete)."""
        with errors_in("delete"):
            if ids is None and where is None and where_document is None:
                raise ValueError("At least one of ids, where, or where_document must be provided")
            id_list = (
                normalize_ids(
                    ids,
                    nonempty_message="Expected IDs to be a non-empty list, got 0 IDs",
                    allow_empty_id=True,
                )
                if ids is not None
                else None
            )
            selection = self._parse_filters(id_list, where, where_document)
            if limit is not None:
                if isinstance(limit, bool) or not isinstance(limit, int):
                    raise TypeError("limit must be a non-negative integer")
                if limit < 0:
                    raise ValueError("limit must be a non-negative integer")
                if where is None and where_document is None:
                    raise ValueError(
                        "limit can only be specified when a where or where_document clause is "
                        "provided"
                    )
        check_encodable(id_list)
        check_u32(limit)
        check_sendable(selection.where, selection.where_document)
        request = DeleteRequest(selection, limit)
        deleted = await self._backend.delete(self._model, request)
        return DeleteResult(deleted=deleted)

    async def search(
        self,
        searches: OneOrMany[Search],
        read_level: ReadLevel = ReadLevel.INDEX_AND_WAL,
    ) -> SearchResult:
        """Run one Search, or a batch of them (each on its own), over this collection.

        A `Search` filters, ranks (dense or sparse `Knn`, arithmetic over them, `Rrf`
        fusion), groups, pages and selects fields; string `Knn` queries are embedded by
        the collection's embedding function first. Results are column-major, one entry per
        Search (`SearchResult.rows()` gives them row by row). A Search may also be given as
        its `to_dict()` JSON. Works on every client kind,
        where chromadb's local clients raise NotImplementedError.
        """
        many = searches if isinstance(searches, list) else [searches]
        payloads = [await self._embedded(search_json(s)) for s in many]
        return await self._search_json(payloads, read_level)

    async def _search_json(self, payloads: list[Any], read_level: Any) -> SearchResult:
        """`search` over Searches already in their JSON form (the server's entry)."""
        level = getattr(read_level, "value", read_level)
        request = parse_search_request(payloads, level)
        return SearchResult(await self._backend.search(self._model, request))

    async def _embedded(self, payload: dict[str, Any]) -> dict[str, Any]:
        """`payload` with each string `$knn` query replaced by its embedding: by the
        collection's embedding function on ``#embedding``, by the key's sparse embedding
        function (from the schema) on a sparse key."""
        for knn in string_knns(payload):
            key = knn.get("key", EMBEDDING_KEY)
            if key == EMBEDDING_KEY:
                vectors = await self._embed(
                    Inputs([knn["query"]], None, None), EMBEDDABLE["query"], is_query=True
                )
                knn["query"] = vectors[0].tolist()
            else:
                vector = await embed_sparse_query(self._schema(), key, knn["query"])
                knn["query"] = vector.to_dict() if isinstance(vector, SparseVector) else vector
        return payload

    @staticmethod
    def _parse_filters(ids: list[str] | None, where: Any, where_document: Any) -> RecordFilter:
        """The records a request selects, its filters parsed (and so validated)."""
        return RecordFilter(
            ids,
            parse_where(where) if where is not None else None,
            parse_where_document(where_document) if where_document is not None else None,
        )

    async def fork(self, new_name: str) -> AsyncCollection:
        """A new collection called `new_name` holding a copy of every record of this one.

        (chromadb's local client raises NotImplementedError here; achroma copies.)
        """
        validate_collection_name(new_name)
        model = await self._backend.fork_collection(self._model, new_name)
        return AsyncCollection(self._backend, model, self.embedding_function, self.data_loader)


def _checked_inputs(
    op: str, ids: Any, embeddings: Any, metadatas: Any, documents: Any, images: Any, uris: Any
) -> tuple[list[str], Any, Any, Any, Any, Any]:
    """A write's arguments, normalised and checked before anything is embedded."""
    if not isinstance(ids, (str, list)):
        raise ValueError(f"Expected IDs to be a list, got {type(ids).__name__} as IDs")
    vectors = normalize_embeddings(embeddings) if embeddings is not None else None
    id_list = normalize_ids(ids, nonempty_message="Non-empty lists are required for ['ids']")
    if vectors is None and documents is None and images is None and uris is None:
        if op == "add":
            raise ValueError("Exactly one of documents, images, uris must be provided")
        if op == "upsert":
            raise ValueError("Exactly one of images, documents must be provided")
    metadata_list = normalize_metadatas(metadatas, op)
    # A None document keeps the stored one; only documents to embed must be str.
    document_list = normalize_documents(documents, allow_none=op != "update" or vectors is not None)
    image_list = normalize_images(images)
    uri_list = normalize_uris(uris)
    check_lengths(
        ids=id_list,
        metadatas=metadata_list,
        embeddings=list(vectors) if vectors is not None else None,
        documents=document_list,
        images=image_list,
        uris=uri_list,
    )
    validate_images(image_list)
    return id_list, vectors, metadata_list, document_list, image_list, uri_list


def _checked_batch(
    op: str, ids: list[str], vectors: Any, metadatas: Any, documents: Any, uris: Any
) -> RecordBatch:
    """The checks that follow embedding, and the batch they pass."""
    check_uris(uris)
    check_encodable(ids, metadatas, documents, uris)
    if op == "add":
        reject_none_values(metadatas)
    if vectors is not None:
        check_embeddings_finite(vectors)
    return RecordBatch(ids, vectors, metadatas, documents, uris)
