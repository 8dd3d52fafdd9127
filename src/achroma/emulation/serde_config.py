"""Configuration JSON read as chromadb's Rust layer reads it: serde_json into typed structs.

chromadb's Python client sends `configuration` to its Rust layer as `json.dumps(...)` text; a
value of the wrong type fails there with serde_json's message and the line and column where
the reader stopped. This reader follows serde_json's rules (what it consumes before failing,
how serde words each error), so that achroma fails with the same message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Union

from achroma.emulation.rust_format import rust_debug
from achroma.errors import InvalidArgumentError

SPACES = ("l2", "cosine", "ip")


@dataclass(frozen=True)
class Struct:
    """A Rust struct whose fields are all `Option`s, with `deny_unknown_fields`."""

    name: str
    fields: tuple[tuple[str, Kind], ...]


# A struct, or a scalar: "usize", "u32", "f64", "space" (the enum of SPACES), "any".
Kind = Union[Struct, str]  # noqa: UP007 (a runtime alias on Python 3.10)

HNSW = Struct(
    "HnswConfiguration",
    (
        ("space", "space"),
        ("ef_construction", "usize"),
        ("ef_search", "usize"),
        ("max_neighbors", "usize"),
        ("num_threads", "usize"),
        ("resize_factor", "f64"),
        ("sync_threshold", "usize"),
        ("batch_size", "usize"),
    ),
)
SPANN = Struct(
    "SpannConfiguration",
    (
        ("search_nprobe", "u32"),
        ("write_nprobe", "u32"),
        ("space", "space"),
        ("ef_construction", "usize"),
        ("ef_search", "usize"),
        ("max_neighbors", "usize"),
        ("reassign_neighbor_count", "u32"),
        ("split_threshold", "u32"),
        ("merge_threshold", "u32"),
    ),
)
CREATE = Struct(
    "CollectionConfiguration", (("hnsw", HNSW), ("spann", SPANN), ("embedding_function", "any"))
)
UPDATE_HNSW = Struct(
    "UpdateHnswConfiguration",
    (
        ("ef_search", "usize"),
        ("max_neighbors", "usize"),
        ("num_threads", "usize"),
        ("resize_factor", "f64"),
        ("sync_threshold", "usize"),
        ("batch_size", "usize"),
    ),
)
UPDATE_SPANN = Struct(
    "UpdateSpannConfiguration", (("search_nprobe", "u32"), ("ef_search", "usize"))
)
UPDATE = Struct(
    "UpdateCollectionConfiguration",
    (("hnsw", UPDATE_HNSW), ("spann", UPDATE_SPANN), ("embedding_function", "any")),
)

_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_UNSIGNED_MAX = {"usize": 2**64 - 1, "u32": 2**32 - 1}


def deserialize(text: str, struct: Struct) -> dict[str, Any]:
    """The fields of `struct` given in `text` (a missing or null field is None), or chromadb's
    `InvalidArgumentError` for the first value that does not fit."""
    return _Reader(text).struct(struct)


def _float_text(value: float) -> str:
    # Rust prints exponents without padding: 1e-7 where Python prints 1e-07.
    return re.sub(r"e([+-])0+(?=\d)", r"e\1", repr(value))


def _unexpected(token: str, value: Any) -> str:
    """serde's words for what it found instead."""
    if token == "integer":
        return f"integer `{value}`"
    if token == "float":
        return f"floating point `{_float_text(value)}`"
    if token == "bool":
        return f"boolean `{'true' if value else 'false'}`"
    if token == "string":
        return f"string {rust_debug(value)}"
    return {"null": "unit value", "seq": "sequence", "map": "map"}[token]


def _expected_fields(struct: Struct) -> str:
    names = [f"`{name}`" for name, _ in struct.fields]
    if len(names) == 1:
        return f"expected {names[0]}"
    if len(names) == 2:
        return f"expected {names[0]} or {names[1]}"
    return "expected one of " + ", ".join(names)


class _Reader:
    """serde_json's reader over one line of JSON: `pos` counts the characters consumed."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str, peeked: bool = False) -> InvalidArgumentError:
        # serde_json reports the last character consumed, or the one it looked at.
        column = self.pos + 1 if peeked else self.pos
        return InvalidArgumentError(f"{message} at line 1 column {column}")

    def peek(self) -> str:
        while self.text[self.pos : self.pos + 1] in (" ", "\t", "\n", "\r"):
            self.pos += 1
        return self.text[self.pos : self.pos + 1]

    def token(self) -> tuple[str, Any]:
        """Consume one scalar as (kind, value); an array or object is only looked at."""
        c = self.peek()
        if c == '"':
            match = _STRING.match(self.text, self.pos)
            assert match is not None
            self.pos = match.end()
            return "string", json.loads(match.group())
        if c == "-" or c.isdigit():
            match = _NUMBER.match(self.text, self.pos)
            if match is None:  # -Infinity
                self.pos += 1
                raise self.error("invalid number", peeked=True)
            self.pos = match.end()
            if match.group(1) or match.group(2):
                return "float", float(match.group())
            number = int(match.group())
            if -(2**63) <= number < 2**64:
                return "integer", number
            return "float", float(number)
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return ("null" if value is None else "bool"), value
        if c in ("[", "{"):
            return ("seq" if c == "[" else "map"), None
        raise self.error("expected value", peeked=True)  # NaN, Infinity

    def value(self, kind: Kind) -> Any:
        """An `Option<kind>`: null is None."""
        if self.peek() == "n":
            self.token()
            return None
        if isinstance(kind, Struct):
            return self.struct(kind)
        if kind == "space":
            return self.space()
        if kind == "any":
            _, self.pos = json.JSONDecoder().raw_decode(self.text, self.pos)
            return None
        token, value = self.token()
        if token == "integer":
            if kind == "f64":
                return float(value)
            if not 0 <= value <= _UNSIGNED_MAX[kind]:
                raise self.error(f"invalid value: integer `{value}`, expected {kind}")
            return value
        if token == "float" and kind == "f64":
            return value
        raise self.error(f"invalid type: {_unexpected(token, value)}, expected {kind}")

    def variant(self) -> str:
        _, value = self.token()  # a string: the caller looked
        if value not in SPACES:
            raise self.error(f"unknown variant `{value}`, expected one of `l2`, `cosine`, `ip`")
        return str(value)

    def space(self) -> str:
        c = self.peek()
        if c == '"':
            return self.variant()
        if c != "{":
            raise self.error("expected value", peeked=True)
        # {"variant": null}, serde's other spelling of a unit variant
        self.pos += 1
        if self.peek() != '"':
            raise self.error("expected value", peeked=True)
        name = self.variant()
        self.peek()
        self.pos += 1  # the colon
        token, value = self.token()
        if token != "null":
            raise self.error(f"invalid type: {_unexpected(token, value)}, expected unit")
        if self.peek() != "}":
            raise self.error("expected value")
        self.pos += 1
        return name

    def struct(self, struct: Struct) -> dict[str, Any]:
        c = self.peek()
        if c == "{":
            self.pos += 1
            return self.fields(struct)
        if c == "[":
            self.pos += 1
            return self.elements(struct)
        token, value = self.token()
        found = _unexpected(token, value)
        raise self.error(f"invalid type: {found}, expected struct {struct.name}")

    def fields(self, struct: Struct) -> dict[str, Any]:
        kinds = dict(struct.fields)
        found: dict[str, Any] = {}
        while self.peek() != "}":
            if found:
                self.pos += 1  # the comma
            _, key = self.token()
            if key not in kinds:
                raise self.error(f"unknown field `{key}`, {_expected_fields(struct)}")
            self.peek()
            self.pos += 1  # the colon
            found[key] = self.value(kinds[key])
        self.pos += 1
        return found

    def elements(self, struct: Struct) -> dict[str, Any]:
        """A struct written as an array: its fields in order."""
        found: dict[str, Any] = {}
        for index, (name, kind) in enumerate(struct.fields):
            if self.peek() == "]":
                self.pos += 1
                raise self.error(
                    f"invalid length {index}, expected struct {struct.name} with "
                    f"{len(struct.fields)} elements"
                )
            if index:
                self.pos += 1  # the comma
            found[name] = self.value(kind)
        if self.peek() == "]":
            self.pos += 1
            return found
        self.pos += 1  # the comma before a surplus element
        raise self.error(
            "trailing comma" if self.peek() == "]" else "trailing characters", peeked=True
        )
