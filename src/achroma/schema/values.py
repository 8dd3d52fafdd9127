"""The containers of a `Schema`: an index and whether it is on (``*IndexType``), the
indexes of one value type (``*ValueType``), and the indexes of every value type for one key
or for the defaults (`ValueTypes`), with chromadb 1.5.9's names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from achroma.schema.configs import (
    BoolInvertedIndexConfig,
    FloatInvertedIndexConfig,
    FtsIndexConfig,
    IntInvertedIndexConfig,
    SparseVectorIndexConfig,
    StringInvertedIndexConfig,
    VectorIndexConfig,
)


@dataclass
class FtsIndexType:
    enabled: bool
    config: FtsIndexConfig


@dataclass
class VectorIndexType:
    enabled: bool
    config: VectorIndexConfig


@dataclass
class SparseVectorIndexType:
    enabled: bool
    config: SparseVectorIndexConfig


@dataclass
class StringInvertedIndexType:
    enabled: bool
    config: StringInvertedIndexConfig


@dataclass
class IntInvertedIndexType:
    enabled: bool
    config: IntInvertedIndexConfig


@dataclass
class FloatInvertedIndexType:
    enabled: bool
    config: FloatInvertedIndexConfig


@dataclass
class BoolInvertedIndexType:
    enabled: bool
    config: BoolInvertedIndexConfig


@dataclass
class StringValueType:
    fts_index: FtsIndexType | None = None
    string_inverted_index: StringInvertedIndexType | None = None


@dataclass
class FloatListValueType:
    vector_index: VectorIndexType | None = None


@dataclass
class SparseVectorValueType:
    sparse_vector_index: SparseVectorIndexType | None = None


@dataclass
class IntValueType:
    int_inverted_index: IntInvertedIndexType | None = None


@dataclass
class FloatValueType:
    float_inverted_index: FloatInvertedIndexType | None = None


@dataclass
class BoolValueType:
    bool_inverted_index: BoolInvertedIndexType | None = None


@dataclass
class ValueTypes:
    """The indexes of each value type; None where the key (or the defaults) says nothing.
    JSON names: ``string``, ``float_list``, ``sparse_vector``, ``int``, ``float``, ``bool``."""

    string: StringValueType | None = None
    float_list: FloatListValueType | None = None
    sparse_vector: SparseVectorValueType | None = None
    int_value: IntValueType | None = None
    float_value: FloatValueType | None = None
    boolean: BoolValueType | None = None


@dataclass(frozen=True)
class Slot:
    """Where one kind of index lives: ``ValueTypes.<value_attr>.<index_attr>``."""

    config: type[Any]
    value_attr: str
    value_json: str
    value_type: type[Any]
    index_attr: str
    index_type: type[Any]


# In chromadb's serialisation order (value types, then the indexes within each).
SLOTS: Final = (
    Slot(FtsIndexConfig, "string", "string", StringValueType, "fts_index", FtsIndexType),
    Slot(
        StringInvertedIndexConfig,
        "string",
        "string",
        StringValueType,
        "string_inverted_index",
        StringInvertedIndexType,
    ),
    Slot(
        VectorIndexConfig,
        "float_list",
        "float_list",
        FloatListValueType,
        "vector_index",
        VectorIndexType,
    ),
    Slot(
        SparseVectorIndexConfig,
        "sparse_vector",
        "sparse_vector",
        SparseVectorValueType,
        "sparse_vector_index",
        SparseVectorIndexType,
    ),
    Slot(
        IntInvertedIndexConfig,
        "int_value",
        "int",
        IntValueType,
        "int_inverted_index",
        IntInvertedIndexType,
    ),
    Slot(
        FloatInvertedIndexConfig,
        "float_value",
        "float",
        FloatValueType,
        "float_inverted_index",
        FloatInvertedIndexType,
    ),
    Slot(
        BoolInvertedIndexConfig,
        "boolean",
        "bool",
        BoolValueType,
        "bool_inverted_index",
        BoolInvertedIndexType,
    ),
)


def slot_for(config: Any) -> Slot | None:
    """The slot of `config`'s kind of index (None: not an index configuration)."""
    for slot in SLOTS:
        if isinstance(config, slot.config):
            return slot
    return None


def get_index(value_types: ValueTypes, slot: Slot) -> Any:
    """The ``*IndexType`` at `slot`, or None."""
    value = getattr(value_types, slot.value_attr)
    return None if value is None else getattr(value, slot.index_attr)


def set_index(value_types: ValueTypes, slot: Slot, enabled: bool, config: Any) -> None:
    """Put `config` at `slot`, creating the value type if the key had none."""
    value = getattr(value_types, slot.value_attr)
    if value is None:
        value = slot.value_type()
        setattr(value_types, slot.value_attr, value)
    setattr(value, slot.index_attr, slot.index_type(enabled=enabled, config=config))
