"""achroma's Schema classes side by side with chromadb 1.5.9's own.

The same sequence of create_index/delete_index calls gives the same serialize_to_json()
output, or the same error type and message; JSON deserialises and serialises back unchanged.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Callable
from typing import Any

import chromadb.api.types as ct
import numpy as np
import pytest
from chromadb.utils.embedding_functions import register_embedding_function as c_register
from chromadb.utils.embedding_functions import (
    register_sparse_embedding_function as c_register_sparse,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import achroma.schema as at
from achroma.embeddings import EmbeddingFunction, register_embedding_function
from achroma.embeddings.registry import register_sparse_embedding_function


class TinyEmbedding(EmbeddingFunction[list[str]]):
    """A persistable function that prefers cosine and supports only cosine and ip."""

    def __init__(self, dim: int = 3) -> None:
        self.dim = dim

    def __call__(self, input: list[str]) -> list[Any]:
        return [np.zeros(self.dim, np.float32) for _ in input]

    @staticmethod
    def name() -> str:
        return "tiny_schema_test"

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> TinyEmbedding:
        return TinyEmbedding(config["dim"])

    def default_space(self) -> Any:
        return "cosine"

    def supported_spaces(self) -> list[Any]:
        return ["cosine", "ip"]


register_embedding_function(TinyEmbedding)
c_register(TinyEmbedding)


class NamelessEmbedding:
    """A function chromadb records as legacy: it cannot describe itself."""

    def __call__(self, input: list[str]) -> list[Any]:
        return [np.zeros(2, np.float32) for _ in input]


class TinySparse:
    def __call__(self, input: list[str]) -> list[Any]:
        return []

    @staticmethod
    def name() -> str:
        return "tiny_sparse"

    def get_config(self) -> dict[str, Any]:
        return {"k": 1}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> TinySparse:
        return TinySparse()


register_sparse_embedding_function(TinySparse)
c_register_sparse(TinySparse)


# Each config is built by name from either module, with the same arguments.
Build = Callable[[Any], Any]

CONFIGS: dict[str, Build] = {
    "none": lambda m: None,
    "fts": lambda m: m.FtsIndexConfig(),
    "string": lambda m: m.StringInvertedIndexConfig(),
    "int": lambda m: m.IntInvertedIndexConfig(),
    "float": lambda m: m.FloatInvertedIndexConfig(),
    "bool": lambda m: m.BoolInvertedIndexConfig(),
    "vector": lambda m: m.VectorIndexConfig(),
    "vector_cosine_hnsw": lambda m: m.VectorIndexConfig(
        space="cosine", hnsw=m.HnswIndexConfig(ef_search=200, resize_factor=1.5)
    ),
    "vector_no_ef": lambda m: m.VectorIndexConfig(embedding_function=None, space="ip"),
    "vector_tiny": lambda m: m.VectorIndexConfig(embedding_function=TinyEmbedding()),
    "vector_tiny_l2": lambda m: m.VectorIndexConfig(embedding_function=TinyEmbedding(), space="l2"),
    "vector_nameless": lambda m: m.VectorIndexConfig(embedding_function=NamelessEmbedding()),
    "vector_spann": lambda m: m.VectorIndexConfig(
        spann=m.SpannIndexConfig(search_nprobe=8, merge_threshold=20), source_key="text"
    ),
    "sparse": lambda m: m.SparseVectorIndexConfig(),
    "sparse_bm25": lambda m: m.SparseVectorIndexConfig(bm25=True),
    "sparse_source_no_ef": lambda m: m.SparseVectorIndexConfig(source_key="#document"),
    "sparse_source_ef": lambda m: m.SparseVectorIndexConfig(
        source_key="text", embedding_function=TinySparse(), bm25=False
    ),
}
KEYS = [None, "cat", "n", "sparse_a", "sparse_b", "#document", "#embedding", "#other"]

Call = tuple[str, str, Any]
calls = st.tuples(
    st.sampled_from(["create_index", "delete_index"]),
    st.sampled_from(sorted(CONFIGS)),
    st.sampled_from(KEYS),
)


def run(module: Any, sequence: list[Call]) -> list[Any]:
    """Each call's outcome: the schema JSON after it, or its error's type name and text."""
    schema = module.Schema()
    outcomes: list[Any] = []
    for method, config, key in sequence:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = getattr(schema, method)(CONFIGS[config](module), key=key)
                assert result is schema
                outcomes.append(json.dumps(schema.serialize_to_json()))
        except ValueError as exc:
            outcomes.append((type(exc).__name__, str(exc)))
    return outcomes


def assert_same(sequence: list[Call]) -> None:
    assert run(at, sequence) == run(ct, sequence)


@settings(max_examples=300, deadline=None)
@given(st.lists(calls, max_size=8))
def test_any_call_sequence_matches_chromadb(sequence: list[Call]) -> None:
    assert_same(sequence)


@settings(max_examples=100, deadline=None)
@given(st.lists(calls, max_size=8))
def test_serialised_schema_deserialises_to_the_same_json(sequence: list[Call]) -> None:
    schema = at.Schema()
    for method, config, key in sequence:
        with contextlib.suppress(ValueError):
            getattr(schema, method)(CONFIGS[config](at), key=key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = schema.serialize_to_json()
        again = at.Schema.deserialize_from_json(data)
        assert again.serialize_to_json() == data
        assert (
            again.serialize_to_json() == ct.Schema.deserialize_from_json(data).serialize_to_json()
        )


def test_fresh_schema_json_is_chromadbs() -> None:
    assert json.dumps(at.Schema().serialize_to_json()) == json.dumps(
        ct.Schema().serialize_to_json()
    )


# One hand-written case per row of the rules table (spec §6).
TABLE: list[tuple[str, list[Call]]] = [
    ("both None", [("create_index", "none", None)]),
    ("both None on delete", [("delete_index", "none", None)]),
    ("#embedding key", [("create_index", "string", "#embedding")]),
    ("#embedding key on delete", [("delete_index", "fts", "#embedding")]),
    ("#document with another config", [("create_index", "string", "#document")]),
    ("#document with fts", [("delete_index", "fts", "#document")]),
    ("#document with no config", [("create_index", "none", "#document")]),
    ("other # key", [("create_index", "int", "#other")]),
    ("vector globally", [("create_index", "vector_cosine_hnsw", None)]),
    ("vector with a key", [("create_index", "vector", "cat")]),
    ("fts globally", [("create_index", "fts", None)]),
    ("fts on a metadata key", [("create_index", "fts", "cat")]),
    ("sparse without a key", [("create_index", "sparse", None)]),
    (
        "second sparse key",
        [("create_index", "sparse_bm25", "sparse_a"), ("create_index", "sparse", "sparse_b")],
    ),
    ("same sparse key twice", [("create_index", "sparse", "sparse_a")] * 2),
    ("sparse source without a function", [("create_index", "sparse_source_no_ef", "sparse_a")]),
    ("sparse source with a function", [("create_index", "sparse_source_ef", "sparse_a")]),
    ("config only", [("delete_index", "int", None), ("create_index", "int", None)]),
    ("config and key", [("delete_index", "string", "cat"), ("create_index", "bool", "cat")]),
    ("key only", [("create_index", "none", "cat")]),
    ("key only on delete", [("delete_index", "none", "cat")]),
    ("delete vector", [("delete_index", "vector", None)]),
    ("delete sparse", [("delete_index", "sparse", "sparse_a")]),
    ("delete fts globally", [("delete_index", "fts", None)]),
    ("legacy vector function", [("create_index", "vector_no_ef", None)]),
    ("function space", [("create_index", "vector_tiny", None)]),
    ("unsupported space", [("create_index", "vector_tiny_l2", None)]),
    ("nameless function", [("create_index", "vector_nameless", None)]),
    ("spann and source key", [("create_index", "vector_spann", None)]),
]


@pytest.mark.parametrize("sequence", [s for _, s in TABLE], ids=[n for n, _ in TABLE])
def test_rule_matches_chromadb(sequence: list[Call]) -> None:
    assert_same(sequence)


def test_per_key_override_serialises_only_the_touched_type() -> None:
    schema = at.Schema().delete_index(at.StringInvertedIndexConfig(), key="cat")
    assert schema.serialize_to_json()["keys"]["cat"] == {
        "string": {"string_inverted_index": {"enabled": False, "config": {}}}
    }


def test_a_key_object_is_taken_by_its_name() -> None:
    class Key:
        def __init__(self, name: str) -> None:
            self.name = name

    schema = at.Schema().delete_index(at.IntInvertedIndexConfig(), key=Key("n"))
    assert "n" in schema.keys
    assert at.VectorIndexConfig(source_key=Key("#document")).source_key == "#document"


def test_unsupported_space_warns_as_chromadb() -> None:
    config = at.VectorIndexConfig(embedding_function=TinyEmbedding(), space="l2")
    with pytest.warns(UserWarning, match="space l2 is not supported by tiny_schema_test"):
        at.Schema().create_index(config).serialize_to_json()


CONSTRUCTIONS: list[tuple[str, Callable[[Any], Any]]] = [
    ("hnsw extra field", lambda m: m.HnswIndexConfig(foo=1)),
    ("hnsw two extra fields", lambda m: m.HnswIndexConfig(foo=1, bar=2)),
    ("hnsw bad type", lambda m: m.HnswIndexConfig(ef_search="x")),
    ("spann extra accepted field", lambda m: m.SpannIndexConfig(quantize=True).model_dump()),
    ("spann extra field", lambda m: m.SpannIndexConfig(foo=1)),
    ("sparse extra field", lambda m: m.SparseVectorIndexConfig(foo=1)),
    ("fts extra field", lambda m: m.FtsIndexConfig(foo=1)),
    ("vector extra field", lambda m: m.VectorIndexConfig(foo=1)),
    ("vector bad space", lambda m: m.VectorIndexConfig(space="dot")),
    ("vector # source", lambda m: m.VectorIndexConfig(source_key="#id")),
    ("vector int source", lambda m: m.VectorIndexConfig(source_key=3)),
    ("vector uncallable function", lambda m: m.VectorIndexConfig(embedding_function=3)),
    ("sparse # source", lambda m: m.SparseVectorIndexConfig(source_key="#embedding")),
    ("sparse uncallable", lambda m: m.SparseVectorIndexConfig(embedding_function="x")),
    ("hnsw dump", lambda m: m.HnswIndexConfig(max_neighbors=8).model_dump()),
]


def outcome(build: Callable[[Any], Any], module: Any) -> Any:
    try:
        result = build(module)
    except ValueError as exc:
        return (type(exc).__name__, str(exc))
    return result if isinstance(result, dict) else repr(result)


@pytest.mark.parametrize("build", [b for _, b in CONSTRUCTIONS], ids=[n for n, _ in CONSTRUCTIONS])
def test_config_construction_matches_chromadb(build: Callable[[Any], Any]) -> None:
    assert outcome(build, at) == outcome(build, ct)


def test_cmek_serialises_and_validates_as_chromadb() -> None:
    resource = "projects/p/locations/l/keyRings/r/cryptoKeys/k"
    ours = at.Schema().set_cmek(at.Cmek.gcp(resource)).serialize_to_json()
    assert ours == ct.Schema().set_cmek(ct.Cmek.gcp(resource)).serialize_to_json()
    assert ours["cmek"] == {"gcp": resource}
    assert at.Schema.deserialize_from_json(ours).cmek == at.Cmek.gcp(resource)
    assert not at.Cmek.gcp("nope").validate_pattern()
    assert at.Cmek.gcp(resource).validate_pattern()
    with pytest.raises(ValueError, match="Unsupported or missing CMEK provider"):
        at.Cmek.from_dict({"aws": "x"})


def test_unknown_function_deserialises_to_none_with_chromadbs_warning() -> None:
    data = at.Schema().serialize_to_json()
    data["keys"]["#embedding"]["float_list"]["vector_index"]["config"]["embedding_function"] = {
        "name": "no_such_function",
        "type": "known",
        "config": {},
    }
    with pytest.warns(UserWarning, match="Could not reconstruct embedding function no_such"):
        schema = at.Schema.deserialize_from_json(data)
    vector = schema.keys["#embedding"].float_list
    assert vector is not None and vector.vector_index is not None
    assert vector.vector_index.config.embedding_function is None


def test_empty_json_deserialises_to_an_empty_schema_as_chromadb() -> None:
    assert at.Schema.deserialize_from_json({}).serialize_to_json() == {"defaults": {}, "keys": {}}
    assert ct.Schema.deserialize_from_json({}).serialize_to_json() == {"defaults": {}, "keys": {}}


def test_registered_function_is_rebuilt_from_json() -> None:
    schema = at.Schema().create_index(at.VectorIndexConfig(embedding_function=TinyEmbedding(5)))
    again = at.Schema.deserialize_from_json(schema.serialize_to_json())
    vector = again.keys["#embedding"].float_list
    assert vector is not None and vector.vector_index is not None
    function = vector.vector_index.config.embedding_function
    assert isinstance(function, TinyEmbedding) and function.dim == 5


def test_schema_classes_live_where_chromadb_exports_them() -> None:
    import achroma
    import achroma.api.types
    import achroma.chromadb

    for name in ["Schema", "VectorIndexConfig", "HnswIndexConfig", "Cmek", "FtsIndexConfig"]:
        assert getattr(achroma, name) is getattr(at, name)
        assert getattr(achroma.chromadb, name) is getattr(at, name)
    for name in ["ValueTypes", "StringValueType", "VectorIndexType", "IndexConfig"]:
        assert getattr(achroma.api.types, name) is getattr(at, name)
