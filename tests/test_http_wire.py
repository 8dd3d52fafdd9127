"""The wire format: each shape converts both ways, and error bodies map to Chroma's classes."""

from __future__ import annotations

import base64
import dataclasses
import struct
import uuid

import numpy as np
import pytest

import achroma
from achroma.core.models import CollectionModel
from achroma.errors import (
    ERROR_TYPES,
    ChromaError,
    DuplicateIDError,
    InvalidArgumentError,
    NotFoundError,
)
from achroma.http import wire
from achroma.http.client import resolve_url
from achroma.http.client_auth import auth_headers


def test_base64_embeddings_are_little_endian_float32_as_chromadb_packs_them() -> None:
    vectors = np.array([[1.0, 0.5, -2.0]], dtype=np.float32)
    (encoded,) = wire.embeddings_to_json(vectors, as_base64=True)
    assert encoded == base64.b64encode(struct.pack("<3f", 1.0, 0.5, -2.0)).decode()


def test_base64_embeddings_decode_to_a_float32_matrix() -> None:
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4)
    decoded = wire.embeddings_from_json(wire.embeddings_to_json(vectors, as_base64=True))
    assert decoded.dtype == np.float32
    assert np.array_equal(decoded, vectors)


def test_list_embeddings_are_left_for_validation() -> None:
    assert wire.embeddings_from_json([[1, 2], [3, 4]]) == [[1, 2], [3, 4]]
    assert wire.embeddings_from_json("not a list") == "not a list"


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        ("AAA", "Invalid base64 string"),
        ("AAAA", "Invalid byte length: 3 bytes cannot be converted to f32 values"),
    ],
)
def test_malformed_base64_embeddings_are_invalid_arguments(encoded: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        wire.embeddings_from_json([encoded])


def test_all_null_update_embeddings_mean_keep_the_stored_vectors() -> None:
    assert wire.update_embeddings_from_json([None, None]) is None


def test_collection_round_trips_and_carries_a_schema() -> None:
    model = CollectionModel(
        id=uuid.uuid4(),
        name="docs",
        configuration={"hnsw": {"space": "cosine", "ef_search": 7}, "embedding_function": None},
        metadata={"a": 1},
        tenant="t",
        database="d",
        dimension=3,
    )
    body = wire.collection_to_json(model)
    assert wire.collection_from_json(body) == dataclasses.replace(model, schema=body["schema"])
    vector_index = body["schema"]["defaults"]["float_list"]["vector_index"]["config"]
    assert vector_index["space"] == "cosine"
    assert vector_index["hnsw"]["ef_search"] == 7


def test_results_are_sent_as_float32_and_read_back_as_float64_arrays() -> None:
    result = achroma.GetResult(
        ids=["a"],
        embeddings=np.array([[0.1, 0.2]], dtype=np.float32).astype(np.float64),
        documents=None,
        uris=None,
        data=None,
        metadatas=[{"k": 1}],
        included=["embeddings", "metadatas"],
    )
    body = wire.loads(wire.dumps(wire.get_result_to_json(result)))
    assert body["embeddings"] == [[0.1, 0.2]]
    assert body["include"] == ["embeddings", "metadatas"]
    back = wire.get_result_from_json(body, ["embeddings", "metadatas"])
    assert back["embeddings"].dtype == np.float64
    assert back["metadatas"] == [{"k": 1}]


@pytest.mark.parametrize("cls", [NotFoundError, InvalidArgumentError, DuplicateIDError])
def test_error_bodies_become_the_class_they_name(cls: type[ChromaError]) -> None:
    text = wire.dumps(wire.error_to_json(cls.wire_name, "the message")).decode()
    error = wire.error_from_json(400, "Bad Request", text)
    assert type(error) is cls
    assert str(error) == "the message"


def test_every_chroma_error_name_is_known() -> None:
    chromadb = pytest.importorskip("chromadb.errors")
    assert set(chromadb.error_types) <= set(ERROR_TYPES)


def test_unknown_error_bodies_become_chroma_errors() -> None:
    assert type(wire.error_from_json(410, "Gone", '{"error":"Unimplemented","message":"m"}')) is (
        ChromaError
    )
    assert str(wire.error_from_json(405, "Method Not Allowed", "")) == "405 Method Not Allowed"


@pytest.mark.parametrize(
    ("host", "port", "ssl", "url"),
    [
        ("localhost", 8000, False, "http://localhost:8000/api/v2"),
        ("example.com", 443, True, "https://example.com:443/api/v2"),
        ("http://example.com:9000", 8000, False, "http://example.com:9000/api/v2"),
        ("https://example.com/chroma", 8000, False, "https://example.com/chroma/api/v2"),
        ("::1", 8000, False, "http://[::1]:8000/api/v2"),
    ],
)
def test_urls_are_resolved_like_chromadb(host: str, port: int, ssl: bool, url: str) -> None:
    assert resolve_url(host, port, ssl, "/api/v2") == url


def test_a_url_without_a_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="Please add http:// or https://"):
        resolve_url("example.com/chroma", 8000, False, "/api/v2")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("X-Chroma-Token", {"X-Chroma-Token": "secret"}),
        ("Authorization", {"Authorization": "Bearer secret"}),
    ],
)
def test_token_auth_sends_the_configured_header(header: str, expected: dict[str, str]) -> None:
    settings = achroma.Settings(
        chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
        chroma_client_auth_credentials="secret",
        chroma_auth_token_transport_header=header,
    )
    assert auth_headers(settings) == expected


def test_without_orjson_the_stdlib_writes_the_same_values() -> None:
    body = {"embeddings": np.array([[0.5, 1.0]], dtype=np.float32), "n": np.int64(3)}
    assert wire.loads(wire._dumps_stdlib(body)) == {"embeddings": [[0.5, 1.0]], "n": 3}
