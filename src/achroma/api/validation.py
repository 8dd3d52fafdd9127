"""Validation of names and metadata, shared by every client and transport.

Each rule and message follows chromadb 1.5.9 (checked side by side in tests/compat).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from achroma.errors import InvalidArgumentError

_NAME_CHARS = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]$")


def validate_collection_name(name: Any) -> str:
    """Chroma's collection-name rules: 3-512 of [a-zA-Z0-9._-], alphanumeric at both ends,
    no `..`, and not an IPv4 address."""
    if not isinstance(name, str):
        raise TypeError(f"Expected collection name to be a str, got {name!r}")
    if not (3 <= len(name) <= 512) or not _NAME_CHARS.match(name):
        raise InvalidArgumentError(
            "Validation error: name: Expected a name containing 3-512 characters from "
            "[a-zA-Z0-9._-], starting and ending with a character in [a-zA-Z0-9]. "
            f"Got: {name}"
        )
    if ".." in name:
        raise InvalidArgumentError(
            "Validation error: name: Expected a name that does not contain two consecutive "
            f"periods (..). Got: {name}"
        )
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return name
    raise InvalidArgumentError(
        f"Validation error: name: Expected a name that is not a valid ip address. Got: {name}"
    )


def validate_tenant_or_database_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or len(name) < 3:
        raise InvalidArgumentError(f"{what} name must be at least 3 characters long")
    return name


_SCALARS = (str, int, float, bool)


def _describe(value: Any) -> str:
    return f"{value} which is a {type(value).__name__}"


def validate_metadata_value(key: str, value: Any, context: str, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, _SCALARS):
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


def validate_limit_offset(limit: Any, offset: Any) -> None:
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise InvalidArgumentError(f"Expected limit to be a non-negative integer, got {limit}")
    if offset is not None and (not isinstance(offset, int) or offset < 0):
        raise InvalidArgumentError(f"Expected offset to be a non-negative integer, got {offset}")
