"""chromadb's ``chromadb.api.collection_configuration``: the typed dicts that describe a
collection's configuration (achroma takes and returns them as plain dicts)."""

from __future__ import annotations

from typing import Any, TypedDict

from achroma.embeddings.protocol import Space


class HNSWConfiguration(TypedDict, total=False):
    space: Space
    ef_construction: int
    max_neighbors: int
    ef_search: int
    num_threads: int
    batch_size: int
    sync_threshold: int
    resize_factor: float


class SpannConfiguration(TypedDict, total=False):
    search_nprobe: int
    write_nprobe: int
    space: Space
    ef_construction: int
    ef_search: int
    max_neighbors: int
    reassign_neighbor_count: int
    split_threshold: int
    merge_threshold: int


class CollectionConfiguration(TypedDict, total=True):
    hnsw: HNSWConfiguration | None
    spann: SpannConfiguration | None
    embedding_function: Any


CreateHNSWConfiguration = HNSWConfiguration
CreateSpannConfiguration = SpannConfiguration


class CreateCollectionConfiguration(TypedDict, total=False):
    hnsw: CreateHNSWConfiguration | None
    spann: CreateSpannConfiguration | None
    embedding_function: Any


class UpdateHNSWConfiguration(TypedDict, total=False):
    ef_search: int
    num_threads: int
    batch_size: int
    sync_threshold: int
    resize_factor: float


class UpdateSpannConfiguration(TypedDict, total=False):
    search_nprobe: int
    ef_search: int


class UpdateCollectionConfiguration(TypedDict, total=False):
    hnsw: UpdateHNSWConfiguration | None
    spann: UpdateSpannConfiguration | None
    embedding_function: Any


__all__ = [
    "CollectionConfiguration",
    "CreateCollectionConfiguration",
    "CreateHNSWConfiguration",
    "CreateSpannConfiguration",
    "HNSWConfiguration",
    "SpannConfiguration",
    "UpdateCollectionConfiguration",
    "UpdateHNSWConfiguration",
    "UpdateSpannConfiguration",
]
