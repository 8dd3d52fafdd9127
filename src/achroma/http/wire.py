"""Chroma's v2 JSON wire format, shared by achroma's server and its HTTP client.

Each shape is converted in one place, in both directions: collections, tenants and databases,
embeddings (JSON lists or base64 little-endian float32, as Chroma's clients send them), get and
query results, and error bodies `{"error": <wire name>, "message": ...}`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt

from achroma.core import schema_rules
from achroma.core.models import CollectionModel, Database, GetResult, QueryResult, Tenant
from achroma.core.sparse import metadata_from_wire, metadata_to_wire
from achroma.errors import ERROR_TYPES, ChromaError, InvalidArgumentError

JSON = Any

# --- bytes ---


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _dumps_stdlib(value: JSON) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=_plain).encode()


dumps: Callable[[JSON], bytes] = _dumps_stdlib
loads: Callable[[bytes | str], JSON] = json.loads

try:  # orjson (in the `server` extra) is faster, and writes float32 values as Chroma does
    import orjson

    def _dumps_orjson(value: JSON) -> bytes:
        return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)

    dumps = _dumps_orjson
    loads = orjson.loads
except ImportError:  # pragma: no cover (the stdlib is exact too, with longer float32 digits)
    pass


# --- tenants, databases, collections ---


def tenant_to_json(tenant: Tenant) -> JSON:
    return {"name": tenant["name"], "resource_name": None}


def tenant_from_json(body: JSON) -> Tenant:
    return Tenant(name=body["name"])


def database_to_json(database: Database) -> JSON:
    return {"id": str(database["id"]), "name": database["name"], "tenant": database["tenant"]}


def database_from_json(body: JSON) -> Database:
    return Database(id=UUID(body["id"]), name=body["name"], tenant=body["tenant"])


def collection_to_json(model: CollectionModel) -> JSON:
    return {
        "id": str(model.id),
        "name": model.name,
        "configuration_json": model.configuration,
        "schema": (
            model.schema
            if model.schema is not None
            else schema_rules.reconcile(None, model.configuration)[0]
        ),
        "metadata": model.metadata,
        "dimension": model.dimension,
        "tenant": model.tenant,
        "database": model.database,
        "log_position": model.log_position,
        "version": model.version,
    }


def collection_from_json(body: JSON) -> CollectionModel:
    return CollectionModel(
        id=UUID(body["id"]),
        name=body["name"],
        configuration=body.get("configuration_json") or {},
        metadata=body.get("metadata"),
        tenant=body["tenant"],
        database=body["database"],
        dimension=body.get("dimension"),
        version=body.get("version") or 0,
        log_position=body.get("log_position") or 0,
        schema=body.get("schema"),
    )


def drop_nulls(body: JSON) -> JSON:
    """A configuration object without its null fields: on the wire null means "not given"."""
    if not isinstance(body, dict):
        return body
    return {k: v for k, v in body.items() if v is not None}


# --- embeddings ---


def embeddings_to_json(vectors: npt.NDArray[np.float32], as_base64: bool) -> JSON:
    """Rows as base64 strings of little-endian float32 (what Chroma's clients send when the
    server's pre-flight check allows it), or as lists of floats."""
    rows = np.ascontiguousarray(vectors, dtype="<f4")
    if as_base64:
        return [base64.b64encode(row.tobytes()).decode("ascii") for row in rows]
    return rows


def _unpack(encoded: str) -> npt.NDArray[np.float32]:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as exc:  # binascii.Error, or a plain ValueError for non-ASCII text
        reason = "Invalid padding" if "padding" in str(exc) else str(exc)
        raise InvalidArgumentError(f"Invalid base64 string: {reason}") from None
    if len(raw) % 4:
        raise InvalidArgumentError(
            f"Invalid byte length: {len(raw)} bytes cannot be converted to f32 values "
            "(must be divisible by 4)"
        )
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def embeddings_from_json(value: JSON) -> Any:
    """Decode base64 rows into a float32 array. Anything else (lists of numbers, malformed
    values) is returned as it is, for the client-side validation rules to judge."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return value
    rows = [_unpack(v) for v in value]
    if len({len(r) for r in rows}) == 1:
        return np.stack(rows)
    return rows


def update_embeddings_from_json(value: JSON) -> Any:
    """Update payloads may carry null rows: all-null means "keep the stored vectors"."""
    if isinstance(value, list) and value and all(v is None for v in value):
        return None
    return embeddings_from_json(value)


# --- results ---


def _float32(value: Any) -> Any:
    """Stored vectors and distances are float32: sent as such, they print as Chroma prints
    them ("0.1", not "0.10000000149011612")."""
    if value is None:
        return None
    return np.asarray(value, dtype=np.float32)


def get_result_to_json(result: GetResult) -> JSON:
    return {
        "ids": result["ids"],
        "embeddings": _float32(result["embeddings"]),
        "documents": result["documents"],
        "uris": result["uris"],
        "metadatas": metadatas_to_json(result["metadatas"]),
        "include": [i for i in result["included"] if i != "data"],
    }


def query_result_to_json(result: QueryResult) -> JSON:
    embeddings, distances = result["embeddings"], result["distances"]
    return {
        "ids": result["ids"],
        "embeddings": [_float32(e) for e in embeddings] if embeddings is not None else None,
        "documents": result["documents"],
        "uris": result["uris"],
        "metadatas": _nested(metadatas_to_json, result["metadatas"]),
        "distances": [_float32(d) for d in distances] if distances is not None else None,
        "include": [i for i in result["included"] if i != "data"],
    }


def _array(rows: Any) -> Any:
    return np.array(rows, dtype=np.float64) if rows is not None else None


def get_result_from_json(body: JSON, include: list[Any]) -> GetResult:
    """A `GetResult` shaped as the local engine shapes it (embeddings as a float64 array)."""
    return GetResult(
        ids=body["ids"],
        embeddings=_array(body.get("embeddings")) if "embeddings" in include else None,
        documents=body.get("documents"),
        uris=body.get("uris"),
        data=None,
        metadatas=metadatas_from_json(body.get("metadatas")),
        included=list(include),
    )


def query_result_from_json(body: JSON, include: list[Any]) -> QueryResult:
    embeddings = body.get("embeddings")
    return QueryResult(
        ids=body["ids"],
        embeddings=[_array(e) for e in embeddings]
        if embeddings is not None and "embeddings" in include
        else None,
        documents=body.get("documents"),
        uris=body.get("uris"),
        data=None,
        metadatas=_nested(metadatas_from_json, body.get("metadatas")),
        distances=body.get("distances"),
        included=list(include),
    )


def search_result_to_json(result: dict[str, Any]) -> JSON:
    return {
        **result,
        "embeddings": [_float32(e) if e is not None else None for e in result["embeddings"]],
        "metadatas": _nested(metadatas_to_json, result["metadatas"]),
    }


def search_result_from_json(body: JSON) -> dict[str, Any]:
    """A search response as the local engine gives it (sparse vectors revived)."""
    return {**body, "metadatas": _nested(metadatas_from_json, body.get("metadatas"))}


# --- metadata (sparse vectors travel tagged) ---


def metadatas_to_json(metadatas: list[Any] | None) -> list[Any] | None:
    return None if metadatas is None else [metadata_to_wire(m) for m in metadatas]


def metadatas_from_json(metadatas: Any) -> Any:
    """Metadatas with their tagged sparse vectors revived (anything else left for the
    validation to judge)."""
    if not isinstance(metadatas, list):
        return metadatas
    return [metadata_from_wire(m) for m in metadatas]


def _nested(convert: Callable[[Any], Any], lists: list[Any] | None) -> list[Any] | None:
    return None if lists is None else [convert(m) for m in lists]


# --- errors ---


def error_to_json(wire_name: str, message: str) -> JSON:
    return {"error": wire_name, "message": message}


def error_from_json(status: int, reason: str, text: str) -> ChromaError:
    """The exception a response with an error status stands for: Chroma's class named by the
    body's `error` field, with its message; a plain `ChromaError` for any other body."""
    try:
        body = loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        cls = ERROR_TYPES.get(body["error"], ChromaError)
        return cls(str(body.get("message", "")))
    return ChromaError(text or f"{status} {reason}")
