"""Requests drawn from an OpenAPI document (tests/fixtures/chroma-openapi.json, Chroma's v2
REST API): for each operation, its path and query parameters and a JSON body shaped by its
`requestBody` schema.

The generator covers the part of JSON Schema the document uses (objects, arrays, strings,
integers, numbers, booleans, null, `oneOf`/`anyOf`/`allOf`, `enum`, `minimum`, `$ref`,
`additionalProperties`; `{}` is any JSON). Values are odd on purpose: huge integers, extreme
floats, NUL and other control characters, empty lists. Most bodies follow the schema, so that
requests reach the engine; some break it (wrong types, missing or extra fields, JSON that is not
an object, malformed JSON, the wrong content type). Requests name the seeded tenant, database
and collection often (`Seeded`), so that they find existing things to act on.
"""

from __future__ import annotations

import base64
import enum
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

CONTRACT: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "chroma-openapi.json").read_text()
)
Schema = Mapping[str, Any]

SEEDED_TENANT = "fuzz_tenant"
SEEDED_DATABASE = "fuzz_db"
SEEDED_COLLECTION = "fuzzed"
DIMENSION = 3
METADATA_KEYS = ("n", "k", "tags", "f")


class Seeded(enum.Enum):
    """A path value known only once the collection is seeded (it may be re-created)."""

    COLLECTION_ID = "collection id"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: tuple[tuple[str, str, Schema], ...]  # (name, "path" or "query", schema)
    body: Schema | None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def name(self) -> str:
        """The last fixed segment of the path: "add", "query", "collections", ..."""
        fixed = [s for s in self.path.split("/") if s and not s.startswith("{")]
        return fixed[-1]


def operations(contract: Mapping[str, Any] = CONTRACT) -> list[Operation]:
    found = []
    for path, methods in contract["paths"].items():
        for method, spec in methods.items():
            body = spec.get("requestBody", {}).get("content", {}).get("application/json", {})
            parameters = tuple(
                (p["name"], p["in"], p.get("schema", {})) for p in spec.get("parameters", [])
            )
            found.append(Operation(method.upper(), path, parameters, body.get("schema")))
    return found


@dataclass
class Call:
    """One request: a filled-in operation, its body as bytes, and how the body was made."""

    operation: Operation
    path_values: dict[str, str | Seeded]
    query: dict[str, str]
    body: bytes | None = None
    content_type: str | None = "application/json"
    kind: str = "valid"
    notes: list[str] = field(default_factory=list)

    def url(self, seeded: Mapping[Seeded, str]) -> str:
        url = self.operation.path
        for name, value in self.path_values.items():
            text = seeded[value] if isinstance(value, Seeded) else value
            # "." too: a client would drop "." and ".." segments, and ask for another path.
            url = url.replace("{" + name + "}", quote(text, safe="").replace(".", "%2E"))
        return url

    @property
    def may_miss_routes(self) -> bool:
        """Whether a path value ("", or one with a slash) can make the path match no route,
        which Chroma answers with an empty 404 or 405."""
        return any(isinstance(v, str) and (not v or "/" in v) for v in self.path_values.values())

    def __repr__(self) -> str:
        body = (self.body or b"")[:600]
        return (
            f"Call({self.operation}, {self.kind}, path={self.path_values!r}, "
            f"query={self.query!r}, content_type={self.content_type!r}, body={body!r})"
        )


# --- values ---

_odd_characters = st.one_of(
    st.characters(exclude_categories=("Cs",)),
    st.sampled_from(["\x00", "'", '"', "\\", "%", "_", "$", ";", "\u2028", "\ufeff", "🧪"]),
)
text = st.one_of(
    st.text(_odd_characters, max_size=10),
    st.sampled_from(["", " ", "a\x00b", "' OR 1=1 --", "default_tenant", "x" * 300]),
)
_huge_integers = st.sampled_from([2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30])
integers = st.one_of(st.integers(-(2**64), 2**64), _huge_integers, _huge_integers.map(lambda n: -n))
numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 5e-324, 1.7976931348623157e308, 3.4028235e38, 3.5e38]),
    integers,
)
scalars = st.one_of(st.none(), st.booleans(), integers, numbers, text)
any_json = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=10,
)


def _resolve(schema: Schema, contract: Mapping[str, Any]) -> Schema:
    while "$ref" in schema:
        found: Any = contract
        for part in schema["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        schema = found
    return schema


def _merge(parts: tuple[Any, ...]) -> Any:
    merged: dict[str, Any] = {}
    for part in parts:
        if not isinstance(part, dict):
            return part
        merged.update(part)
    return merged


def from_schema(schema: Schema, contract: Mapping[str, Any] = CONTRACT) -> st.SearchStrategy[Any]:
    """Values shaped by `schema` (within the subset the module docstring lists)."""
    schema = _resolve(schema, contract)
    if "allOf" in schema:
        return st.tuples(*(from_schema(s, contract) for s in schema["allOf"])).map(_merge)
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            return st.one_of(*(from_schema(s, contract) for s in schema[keyword]))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    types = schema.get("type")
    if types is None:
        return any_json
    if isinstance(types, list):
        return st.one_of(*(from_schema({**schema, "type": t}, contract) for t in types))
    return _typed(types, schema, contract)


def _typed(kind: str, schema: Schema, contract: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        obj = st.fixed_dictionaries(
            {k: from_schema(v, contract) for k, v in properties.items() if k in required},
            optional={
                k: from_schema(v, contract) for k, v in properties.items() if k not in required
            },
        )
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            more = st.dictionaries(text, from_schema(extra, contract), max_size=4)
            return st.tuples(more, obj).map(_merge)
        return obj
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), contract), max_size=4)
    if kind == "string":
        return st.uuids().map(str) if schema.get("format") == "uuid" else text
    if kind == "integer":
        low = schema.get("minimum")
        return integers if low is None else st.one_of(st.integers(min_value=low), _huge_integers)
    if kind == "number":
        return numbers
    if kind == "boolean":
        return st.booleans()
    assert kind == "null", kind
    return st.none()


# --- what reaches the engine: filters, and records of the seeded collection's dimension ---

# Mostly the seeded records' keys, so that filters find something.
_keys = st.one_of(*[st.just(k) for k in METADATA_KEYS], text)
_value = st.one_of(st.booleans(), integers, numbers, text)
_comparison = st.one_of(
    st.builds(
        lambda key, op, value: {key: {op: value}},
        _keys,
        st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$contains", "$not_contains"]),
        _value,
    ),
    st.builds(
        lambda key, op, values: {key: {op: values}},
        _keys,
        st.sampled_from(["$in", "$nin"]),
        st.one_of(st.lists(integers, max_size=4), st.lists(text, max_size=4), st.lists(scalars)),
    ),
    st.builds(lambda key, value: {key: value}, _keys, _value),
)
where = st.one_of(
    st.recursive(
        _comparison,
        lambda inner: st.builds(
            lambda op, clauses: {op: clauses},
            st.sampled_from(["$and", "$or"]),
            st.lists(inner, max_size=3),
        ),
        max_leaves=12,
    ),
    st.builds(lambda depth: _nested("$and", depth), st.sampled_from([10, 100, 200])),
    st.builds(lambda n: {"n": {"$in": list(range(n))}}, st.sampled_from([0, 1, 10_000, 40_000])),
    any_json,
)
where_document = st.one_of(
    st.builds(
        lambda op, value: {op: value},
        st.sampled_from(["$contains", "$not_contains", "$regex", "$not_regex"]),
        st.one_of(text, st.sampled_from(["(a|a)*$", "(?i)DOC", "[", "\\", "a{99999}"]), scalars),
    ),
    st.builds(lambda depth: _nested("$or", depth, {"$contains": "d"}), st.sampled_from([10, 500])),
    any_json,
)


def _nested(op: str, depth: int, leaf: Any = None) -> Any:
    clause = leaf if leaf is not None else {"n": {"$gte": 0}}
    for _ in range(depth):
        clause = {op: [clause, leaf if leaf is not None else {"k": {"$ne": "zz"}}]}
    return clause


_vector = st.lists(numbers, min_size=DIMENSION, max_size=DIMENSION)
_metadata = st.one_of(
    st.none(),
    st.dictionaries(
        _keys,
        st.one_of(_value, st.lists(integers, min_size=1, max_size=3), st.lists(text, max_size=3)),
        max_size=3,
    ),
)


def _base64_row(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


@st.composite
def records(draw: st.DrawFn, operation: Operation) -> dict[str, Any]:
    """A body with aligned columns and vectors of the collection's dimension (floats that may
    not fit in float32, or sent base64-encoded)."""
    size = draw(st.integers(0, 4))
    rows = st.lists(
        st.floats(width=32, allow_nan=False, allow_infinity=False),
        min_size=DIMENSION,
        max_size=DIMENSION,
    )
    vectors = draw(st.lists(st.one_of(_vector, rows), min_size=size, max_size=size))
    encoded: list[Any] = vectors
    if draw(st.booleans()):
        encoded = [_base64_row(v) if all(abs(x) < 3e38 for x in v) else v for v in vectors]
    if operation.name == "query":
        return {"query_embeddings": vectors, **draw(_query_options)}
    ids = draw(
        st.lists(st.one_of(st.sampled_from(["r0", "r1", "r2"]), text), min_size=size, max_size=size)
    )
    body: dict[str, Any] = {"ids": ids, "embeddings": encoded, "uris": None}
    body["metadatas"] = draw(
        st.one_of(st.none(), st.lists(_metadata, min_size=size, max_size=size))
    )
    body["documents"] = draw(
        st.one_of(st.none(), st.lists(st.one_of(st.none(), text), min_size=size, max_size=size))
    )
    return body


_query_options = st.fixed_dictionaries(
    {},
    optional={
        "n_results": st.one_of(st.integers(0, 20), _huge_integers),
        "where": where,
        "where_document": where_document,
        "include": st.lists(
            st.sampled_from(["distances", "documents", "embeddings", "metadatas", "uris"]),
            max_size=5,
        ),
    },
)

# --- requests ---

_SCOPES = st.sampled_from(
    [("default_tenant", "default_database")] * 4 + [(SEEDED_TENANT, SEEDED_DATABASE)]
)
_WRONG_CONTENT_TYPES = st.sampled_from(
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "",
        "application/jsonx",
    ]
)
_MALFORMED = st.one_of(
    st.binary(max_size=20),
    st.sampled_from(
        [
            b"",
            b"{",
            b'{"name": NaN}',
            b"[1, 2",
            b"\xff\xfe{}",
            b'{"a": 1}{}',
            b"nul",
            b'{"name": "\\ud800"}',
        ]
    ),
    # Deeper than any JSON reader's recursion limit.
    st.sampled_from([b"[" * 100_000 + b"]" * 100_000, b'{"where": ' * 5_000 + b"1" + b"}" * 5_000]),
)


def _path_value(name: str) -> st.SearchStrategy[str | Seeded]:
    if name == "collection_id":
        seeded: list[str | Seeded] = [Seeded.COLLECTION_ID] * 3 + [SEEDED_COLLECTION]
        return st.one_of(st.sampled_from(seeded), st.uuids().map(str), text)
    if name in ("tenant_name", "tenant"):
        return st.one_of(st.sampled_from(["default_tenant", SEEDED_TENANT]), text)
    if name == "database":
        return st.one_of(st.sampled_from(["default_database", SEEDED_DATABASE]), text)
    if name == "crn":
        crn = f"default_tenant:default_database:{SEEDED_COLLECTION}"
        return st.one_of(st.just(crn), st.lists(text, max_size=4).map(":".join))
    return text


@st.composite
def _path_values(draw: st.DrawFn, operation: Operation) -> dict[str, str | Seeded]:
    names = [n for n, where_, _ in operation.parameters if where_ == "path"]
    values = {n: draw(_path_value(n)) for n in names}
    # Mostly the seeded collection or scope (what shrinking goes to), else anything.
    if "collection_id" in values and draw(st.integers(0, 3)) < 3:
        seeded: str | Seeded = Seeded.COLLECTION_ID
        if operation.path.endswith("{collection_id}") and operation.method in ("GET", "DELETE"):
            seeded = draw(st.sampled_from([Seeded.COLLECTION_ID, SEEDED_COLLECTION]))  # by name
        values.update(tenant="default_tenant", database="default_database", collection_id=seeded)
    elif "tenant" in values and "database" in values and draw(st.booleans()):
        values["tenant"], values["database"] = draw(_SCOPES)
    return values


def _query(operation: Operation) -> st.SearchStrategy[dict[str, str]]:
    optional = {
        n: st.one_of(from_schema(s).map(_query_text), text)
        for n, where_, s in operation.parameters
        if where_ == "query"
    }
    return st.fixed_dictionaries({}, optional=optional)


def _query_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=False).encode()


@st.composite
def _valid_body(draw: st.DrawFn, operation: Operation) -> dict[str, Any]:
    assert operation.body is not None
    value = draw(from_schema(operation.body))
    if operation.name in ("add", "upsert", "update", "query") and draw(st.integers(0, 3)) < 3:
        value = {**value, **draw(records(operation))}
    if operation.name in ("get", "delete", "query"):
        value.pop("where", None)
        value.pop("where_document", None)
        value.update(draw(st.fixed_dictionaries({}, optional={"where": where})))
        value.update(draw(st.fixed_dictionaries({}, optional={"where_document": where_document})))
    assert isinstance(value, dict)
    return value


@st.composite
def _broken_body(draw: st.DrawFn, operation: Operation, call: Call) -> None:
    """Make `call`'s body break the schema, in one of the ways a client can."""
    value = draw(_valid_body(operation))
    how = draw(
        st.sampled_from(
            [
                "wrong type",
                "missing field",
                "extra field",
                "not an object",
                "malformed",
                "content type",
            ]
        )
    )
    call.kind = how
    if how == "wrong type" and value:
        key = draw(st.sampled_from(sorted(value)))
        value[key] = draw(any_json)
    elif how == "missing field" and value:
        del value[draw(st.sampled_from(sorted(value)))]
    elif how == "extra field":
        value[draw(text)] = draw(any_json)
    elif how == "not an object":
        call.body = _dumps(draw(st.one_of(scalars, st.lists(any_json, max_size=3))))
        return
    elif how == "malformed":
        call.body = draw(_MALFORMED)
        return
    elif how == "content type":
        call.content_type = draw(st.one_of(st.none(), _WRONG_CONTENT_TYPES))
    call.body = _dumps(value)


@st.composite
def calls(draw: st.DrawFn, choices: list[Operation] | None = None) -> Call:
    """A request for one of `choices` (every operation of the contract by default)."""
    operation = draw(st.sampled_from(choices or operations()))
    call = Call(operation, draw(_path_values(operation)), draw(_query(operation)))
    if operation.body is None:
        if draw(st.integers(0, 9)) == 0:  # a body where none is expected
            call.body, call.kind = _dumps(draw(any_json)), "unexpected body"
        return call
    if draw(st.integers(0, 4)) == 0:
        draw(_broken_body(operation, call))
    else:
        call.body = _dumps(draw(_valid_body(operation)))
    return call
