"""The fast paths of `add` (plain metadata) give what the general code gives."""

from __future__ import annotations

import json
from typing import Any

import pytest

from achroma.api import record_inputs
from achroma.core import schema_rules
from achroma.core.sparse import SparseVector
from achroma.engine import local, records, writes

PLAIN = [
    {"cat": 3, "num": 1.5, "tag": "red", "ok": True},
    {"cat": -(2**63), "num": -0.0, "tag": "", "ok": False},
    {"é": "ünïcode", "big": 2**63 - 1},
]
OTHER = [
    {"list": [1, 2, 3], "flags": [True, False]},
    {"sparse": SparseVector(indices=[1, 5], values=[0.5, 0.25])},
    {"huge": 2**70, "nan": float("nan"), "x": 1},
    {"chroma:internal": 1, "kept": "a"},
    {"none": None, "kept": 2},
]


def _slow_normalize(metadatas: list[Any]) -> list[Any]:
    return [record_inputs.clean_metadata(m) for m in metadatas]


@pytest.mark.parametrize("metadata", PLAIN + OTHER)
def test_normalize_metadatas_as_clean_metadata(metadata: dict[str, Any]) -> None:
    got = record_inputs.normalize_metadatas([metadata, None], "upsert")
    assert got == _slow_normalize([metadata, None])
    assert got is not None and got[0] is not metadata  # a copy, as before


def test_value_errors_still_come_before_key_errors() -> None:
    # the bad key is in the first record, the bad value in the second: values are checked
    # for every record first
    with pytest.raises(ValueError, match="Expected metadata value"):
        record_inputs.normalize_metadatas([{"$bad": 1}, {"a": object()}], "add")
    with pytest.raises(record_inputs.InvalidArgumentError, match="index 0"):
        record_inputs.normalize_metadatas([{"$bad": 1}, {"a": 1}], "add")


def test_reject_none_values() -> None:
    record_inputs.reject_none_values([{"a": 1}, None])
    with pytest.raises(TypeError):
        record_inputs.reject_none_values([{"a": 1}, {"b": None}])


def test_check_encodable_refuses_lone_surrogates_in_values() -> None:
    record_inputs.check_encodable(["a"], [{"k": "ünï"}])
    with pytest.raises(TypeError):
        record_inputs.check_encodable(["a"], [{"k": "\ud800"}])
    with pytest.raises(TypeError):
        record_inputs.check_encodable(["a"], [{"k": ["ok", "\ud800"]}])


@pytest.mark.parametrize("metadata", PLAIN + OTHER)
def test_new_metadata_decoded_is_what_json_gives_back(metadata: dict[str, Any]) -> None:
    metadata = record_inputs.clean_metadata(metadata) or {}  # as validation leaves it
    encoded, decoded = writes._new_metadata(metadata)
    kept = {k: v for k, v in metadata.items() if v is not None}
    assert encoded == records.encode_metadata(kept)
    if decoded is not None:
        assert encoded is not None
        assert decoded == json.loads(encoded)
        assert [type(v) for v in decoded.values()] == [
            type(v) for v in json.loads(encoded).values()
        ]


@pytest.mark.parametrize("metadata", PLAIN + OTHER)
def test_metadata_rows_as_the_general_code(metadata: dict[str, Any]) -> None:
    metadata = record_inputs.clean_metadata(metadata) or {}
    encoded = records.encode_metadata(metadata)
    assert encoded is not None
    decoded = json.loads(encoded)
    postings: list[tuple[Any, ...]] = []
    rows = records._metadata_rows(7, "c", decoded, postings, lambda n, t: True)
    expected: list[tuple[Any, ...]] = []
    for name, value in decoded.items():
        if records._value_type(value) in (None, "sparse_vector"):
            continue
        items = value if isinstance(value, list) else [value]
        for v in items:
            stored = int(v) if isinstance(v, bool) else v
            kind = records.kind_of(v)
            expected.append((7, "c", name, kind, int(isinstance(value, list)), stored))
    assert rows == expected
    assert [type(r[5]) for r in rows] == [type(r[5]) for r in expected]


def test_metadata_rows_follow_the_schema() -> None:
    rows = records._metadata_rows(1, "c", {"a": 1, "b": "x"}, [], lambda n, t: n == "b")
    assert rows == [(1, "c", "b", "s", 0, "x")]


def test_discover_keys_on_distinct_values() -> None:
    schema = schema_rules.reconcile(None, {"hnsw": {"space": "l2"}})[0]
    batch = [*PLAIN, *OTHER, {"cat": "now a string"}, None, {"cat": 4}]
    cleaned = [{k: v for k, v in m.items() if v is not None} if m else m for m in batch]
    assert schema_rules.discover_keys(schema, local._distinct_values(cleaned)) == (
        schema_rules.discover_keys(schema, cleaned)
    )
