"""Validation of arguments, shared by every client and transport.

Each rule and message follows chromadb 1.5.9 (checked side by side in
tests/test_compat_collections.py). chromadb checks in three places, and so its messages come in
three styles: its Python client (`ValueError`s naming the value), the conversion of arguments
into its Rust bindings (`TypeError: argument 'name': ...`), and its Rust validators
(`InvalidArgumentError: Validation error: field: ...`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import operator
import re
from typing import Any

import numpy as np

from achroma.core.sparse import SparseVector
from achroma.emulation.rust_format import validator_length_message
from achroma.errors import InvalidArgumentError

# --- conversion into chromadb's Rust bindings ---


def require_str(value: Any, argument: str) -> str:
    """`value` if it is a str; otherwise chromadb's TypeError for the `argument`."""
    if not isinstance(value, str):
        raise TypeError(
            f"argument '{argument}': '{type(value).__name__}' object cannot be converted to "
            "'PyString'"
        )
    return value


def require_bool(value: Any, argument: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(
            f"argument '{argument}': '{type(value).__name__}' object cannot be converted to "
            "'PyBool'"
        )
    return value


def u32_argument(value: Any, argument: str) -> int | None:
    """A limit or offset as chromadb's bindings take it: None, or an integer in [0, 2**32)."""
    if value is None:
        return None
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(
            f"argument '{argument}': '{type(value).__name__}' object cannot be interpreted as "
            "an integer"
        ) from None
    if not -(2**63) <= number < 2**63:
        raise OverflowError("Python int too large to convert to C long")
    if not 0 <= number < 2**32:
        raise OverflowError("out of range integral type conversion attempted")
    return number


_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def _kind(value: Any) -> type | None:
    """The metadata type chromadb's bindings read `value` as (None: none of them)."""
    if isinstance(value, bool | np.bool_):
        return bool
    if isinstance(value, str):
        return str
    if hasattr(type(value), "__index__"):
        return int
    if hasattr(type(value), "__float__"):
        return float
    return None


def _scalar(value: Any, kind: type) -> Any:
    if kind is int:
        number = operator.index(value)
        # Integers beyond 64 bits reach chromadb as floats.
        return number if _I64_MIN <= number <= _I64_MAX else float(number)
    return kind(value)


def _convert_value(value: Any, argument: str, allow_none: bool) -> Any:
    if value is None and allow_none:
        return None
    if isinstance(value, SparseVector):
        return value  # chromadb's local bindings refuse these; achroma indexes them
    if isinstance(value, list):
        if not value:
            raise ValueError("Empty lists are not allowed as metadata values")
        kinds = {_kind(v) for v in value}
        kind = kinds.pop() if len(kinds) == 1 else None
        items = None
        if kind is not None:
            with contextlib.suppress(OverflowError):
                items = [_scalar(v, kind) for v in value]
        if items is None:
            raise TypeError(
                f"argument '{argument}': Cannot convert Python list to MetadataValue: mixed or "
                "unsupported element types"
            )
        return [float(v) for v in items] if float in {type(v) for v in items} else items
    kind = _kind(value)
    try:
        if kind is not None:
            return _scalar(value, kind)
    except OverflowError:
        pass
    raise TypeError(f"argument '{argument}': Cannot convert Python object to MetadataValue")


def convert_metadata(metadata: Any, argument: str, allow_none: bool) -> dict[str, Any] | None:
    """`metadata` as chromadb's bindings receive it: ints beyond 64 bits become floats and numpy
    scalars Python ones; None values only where `allow_none` (an update). Anything the bindings
    cannot take fails with their error. Lists must hold one type (chromadb panics on a mix of
    ints and floats or bools; this refuses it like any other mix)."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise TypeError(
            f"argument '{argument}': '{type(metadata).__name__}' object cannot be converted to "
            "'PyDict'"
        )
    return {
        str(require_str(key, argument)): _convert_value(value, argument, allow_none)
        for key, value in metadata.items()
    }


# --- chromadb's Rust validators ---


def raise_invalid(**problems: str | None) -> None:
    """One `InvalidArgumentError` naming every field with a problem, as chromadb's validator."""
    found = [f"{field}: {problem}" for field, problem in problems.items() if problem]
    if found:
        raise InvalidArgumentError("Validation error: " + "\n".join(found))


_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]")


def _is_ipv4(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def collection_name_problem(name: str) -> str | None:
    """What is wrong with a collection name under Chroma's rules: 3-512 of [a-zA-Z0-9._-],
    alphanumeric at both ends, no `..`, not an IPv4 address."""
    if not _NAME.fullmatch(name):
        return (
            "Expected a name containing 3-512 characters from [a-zA-Z0-9._-], starting and "
            f"ending with a character in [a-zA-Z0-9]. Got: {name}"
        )
    if ".." in name:
        return f"Expected a name that does not contains two consecutive periods (..). Got {name}"
    if _is_ipv4(name):
        return f"Expected a name that is not a valid ip address. Got {name}"
    return None


def validate_collection_name(name: Any, field: str = "name") -> str:
    """`name` if it is a valid collection name; otherwise chromadb's error for `field`."""
    raise_invalid(**{field: collection_name_problem(require_str(name, field))})
    return str(name)


def metadata_problem(metadata: dict[str, Any] | None) -> str | None:
    """What chromadb's validator refuses in collection metadata (after conversion)."""
    if metadata is None:
        return None
    if not metadata:
        return "Metadata cannot be empty"
    for key in metadata:
        if not key:
            return "Metadata key cannot be empty"
        if key[0] in "#$":
            return f"Metadata key cannot start with '#' or '$': {key}"
    return None


def validate_tenant_name(name: str) -> None:
    if len(name) < 3:
        raise InvalidArgumentError(validator_length_message("name", 3, name))


def validate_database_name(name: str) -> None:
    # chromadb counts bytes here (and characters for tenant names).
    if len(name.encode()) < 3:
        raise InvalidArgumentError("database name must be at least 3 characters")


# --- chromadb's Python client ---


def _check_list_value(key: str, value: list[Any]) -> None:
    if not value:
        raise ValueError(f"Expected metadata list value for key '{key}' to be non-empty")
    kinds = {bool if isinstance(v, bool) else type(v) for v in value}
    if len(kinds) != 1 or not kinds <= {str, int, float, bool}:
        raise ValueError(
            f"Expected metadata list value for key '{key}' to contain only str, int, float, or "
            f"bool and all elements must be the same type, got {value}"
        )


def check_modify_metadata(metadata: Any) -> None:
    """The checks of chromadb's `validate_metadata`, which `Collection.modify` runs first."""
    if not isinstance(metadata, dict):
        raise ValueError(
            f"Expected metadata to be a dict or None, got {type(metadata).__name__} as metadata"
        )
    if not metadata:
        raise ValueError(
            f"Expected metadata to be a non-empty dict, got {len(metadata)} metadata attributes"
        )
    for key, value in metadata.items():
        if key == "chroma:document":
            raise ValueError("Expected metadata to not contain the reserved key chroma:document")
        if not isinstance(key, str):
            raise TypeError(
                f"Expected metadata key to be a str, got {key} which is a {type(key).__name__}"
            )
        if isinstance(value, list):
            _check_list_value(key, value)
        elif not isinstance(value, str | int | float | None):
            raise ValueError(
                "Expected metadata value to be a str, int, float, bool, SparseVector, list, or "
                f"None, got {value} which is a {type(value).__name__}"
            )


# --- record metadata (add/upsert/update) ---

_SCALARS = (str, int, float, bool)


def _describe(value: Any) -> str:
    return f"{value} which is a {type(value).__name__}"


def validate_metadata_value(key: str, value: Any, context: str, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, (*_SCALARS, SparseVector)):
        return
    if isinstance(value, list):
        if not value:
            raise ValueError(
                f"Expected metadata list value for key '{key}' to be non-empty in {context}."
            )
        first = type(value[0])
        if first not in _SCALARS or any(type(v) is not first for v in value):
            raise ValueError(
                f"Expected metadata list value for key '{key}' to contain only str, int, float, "
                f"or bool and all elements must be the same type, got {value!r} in {context}."
            )
        return
    raise ValueError(
        "Expected metadata value to be a str, int, float, bool, SparseVector, list, or None, "
        f"got {_describe(value)} in {context}."
    )


def validate_metadata(
    metadata: Any, context: str, allow_none_values: bool = True, allow_empty: bool = True
) -> dict[str, Any]:
    """Check a metadata mapping: str keys, values of Chroma's accepted types."""
    if not isinstance(metadata, dict):
        raise ValueError(f"Expected metadata to be a dict or None, got {metadata!r} in {context}.")
    if not metadata and not allow_empty:
        raise ValueError(f"Expected metadata to be a non-empty dict, got {metadata} in {context}.")
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise TypeError(f"Expected metadata key to be a str, got {key!r} in {context}.")
        validate_metadata_value(key, value, context, allow_none_values)
    return metadata
