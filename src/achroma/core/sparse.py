"""`SparseVector`: a sparse embedding as parallel index and value lists, as chromadb has it.

Sparse vectors are metadata values (under a key with a sparse index in the collection's
schema) and `Knn` queries. On the wire they are tagged objects:
``{"#type": "sparse_vector", "indices": [...], "values": [...], "tokens": [...]}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

TYPE_KEY: Final = "#type"
SPARSE_VECTOR_TYPE: Final = "sparse_vector"


@dataclass
class SparseVector:
    """Indices (ints >= 0, strictly ascending), one value per index, optional labels.

    Checked on construction with chromadb's `ValueError` messages.
    """

    indices: list[int]
    values: list[float]
    labels: list[str] | None = None

    def __post_init__(self) -> None:
        _check_list("indices", self.indices)
        _check_list("values", self.values)
        if len(self.indices) != len(self.values):
            raise ValueError(
                "SparseVector indices and values must have the same length, "
                f"got {len(self.indices)} indices and {len(self.values)} values"
            )
        if self.labels is not None:
            _check_list("labels", self.labels)
            if len(self.labels) != len(self.indices):
                raise ValueError(
                    "SparseVector labels must have the same length as indices and values, "
                    f"got {len(self.labels)} labels, {len(self.indices)} indices"
                )
        for i, index in enumerate(self.indices):
            if not isinstance(index, int):
                raise ValueError(
                    f"SparseVector indices must be integers, got {type(index).__name__} "
                    f"at position {i}"
                )
            if index < 0:
                raise ValueError(
                    f"SparseVector indices must be non-negative, got {index} at position {i}"
                )
        for i, value in enumerate(self.values):
            if not isinstance(value, (int, float)):
                raise ValueError(
                    f"SparseVector values must be numbers, got {type(value).__name__} "
                    f"at position {i}"
                )
        for i in range(1, len(self.indices)):
            if self.indices[i] <= self.indices[i - 1]:
                raise ValueError(
                    "SparseVector indices must be sorted in strictly ascending order, "
                    f"found indices[{i}]={self.indices[i]} <= "
                    f"indices[{i - 1}]={self.indices[i - 1]}"
                )

    def to_dict(self) -> dict[str, Any]:
        """The tagged wire form (labels travel as ``tokens``)."""
        wire: dict[str, Any] = {
            TYPE_KEY: SPARSE_VECTOR_TYPE,
            "indices": self.indices,
            "values": self.values,
        }
        if self.labels is not None:
            wire["tokens"] = self.labels
        return wire

    @classmethod
    def from_dict(cls, wire: dict[str, Any]) -> SparseVector:
        """Read the tagged wire form; anything without the tag is refused."""
        if wire.get(TYPE_KEY) != SPARSE_VECTOR_TYPE:
            raise ValueError(
                f"Expected {TYPE_KEY}='{SPARSE_VECTOR_TYPE}', got {wire.get(TYPE_KEY)}"
            )
        return cls(indices=wire["indices"], values=wire["values"], labels=wire.get("tokens"))


def is_sparse_wire(value: object) -> bool:
    """Whether a decoded JSON value is a tagged sparse vector."""
    return isinstance(value, dict) and value.get(TYPE_KEY) == SPARSE_VECTOR_TYPE


def _check_list(field: str, value: object) -> None:
    if not isinstance(value, list):
        raise ValueError(f"Expected SparseVector {field} to be a list, got {type(value).__name__}")


def metadata_to_wire(metadata: Any) -> Any:
    """`metadata` with its sparse vectors in their tagged JSON form (others as they are)."""
    if isinstance(metadata, dict) and any(isinstance(v, SparseVector) for v in metadata.values()):
        return {k: v.to_dict() if isinstance(v, SparseVector) else v for k, v in metadata.items()}
    return metadata


def metadata_from_wire(metadata: Any) -> Any:
    """`metadata` with tagged sparse vectors read back as `SparseVector`s."""
    if isinstance(metadata, dict) and any(is_sparse_wire(v) for v in metadata.values()):
        return {k: _revived(v) if is_sparse_wire(v) else v for k, v in metadata.items()}
    return metadata


def _revived(wire: dict[str, Any]) -> SparseVector | dict[str, Any]:
    try:
        return SparseVector.from_dict(wire)
    except (ValueError, KeyError, TypeError):
        return wire  # malformed: left for the metadata validation to refuse
