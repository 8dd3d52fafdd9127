"""The schema rules of chromadb 1.5.9's server, as achroma.core.schema_rules applies them.

`fixtures/chroma_schema_observed.json` holds what a real chroma 1.5.9 server (``chroma run``)
answered to raw create-collection requests: the reconciled schema and configuration_json, or
the error. Other behaviour recorded here was observed with HttpClient and PersistentClient:

- discovered keys: each new metadata key gets a copy of the defaults for its value type
  (``"n": {"int": ...}``; a key seen as int and str carries both; arrays take their items'
  type); keys under ``chroma:`` get none; a key that already has the type keeps its entry;
- filters on a disabled index fail on get, query and delete alike, with the key and the
  operand's type (``$ne``, ``$nin``, ``$contains`` on arrays included), as does any
  ``where_document`` (``$contains``, ``$regex``, ``$not_contains``) when FTS is off on
  ``#document``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from achroma.api.configuration import create_configuration
from achroma.core import schema_rules as rules
from achroma.core.filters import parse_where, parse_where_document
from achroma.core.requests import RecordFilter
from achroma.core.schema_filters import check_record_filter
from achroma.core.sparse import SparseVector
from achroma.errors import InvalidArgumentError

OBSERVED = json.loads(
    (Path(__file__).parent / "fixtures" / "chroma_schema_observed.json").read_text()
)
# achroma's stored configuration keeps no thread count, so it cannot reach the schema.
NOT_REPRODUCED = {"none/ef_search"}


def stored(configuration: Any) -> dict[str, Any]:
    """The configuration achroma stores for the JSON a chromadb client sends (None: none)."""
    text = json.dumps(configuration) if configuration is not None else None
    return create_configuration(text, None)


def outcome(schema: Any, configuration: Any) -> dict[str, Any]:
    try:
        rules.validate_schema(schema) if schema is not None else None
        result, config = rules.reconcile(schema, stored(configuration))
    except InvalidArgumentError as exc:
        return {"error": str(exc)}
    return {"result_schema": result, "result_configuration": config}


@pytest.mark.parametrize(
    "case",
    [c for c in OBSERVED["reconcile"] if c["case"] not in NOT_REPRODUCED],
    ids=lambda c: c["case"],
)
def test_reconcile_matches_the_chroma_server(case: dict[str, Any]) -> None:
    expected = {k: case[k] for k in ("error", "result_schema", "result_configuration") if k in case}
    assert outcome(case["schema"], case["configuration"]) == expected


@pytest.mark.parametrize(
    "case",
    [c for c in OBSERVED["validate"] if "missing field" not in c.get("error", "")],
    ids=lambda c: c["case"],
)
def test_validate_and_reconcile_match_the_chroma_server(case: dict[str, Any]) -> None:
    got = outcome(case["schema"], None)
    if case["status"] == "error":
        if "not enabled in local" in case["error"]:
            # achroma indexes sparse vectors locally, which a chroma server does not.
            assert "error" not in got
            return
        assert got == {"error": case["error"]}
        return
    # "spann only" loses its embedding function: without the SPANN block the merged schema
    # is the default one, which takes the configuration's function (here none).
    expected = case["result_schema"]
    assert got == {
        "result_schema": expected,
        "result_configuration": rules.configuration_from_schema(expected),
    }
    assert case["result_configuration"] == rules.configuration_from_schema(case["result_schema"])


@pytest.mark.parametrize("field", ["defaults", "keys"])
def test_schema_without_defaults_or_keys_is_refused(field: str) -> None:
    schema = rules.default_schema()
    del schema[field]
    with pytest.raises(InvalidArgumentError, match=f"missing field `{field}`"):
        rules.validate_schema(schema)


def test_sparse_source_key_without_function_is_refused() -> None:
    schema = rules.default_schema()
    index = {"enabled": True, "config": {"source_key": "text"}}
    schema["keys"]["sparse"] = {"sparse_vector": {"sparse_vector_index": index}}
    with pytest.raises(InvalidArgumentError, match="If source_key is provided then"):
        rules.validate_schema(schema)


def test_no_schema_and_no_configuration_give_the_default_schema() -> None:
    schema, configuration = rules.reconcile(None, None)
    assert schema == rules.default_schema()
    assert configuration["hnsw"] == {
        "space": "l2",
        "ef_construction": 100,
        "ef_search": 100,
        "max_neighbors": 16,
        "resize_factor": 1.2,
        "sync_threshold": 1000,
    }
    assert configuration["embedding_function"] is None


def test_legacy_hnsw_metadata_counts_as_a_configuration() -> None:
    # Observed: metadata {"hnsw:space": "cosine"} with a key override fails; without, it
    # gives a cosine schema.
    override = rules.default_schema()
    override["keys"]["cat"] = {
        "string": {"string_inverted_index": {"enabled": False, "config": {}}}
    }
    configuration = create_configuration(None, {"hnsw:space": "cosine"})
    with pytest.raises(InvalidArgumentError, match="Cannot set both"):
        rules.reconcile(override, configuration)
    schema, _ = rules.reconcile(None, configuration)
    assert schema["keys"]["#embedding"]["float_list"]["vector_index"]["config"]["space"] == "cosine"


def test_cmek_is_kept() -> None:
    schema = rules.default_schema()
    schema["cmek"] = {"gcp": "projects/p/locations/l/keyRings/r/cryptoKeys/k"}
    result, _ = rules.reconcile(schema, stored(None))
    assert result["cmek"] == schema["cmek"]


# --- discovered keys ---


def test_new_metadata_keys_get_a_copy_of_their_types_defaults() -> None:
    schema = rules.default_schema()
    schema["defaults"]["int"]["int_inverted_index"]["enabled"] = False
    updated = rules.discover_keys(schema, [{"n": 1, "s": "x", "f": 1.5, "b": True}, None])
    assert updated is not None
    keys = updated["keys"]
    assert keys["n"] == {"int": {"int_inverted_index": {"enabled": False, "config": {}}}}
    assert keys["s"] == {"string": schema["defaults"]["string"]}
    assert keys["f"] == {"float": schema["defaults"]["float"]}
    assert keys["b"] == {"bool": schema["defaults"]["bool"]}
    assert "n" not in schema["keys"], "the input is left unchanged"


def test_a_key_seen_with_two_types_carries_both() -> None:
    updated = rules.discover_keys(rules.default_schema(), [{"n": 1}, {"n": "one"}])
    assert updated is not None
    assert set(updated["keys"]["n"]) == {"int", "string"}


def test_arrays_use_their_items_type_and_sparse_vectors_their_own() -> None:
    sparse = SparseVector(indices=[1], values=[0.5])
    updated = rules.discover_keys(
        rules.default_schema(), [{"a": [1, 2], "t": ["x"], "e": [], "sv": sparse}]
    )
    assert updated is not None
    assert set(updated["keys"]["a"]) == {"int"}
    assert set(updated["keys"]["t"]) == {"string"}
    assert "e" not in updated["keys"]
    assert set(updated["keys"]["sv"]) == {"sparse_vector"}
    wire = {"#type": "sparse_vector", "indices": [1], "values": [0.5]}
    assert rules.value_type_of(wire) == "sparse_vector"


def test_known_keys_system_keys_and_none_values_change_nothing() -> None:
    schema = rules.default_schema()
    schema["keys"]["cat"] = {"string": {"string_inverted_index": {"enabled": False, "config": {}}}}
    assert rules.discover_keys(schema, [{"cat": "x", "chroma:x": 1, "gone": None}]) is None
    assert rules.discover_keys(schema, None) is None


# --- filters ---


def no_index(key: str | None, value_type: str) -> dict[str, Any]:
    schema = rules.default_schema()
    index = rules.FILTER_INDEX[value_type][0]
    off = {value_type: {index: {"enabled": False, "config": {}}}}
    if key is None:
        schema["defaults"][value_type][index]["enabled"] = False
    else:
        schema["keys"][key] = off
    return schema


@pytest.mark.parametrize(
    ("value_type", "name"),
    [("string", "Str"), ("int", "Int"), ("float", "Float"), ("bool", "Bool")],
)
def test_filter_on_a_disabled_key_names_key_and_type(value_type: str, name: str) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        rules.filter_check(no_index("cat", value_type), "cat", value_type)
    assert str(raised.value) == (
        f"Cannot filter using metadata key 'cat' with type '{name}' because indexing is disabled"
    )


def test_a_key_override_wins_over_the_defaults_and_other_types_use_the_defaults() -> None:
    schema = no_index("cat", "string")
    rules.filter_check(schema, "other", "string")
    rules.filter_check(schema, "cat", "int")
    schema = no_index(None, "int")
    schema["keys"]["n"] = {"int": {"int_inverted_index": {"enabled": True, "config": {}}}}
    rules.filter_check(schema, "n", "int")
    with pytest.raises(InvalidArgumentError, match="'m' with type 'Int'"):
        rules.filter_check(schema, "m", "int")


@pytest.mark.parametrize(
    "where",
    [
        {"cat": "x"},
        {"cat": {"$ne": "x"}},
        {"cat": {"$in": ["x"]}},
        {"cat": {"$nin": ["x"]}},
        {"cat": {"$contains": "x"}},
        {"$and": [{"n": 1}, {"$or": [{"cat": "x"}, {"n": 2}]}]},
    ],
)
def test_where_operands_are_checked_at_any_depth(where: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError, match="'cat' with type 'Str'"):
        check_record_filter(no_index("cat", "string"), RecordFilter(where=parse_where(where)))


def test_where_document_needs_fts_on_document() -> None:
    schema = rules.default_schema()

    def document(where_document: dict[str, Any]) -> RecordFilter:
        return RecordFilter(where_document=parse_where_document(where_document))

    check_record_filter(schema, document({"$contains": "x"}))
    schema["keys"]["#document"]["string"]["fts_index"]["enabled"] = False
    for where_document in ({"$contains": "x"}, {"$regex": "x"}, {"$not_contains": "x"}):
        with pytest.raises(InvalidArgumentError) as raised:
            check_record_filter(schema, document(where_document))
        assert str(raised.value) == (
            "Cannot filter using full-text search because FTS indexing is disabled"
        )
    check_record_filter(schema, RecordFilter(where=parse_where({"n": 1})))


def test_sparse_queries_need_an_enabled_sparse_index() -> None:
    schema = rules.default_schema()
    with pytest.raises(InvalidArgumentError, match="'sv' with type 'SparseVector'"):
        rules.sparse_knn_check(schema, "sv")
    enabled = {"enabled": True, "config": {"bm25": True, "embedding_function": {"type": "unknown"}}}
    schema["keys"]["sv"] = {"sparse_vector": {"sparse_vector_index": copy.deepcopy(enabled)}}
    rules.sparse_knn_check(schema, "sv")
    assert rules.sparse_index_key(schema) == ("sv", enabled["config"])
    assert rules.sparse_index_key(rules.default_schema()) is None
