"""chromadb's ``chromadb.utils.batch_utils``: split records into writes the server accepts."""

from __future__ import annotations

from typing import Optional, Protocol

from achroma.core.models import Metadata
from achroma.embeddings import Documents, Embeddings

IDs = list[str]
Metadatas = list[Metadata]
Batch = tuple[IDs, Optional[Embeddings], Optional[Metadatas], Optional[Documents]]  # noqa: UP045


class _SizedAPI(Protocol):
    def get_max_batch_size(self) -> int: ...


def create_batches(
    api: _SizedAPI,
    ids: IDs,
    embeddings: Embeddings | None = None,
    metadatas: Metadatas | None = None,
    documents: Documents | None = None,
) -> list[Batch]:
    """The records cut into batches of at most ``api.get_max_batch_size()``, as chromadb does.

    One batch holds the arguments as given; when they are split, empty metadatas or documents
    become None in every batch (chromadb's rule).

    Example::

        for ids, embeddings, metadatas, documents in create_batches(client, ids, embeddings):
            collection.add(ids=ids, embeddings=embeddings)
    """
    size = api.get_max_batch_size()
    if len(ids) <= size:
        return [(ids, embeddings, metadatas, documents)]
    return [
        (
            ids[i : i + size],
            embeddings[i : i + size] if embeddings is not None else None,
            metadatas[i : i + size] if metadatas else None,
            documents[i : i + size] if documents else None,
        )
        for i in range(0, len(ids), size)
    ]
