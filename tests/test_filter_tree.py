"""The parsed filter tree and the shape of the SQL compiled from it."""

from __future__ import annotations

from typing import Any

import pytest

from achroma.core.filters import (
    Comparison,
    Contains,
    DocumentMatch,
    Junction,
    Membership,
    parse_where,
    parse_where_document,
)
from achroma.engine.filter_sql import (
    HOIST_DEPTH,
    WIDTH,
    Rows,
    compile_where,
    compile_where_document,
    is_selective,
)

ROWS = Rows.of_collection("c")


def test_parse_where_builds_typed_leaves_and_junctions() -> None:
    tree = parse_where(
        {"$and": [{"a": 1}, {"b": {"$in": ["x", "y"]}}, {"t": {"$not_contains": 2}}]}
    )
    assert tree == Junction(
        "$and",
        (
            Comparison("a", "$eq", 1),
            Membership("b", "$in", ("x", "y")),
            Contains("t", "$not_contains", 2),
        ),
    )


def test_parse_where_document_builds_typed_leaves_and_junctions() -> None:
    tree = parse_where_document({"$or": [{"$contains": "x"}, {"$not_regex": "^a"}]})
    assert tree == Junction(
        "$or", (DocumentMatch("$contains", "x"), DocumentMatch("$not_regex", "^a"))
    )


@pytest.mark.parametrize(
    "where",
    [
        {"a": {"$gte": 2.5}},
        {"$or": [{"a": {"$ne": True}}, {"$and": [{"b": {"$nin": [1, 2]}}, {"c": {"$lt": 0}}]}]},
        {"t": {"$contains": "x"}},
    ],
)
def test_where_tree_gives_its_wire_json_back(where: dict[str, Any]) -> None:
    assert parse_where(where).to_json() == where


def test_bare_value_comes_back_as_eq() -> None:
    assert parse_where({"a": "x"}).to_json() == {"a": {"$eq": "x"}}


def test_where_document_tree_gives_its_wire_json_back() -> None:
    where_document = {"$and": [{"$contains": "x"}, {"$or": [{"$regex": "a"}, {"$contains": "b"}]}]}
    assert parse_where_document(where_document).to_json() == where_document


def test_simple_equality_compiles_to_one_indexed_lookup() -> None:
    compiled = compile_where(parse_where({"a": 1}), ROWS)
    assert compiled.condition == (
        "r.key IN (SELECT m.key FROM record_metadata m WHERE "
        "m.collection = (SELECT number FROM collections WHERE id = ?) AND "
        "m.name = ? AND m.is_list = 0 AND m.kind IN ('i', 'f') AND m.value = ?)"
    )
    assert compiled.params == ["c", "a", 1]
    assert not compiled.ctes


def test_same_operator_chains_are_flattened() -> None:
    nested = {"$and": [{"a": {"$gt": 1}}, {"$and": [{"b": {"$gt": 2}}, {"c": {"$gt": 3}}]}]}
    flat = {"$and": [{"a": {"$gt": 1}}, {"b": {"$gt": 2}}, {"c": {"$gt": 3}}]}
    assert compile_where(parse_where(nested), ROWS) == compile_where(parse_where(flat), ROWS)


def test_equality_alternatives_merge_into_one_lookup_over_a_json_list() -> None:
    compiled = compile_where(parse_where({"$or": [{"a": i} for i in range(5_000)]}), ROWS)
    assert compiled.condition.count("record_metadata") == 1
    assert "json_each" in compiled.condition
    assert len(compiled.params) == 2


def test_alternatives_merged_in_a_flattened_sub_tree_merge_with_their_new_siblings() -> None:
    where = {"$or": [{"a": "x"}, {"$or": [{"a": "y"}, {"a": "z"}]}]}
    compiled = compile_where(parse_where(where), ROWS)
    assert compiled.condition.count("record_metadata") == 1


def test_negative_alternatives_under_and_merge_into_one_negated_lookup() -> None:
    where = {"$and": [{"a": {"$ne": 1}}, {"b": {"$nin": [2, 3]}}, {"c": {"$gt": 0}}]}
    compiled = compile_where(parse_where(where), ROWS)
    assert compiled.condition.count("NOT IN") == 1
    assert compiled.condition.count("record_metadata") == 2


def test_alternatives_of_different_kinds_stay_apart() -> None:
    compiled = compile_where(parse_where({"$or": [{"a": 1}, {"a": "1"}, {"a": True}]}), ROWS)
    assert compiled.condition.count("record_metadata") == 3


def test_wide_junctions_are_split_into_chains_of_at_most_width() -> None:
    where = {"$or": [{"$and": [{"a": i}, {"b": {"$gt": i}}]} for i in range(WIDTH * 3)]}
    compiled = compile_where(parse_where(where), ROWS)
    assert max(len(chain.split(" OR ")) for chain in compiled.condition.split("(")) <= WIDTH


def test_junctions_nested_beyond_the_hoist_depth_go_to_ctes() -> None:
    where: dict[str, Any] = {"a": {"$gt": 0}}
    for level in range(3 * HOIST_DEPTH):
        where = {("$and" if level % 2 else "$or"): [{"b": {"$lt": level}}, where]}
    compiled = compile_where(parse_where(where), ROWS)
    assert len(compiled.ctes) == 2
    assert compiled.ctes[0].startswith("where_0(key) AS (SELECT r.key FROM records r")
    document = compile_where_document(
        parse_where_document({"$or": [{"$contains": "x"}, {"$regex": "y"}]}), ROWS
    )
    assert not document.ctes


@pytest.mark.parametrize(
    ("where", "selective"),
    [
        ({"a": 1}, True),
        ({"a": {"$ne": 1}}, False),
        ({"$and": [{"a": {"$ne": 1}}, {"b": 2}]}, True),
        ({"$or": [{"a": {"$ne": 1}}, {"b": 2}]}, False),
    ],
)
def test_is_selective_when_the_root_admits_only_indexed_matches(
    where: dict[str, Any], selective: bool
) -> None:
    assert is_selective(parse_where(where)) is selective
