"""achroma.search against chromadb 1.5.9's own Search expression classes.

Every expression is built twice from one recipe, once from each library's classes, and the
two `to_dict()` outputs must be the same JSON, types included (1, 1.0 and True differ);
the keys of a ``select`` are compared as a set, since both take their order from a Python
set. Reading the wire form back (`from_dict`) must give the same JSON again, and every
malformed input must raise the same exception type with the same message as chromadb.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import achroma.search as ours_module
from achroma.core.sparse import SparseVector
from side_by_side import typed

chromadb = pytest.importorskip("chromadb")
theirs_module = pytest.importorskip("chromadb.execution.expression")
from chromadb.api.types import ReadLevel as TheirReadLevel  # noqa: E402
from chromadb.api.types import SearchResult as TheirSearchResult  # noqa: E402
from chromadb.api.types import SparseVector as TheirSparseVector  # noqa: E402


def _namespace(module: Any, sparse: type) -> SimpleNamespace:
    names = {name: getattr(module, name) for name in module.__all__}
    return SimpleNamespace(**{**names, "SparseVector": sparse})


OURS = _namespace(ours_module, SparseVector)
THEIRS = _namespace(theirs_module, TheirSparseVector)
Build = Callable[[SimpleNamespace], Any]


def canonical(wire: Any) -> Any:
    """`wire` in `typed` form, with the keys of a select (in set order) sorted."""
    if isinstance(wire, dict):
        wire = dict(wire)
        if isinstance(wire.get("select"), dict):
            wire["select"] = {"keys": sorted(wire["select"]["keys"])}
        if set(wire) == {"keys"} and all(isinstance(k, str) for k in wire["keys"]):
            wire["keys"] = sorted(wire["keys"])
    return typed(wire)


def assert_same_wire(build: Build) -> dict[str, Any]:
    ours: dict[str, Any] = build(OURS).to_dict()
    assert canonical(ours) == canonical(build(THEIRS).to_dict())
    return ours


def assert_same_error(action: Build) -> None:
    errors = []
    for namespace in (OURS, THEIRS):
        with pytest.raises(Exception) as caught:
            action(namespace)
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]


# ------------------------------------------------------------------------------------------
# Hand-written expressions (the reference's wire examples and more)
# ------------------------------------------------------------------------------------------

EXPRESSIONS: dict[str, Build] = {
    "empty search": lambda m: m.Search(),
    "builder chain": lambda m: (
        m.Search()
        .where((m.K("cat") == "a") & (m.K("n") > 5))
        .rank(m.Knn(query=[0.1, 0.2]))
        .limit(10, offset=5)
        .select(m.K.DOCUMENT, m.K.SCORE)
    ),
    "knn of a float32 array": lambda m: m.Knn(
        query=np.array([1, 2], dtype=np.float32),
        key="#embedding",
        limit=50,
        default=10.0,
        return_rank=True,
    ),
    "weighted sum": lambda m: m.Knn(query=[0.1, 0.2]) * 0.8 + m.Val(0.5) * 0.2,
    "unary chain": lambda m: (-(m.Knn(query=[1.0]) - 1) / 2).abs().exp().log().min(3).max(0),
    "right-hand numbers": lambda m: 1 + (2 - (3 * (4 / m.Knn(query=[1.0])))),
    "abs builtin": lambda m: abs(m.Knn(query=[1.0], key=m.K.EMBEDDING)),
    "rrf": lambda m: m.Rrf(
        [m.Knn(query=[1.0], return_rank=True), m.Knn(query=[2.0], return_rank=True)]
    ),
    "rrf normalized": lambda m: m.Rrf(
        [m.Knn(query=[1.0], limit=100, return_rank=True), m.Knn(query=[2.0], limit=100)],
        weights=[3.0, 1.0],
        normalize=True,
        k=10,
    ),
    "rrf of one": lambda m: m.Rrf([m.Knn(query=[1.0])], weights=[2]),
    "rrf over a sum": lambda m: m.Rrf([m.Knn(query=[1.0]) + m.Knn(query=[2.0])]),
    "rrf inside arithmetic": lambda m: m.Rrf([m.Knn(query=[1.0])]) * 2 + 1,
    "sparse knn": lambda m: m.Knn(
        query=m.SparseVector(indices=[1, 5], values=[0.5, 0.25]), key="sparse"
    ),
    "sparse knn with labels": lambda m: m.Knn(
        query=m.SparseVector(indices=[0], values=[1.0], labels=["a"]), key=m.K("sv")
    ),
    "text knn": lambda m: m.Knn(query="hello", key="sv", limit=3),
    "or of every predicate": lambda m: (
        m.K.ID.is_in(["a", "b"])
        | m.K("tags").contains("x")
        | m.K.DOCUMENT.contains("foo")
        | m.K.DOCUMENT.regex("^a")
        | m.K("n").not_in([1, 2])
        | (m.K("f") != True)  # noqa: E712
        | (m.K("x") <= 2.5)
    ),
    "and flattening both sides": lambda m: (
        ((m.K("a") == 1) & (m.K("b") == 2)) & ((m.K("c") >= 3) & (m.K("d") < 4))
    ),
    "or inside and": lambda m: (m.K("a") == 1) & ((m.K("b") == 2) | m.K.DOCUMENT.not_regex("x")),
    "direct predicates": lambda m: m.And(
        [m.Eq("a", 1), m.Ne("b", None), m.NotContains("#document", "z"), m.Regex("k", ".")]
    ),
    "group by": lambda m: m.Search().group_by(
        m.GroupBy(keys=m.K("cat"), aggregate=m.MinK(keys=[m.K.SCORE], k=2))
    ),
    "group by several keys, max": lambda m: m.GroupBy(
        keys=[m.K("year"), "cat"], aggregate=m.MaxK(keys=m.K("p"), k=1)
    ),
    "group by without aggregate": lambda m: m.GroupBy(keys=["a"]),
    "group by without keys": lambda m: m.GroupBy(aggregate=m.MinK(keys="a", k=1)),
    "select all": lambda m: m.Search().select_all(),
    "select nothing": lambda m: m.Search().select_all().select(),
    "select metadata fields": lambda m: m.Search(select={"title", "#id", "#score"}),
    "constructor with dicts": lambda m: m.Search(
        where={"cat": "a"},
        rank={"$knn": {"query": [0.1, 0.2]}},
        limit=10,
        select=["#document", "#score"],
    ),
    "constructor with objects": lambda m: m.Search(
        where=m.K("x").is_in([1]),
        rank=m.Val(1),
        group_by={"keys": ["a"], "aggregate": {"$max_k": {"keys": ["#score"], "k": 3}}},
        limit=m.Limit(offset=2),
        select=m.Select(keys={m.K.METADATA}),
    ),
    "limit dict": lambda m: m.Search(limit={"offset": 3}),
    "unchecked builder limit": lambda m: m.Search().limit(0),
    "builders replace": lambda m: (
        m.Search(where={"a": 1}, limit=3).where(None).rank({"$val": 2}).rank(None).group_by({})
    ),
}


@pytest.mark.parametrize("build", EXPRESSIONS.values(), ids=EXPRESSIONS.keys())
def test_hand_written_expressions_serialise_as_chromadbs(build: Build) -> None:
    assert_same_wire(build)


def test_a_dense_query_read_from_a_dict_is_float32() -> None:
    wire = ours_module.Search(rank={"$knn": {"query": [0.1, 0.2]}}).to_dict()
    assert wire["rank"]["$knn"]["query"] == [0.10000000149011612, 0.20000000298023224]


def test_search_to_dict_has_exactly_the_five_keys() -> None:
    assert list(ours_module.Search().to_dict()) == ["filter", "rank", "group_by", "limit", "select"]


def test_builders_leave_the_search_unchanged() -> None:
    search = ours_module.Search(where={"a": 1})
    before = search.to_dict()
    search.where({"b": 2}).rank(ours_module.Val(1)).limit(3).select_all().group_by({})
    assert search.to_dict() == before


def test_rank_arithmetic_with_a_non_number_is_a_type_error() -> None:
    # chromadb accepts it and fails later with AttributeError, inside to_dict
    with pytest.raises(TypeError):
        ours_module.Knn(query=[1.0]) + "x"  # type: ignore[operator]


def test_read_level_values_are_chromadbs() -> None:
    ours = {level.name: level.value for level in ours_module.ReadLevel}
    assert ours == {level.name: level.value for level in TheirReadLevel}
    assert isinstance(ours_module.ReadLevel.INDEX_AND_WAL, str)
    assert ours_module.ReadLevel("index_and_wal") is ours_module.ReadLevel.INDEX_AND_WAL


# ------------------------------------------------------------------------------------------
# Generated expressions: recipes realised with either library's classes
# ------------------------------------------------------------------------------------------

numbers = st.integers(-1000, 1000) | st.floats(-1e6, 1e6, allow_nan=False)
# float32-exact, so a dense query survives from_dict's float32 reading unchanged
f32 = st.floats(-100, 100, allow_nan=False, width=32)
knn_keys = st.sampled_from(["#embedding", "sv", ("const", "EMBEDDING")])


def _key(m: SimpleNamespace, spec: Any) -> Any:
    return getattr(m.K, spec[1]) if isinstance(spec, tuple) else spec


@st.composite
def knn_recipes(draw: st.DrawFn) -> tuple[Any, ...]:
    if draw(st.booleans()):
        query: Any = ("dense", draw(st.lists(f32, min_size=1, max_size=4)), draw(st.booleans()))
    else:
        indices = sorted(draw(st.sets(st.integers(0, 50), max_size=4)))
        values = draw(st.lists(f32, min_size=len(indices), max_size=len(indices)))
        query = ("sparse", indices, values)
    return (
        "knn",
        query,
        draw(knn_keys),
        draw(st.integers(1, 100)),
        draw(st.none() | f32),
        draw(st.booleans()),
    )


BINARY = ["add", "sub", "mul", "div", "max", "min", "radd", "rsub", "rmul", "rdiv"]
rank_recipes = st.recursive(
    knn_recipes() | st.tuples(st.just("val"), numbers),
    lambda inner: (
        st.tuples(st.sampled_from(BINARY), inner, inner | numbers)
        | st.tuples(st.sampled_from(["neg", "abs", "exp", "log"]), inner)
        | st.tuples(
            st.sampled_from(["Sum", "Mul", "Max", "Min"]), st.lists(inner, min_size=2, max_size=3)
        )
        | st.tuples(
            st.just("rrf"),
            st.lists(inner, min_size=1, max_size=3),
            st.integers(1, 100),
            st.none() | st.lists(st.floats(0.01, 10), min_size=3, max_size=3),
            st.booleans(),
        )
    ),
    max_leaves=8,
)


def rank(m: SimpleNamespace, recipe: Any) -> Any:
    if not isinstance(recipe, tuple):
        return recipe  # a plain number operand
    kind = recipe[0]
    if kind == "val":
        return m.Val(recipe[1])
    if kind == "knn":
        _, query, key, limit, default, return_rank = recipe
        if query[0] == "dense":
            vector = np.array(query[1], dtype=np.float32) if query[2] else query[1]
        else:
            vector = m.SparseVector(indices=query[1], values=query[2])
        return m.Knn(vector, _key(m, key), limit, default, return_rank)
    if kind in ("neg", "abs", "exp", "log"):
        child = rank(m, recipe[1])
        if kind == "neg":
            return -child
        return abs(child) if kind == "abs" else getattr(child, kind)()
    if kind in ("Sum", "Mul", "Max", "Min"):
        return getattr(m, kind)([rank(m, r) for r in recipe[1]])
    if kind == "rrf":
        _, ranks, k, weights, normalize = recipe
        ranks = [rank(m, r) for r in ranks]
        return m.Rrf(ranks, k, None if weights is None else weights[: len(ranks)], normalize)
    left, right = rank(m, recipe[1]), rank(m, recipe[2])
    if kind.startswith("r"):
        if not isinstance(right, (int, float)):
            right = m.Val(0.5)
        left, right = right, left  # the number on the left: its reflected operator
        kind = kind[1:]
    if kind in ("max", "min"):
        return getattr(left, kind)(right)
    ops = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}
    return ops[kind](left, right)


@settings(max_examples=150)
@given(rank_recipes.filter(lambda r: isinstance(r, tuple)))
def test_generated_rank_trees_serialise_and_read_back_as_chromadbs(recipe: Any) -> None:
    wire = assert_same_wire(lambda m: rank(m, recipe))
    once = ours_module.Rank.from_dict(wire).to_dict()
    assert typed(once) == typed(theirs_module.Rank.from_dict(wire).to_dict())
    # Reading flattens nested sums (as chromadb's does), then changes nothing more.
    assert typed(ours_module.Rank.from_dict(once).to_dict()) == typed(once)


COMPARISONS = ["eq", "ne", "gt", "ge", "lt", "le"]
where_keys = st.sampled_from(["cat", "n", "tags", ("const", "ID"), ("const", "SCORE")])
scalars = st.text(max_size=5) | st.integers(-50, 50) | st.floats(allow_nan=False) | st.booleans()
where_leaves = (
    st.tuples(st.sampled_from(COMPARISONS), where_keys, scalars | st.none())
    | st.tuples(st.sampled_from(["is_in", "not_in"]), where_keys, st.lists(scalars, max_size=3))
    | st.tuples(st.sampled_from(["contains", "not_contains"]), where_keys, scalars)
    | st.tuples(
        st.sampled_from(["contains", "not_contains"]),
        st.just(("const", "DOCUMENT")),
        st.text(max_size=5),
    )
    | st.tuples(
        st.sampled_from(["regex", "not_regex"]), st.just(("const", "DOCUMENT")), st.text(max_size=5)
    )
)
where_recipes = st.recursive(
    where_leaves,
    lambda inner: (
        st.tuples(st.sampled_from(["&", "|"]), inner, inner)
        | st.tuples(st.sampled_from(["And", "Or"]), st.lists(inner, min_size=1, max_size=3))
    ),
    max_leaves=8,
)


def where(m: SimpleNamespace, recipe: Any) -> Any:
    kind = recipe[0]
    if kind in ("&", "|"):
        left, right = where(m, recipe[1]), where(m, recipe[2])
        return left & right if kind == "&" else left | right
    if kind in ("And", "Or"):
        return getattr(m, kind)([where(m, r) for r in recipe[1]])
    key = m.K(recipe[1]) if isinstance(recipe[1], str) else getattr(m.K, recipe[1][1])
    if kind in COMPARISONS:
        return getattr(operator, kind)(key, recipe[2])
    return getattr(key, kind)(recipe[2])


@settings(max_examples=150)
@given(where_recipes)
def test_generated_where_trees_serialise_and_read_back_as_chromadbs(recipe: Any) -> None:
    wire = assert_same_wire(lambda m: where(m, recipe))
    once = ours_module.Where.from_dict(wire).to_dict()
    assert typed(once) == typed(theirs_module.Where.from_dict(wire).to_dict())
    assert typed(ours_module.Where.from_dict(once).to_dict()) == typed(once)


select_keys = st.sets(
    st.sampled_from(["#document", "#embedding", "#metadata", "#score", "#id", "a"])
)
group_recipes = st.tuples(
    st.lists(st.sampled_from(["cat", "year"]), min_size=1, max_size=2),
    st.sampled_from(["MinK", "MaxK"]),
    st.lists(st.sampled_from(["#score", "p"]), min_size=1, max_size=2),
    st.integers(1, 5),
)


@st.composite
def search_recipes(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "builder": draw(st.booleans()),
        "where": draw(st.none() | where_recipes),
        "rank": draw(st.none() | rank_recipes.filter(lambda r: isinstance(r, tuple))),
        "group_by": draw(st.none() | group_recipes),
        "limit": draw(
            st.none()
            | st.integers(1, 100)
            | st.tuples(st.integers(0, 10), st.none() | st.integers(1, 100))
        ),
        "select": draw(st.none() | select_keys),
        "as_dicts": draw(st.booleans()),
    }


def search(m: SimpleNamespace, recipe: dict[str, Any]) -> Any:
    parts: dict[str, Any] = {}
    if recipe["where"] is not None:
        parts["where"] = where(m, recipe["where"])
    if recipe["rank"] is not None:
        parts["rank"] = rank(m, recipe["rank"])
    if recipe["group_by"] is not None:
        keys, aggregate, aggregate_keys, k = recipe["group_by"]
        parts["group_by"] = m.GroupBy(keys, getattr(m, aggregate)(aggregate_keys, k))
    if recipe["as_dicts"]:
        parts = {name: part.to_dict() for name, part in parts.items()}
    limit, select = recipe["limit"], recipe["select"]
    if not recipe["builder"]:
        if isinstance(limit, tuple):
            limit = m.Limit(*limit)
        return m.Search(**parts, limit=limit, select=select)
    built = m.Search()
    for name, part in parts.items():
        built = getattr(built, name)(part)
    if isinstance(limit, tuple):
        built = built.limit(limit[1] or 10, offset=limit[0])
    elif limit is not None:
        built = built.limit(limit)
    return built if select is None else built.select(*select)


@settings(max_examples=100)
@given(search_recipes())
def test_generated_searches_serialise_as_chromadbs(recipe: dict[str, Any]) -> None:
    wire = assert_same_wire(lambda m: search(m, recipe))
    theirs = theirs_module.Search(
        where=wire["filter"],
        rank=wire["rank"],
        group_by=wire["group_by"],
        limit=wire["limit"],
        select=wire["select"],
    )
    assert canonical(ours_module.Search.from_dict(wire).to_dict()) == canonical(theirs.to_dict())


# ------------------------------------------------------------------------------------------
# Errors: the same type and message as chromadb's
# ------------------------------------------------------------------------------------------

KNN = {"query": [1.0]}
ERRORS: dict[str, Build] = {
    "rrf of nothing": lambda m: m.Rrf([]).to_dict(),
    "rrf k 0": lambda m: m.Rrf([m.Knn(query=[1.0])], k=0).to_dict(),
    "rrf k negative": lambda m: m.Rrf([m.Knn(query=[1.0])], k=-3).to_dict(),
    "rrf weights length": lambda m: m.Rrf([m.Knn(query=[1.0])], weights=[1.0, 2.0]).to_dict(),
    "rrf empty weights": lambda m: m.Rrf([m.Knn(query=[1.0])], weights=[]).to_dict(),
    "rrf negative weight": lambda m: m.Rrf([m.Knn(query=[1.0])], weights=[-1.0]).to_dict(),
    "rrf zero weights normalized": lambda m: m.Rrf(
        [m.Knn(query=[1.0])], weights=[0.0], normalize=True
    ).to_dict(),
    "search limit 0": lambda m: m.Search(limit=0),
    "search limit negative": lambda m: m.Search(limit=-1),
    "limit offset negative": lambda m: m.Search(limit={"offset": -1}),
    "limit offset str": lambda m: m.Search(limit={"offset": "1"}),
    "limit float": lambda m: m.Search(limit={"limit": 1.5}),
    "limit extra key": lambda m: m.Search(limit={"limit": 1, "page": 2}),
    "limit not a dict": lambda m: m.Limit.from_dict([1]),
    "limit str": lambda m: m.Search(limit="10"),
    "rank number": lambda m: m.Search(rank=0.5),
    "where number": lambda m: m.Search(where=5),
    "group_by list": lambda m: m.Search(group_by=["a"]),
    "select str": lambda m: m.Search(select="#document"),
    "select keys str": lambda m: m.Search(select={"keys": "#document"}),
    "select key int": lambda m: m.Search(select=[1]),
    "select list of a Key": lambda m: m.Search(select=[m.K.ID]),
    "select extra key": lambda m: m.Search(select={"keys": [], "fields": []}),
    "select not a dict": lambda m: m.Select.from_dict(["a"]),
    "document contains int": lambda m: m.K.DOCUMENT.contains(1),
    "document not_contains int": lambda m: m.K.DOCUMENT.not_contains(1.5),
    "where empty": lambda m: m.Search(where={}),
    "where list": lambda m: m.Where.from_dict([{"a": 1}]),
    "and not a list": lambda m: m.Where.from_dict({"$and": {"a": 1}}),
    "and empty": lambda m: m.Where.from_dict({"$and": []}),
    "and with a field": lambda m: m.Where.from_dict({"$and": [{"a": 1}], "b": 2}),
    "and with or": lambda m: m.Where.from_dict({"$or": [{"a": 1}], "$and": [{"b": 2}]}),
    "or not a list": lambda m: m.Where.from_dict({"$or": "a"}),
    "or empty": lambda m: m.Where.from_dict({"$or": []}),
    "or with a field": lambda m: m.Where.from_dict({"$or": [{"a": 1}], "b": 2}),
    "and child not a dict": lambda m: m.Where.from_dict({"$and": [{"a": 1}, 3]}),
    "two fields": lambda m: m.Where.from_dict({"a": 1, "b": 2}),
    "field not a str": lambda m: m.Where.from_dict({1: 2}),
    "empty operator dict": lambda m: m.Where.from_dict({"a": {}}),
    "two operators": lambda m: m.Where.from_dict({"a": {"$gt": 1, "$lt": 3}}),
    "in not a list": lambda m: m.Where.from_dict({"a": {"$in": 1}}),
    "nin tuple": lambda m: m.Where.from_dict({"a": {"$nin": (1,)}}),
    "contains list": lambda m: m.Where.from_dict({"a": {"$contains": [1]}}),
    "not_contains none": lambda m: m.Where.from_dict({"a": {"$not_contains": None}}),
    "document contains int dict": lambda m: m.Where.from_dict({"#document": {"$contains": 1}}),
    "document not_contains bool": lambda m: m.Where.from_dict(
        {"#document": {"$not_contains": True}}
    ),
    "regex int": lambda m: m.Where.from_dict({"#document": {"$regex": 1}}),
    "not_regex list": lambda m: m.Where.from_dict({"#document": {"$not_regex": ["a"]}}),
    "unknown operator": lambda m: m.Where.from_dict({"a": {"$like": "x"}}),
    "rank not a dict": lambda m: m.Rank.from_dict(5),
    "rank empty": lambda m: m.Rank.from_dict({}),
    "rank two operators": lambda m: m.Rank.from_dict({"$val": 1, "$abs": {"$val": 1}}),
    "val str": lambda m: m.Rank.from_dict({"$val": "1"}),
    "val none": lambda m: m.Rank.from_dict({"$val": None}),
    "knn not a dict": lambda m: m.Rank.from_dict({"$knn": [1.0]}),
    "knn without query": lambda m: m.Rank.from_dict({"$knn": {}}),
    "knn two vectors": lambda m: m.Search(rank={"$knn": {"query": [[0.1], [0.2]]}}),
    "knn two array rows": lambda m: m.Rank.from_dict({"$knn": {"query": np.zeros((2, 2))}}),
    "knn empty query": lambda m: m.Rank.from_dict({"$knn": {"query": []}}),
    "knn empty array row": lambda m: m.Rank.from_dict({"$knn": {"query": np.zeros((1, 0))}}),
    "knn tuple query": lambda m: m.Rank.from_dict({"$knn": {"query": (0.5,)}}),
    "knn bool query": lambda m: m.Rank.from_dict({"$knn": {"query": [True]}}),
    "knn str list query": lambda m: m.Rank.from_dict({"$knn": {"query": ["a"]}}),
    "knn bool array": lambda m: m.Rank.from_dict({"$knn": {"query": np.array([True])}}),
    "knn 3-d array": lambda m: m.Rank.from_dict({"$knn": {"query": np.zeros((1, 1, 1))}}),
    "knn str query": lambda m: m.Rank.from_dict({"$knn": {"query": "text"}}),
    "knn untagged dict": lambda m: m.Rank.from_dict({"$knn": {"query": {"indices": [1]}}}),
    "knn bad sparse": lambda m: m.Rank.from_dict(
        {"$knn": {"query": {"#type": "sparse_vector", "indices": [2, 1], "values": [1, 2]}}}
    ),
    "knn key int": lambda m: m.Rank.from_dict({"$knn": {**KNN, "key": 1}}),
    "knn limit str": lambda m: m.Rank.from_dict({"$knn": {**KNN, "limit": "5"}}),
    "knn limit 0": lambda m: m.Rank.from_dict({"$knn": {**KNN, "limit": 0}}),
    "knn return_rank int": lambda m: m.Rank.from_dict({"$knn": {**KNN, "return_rank": 1}}),
    "sum not a list": lambda m: m.Rank.from_dict({"$sum": {"$val": 1}}),
    "sum of one": lambda m: m.Rank.from_dict({"$sum": [{"$val": 1}]}),
    "mul of none": lambda m: m.Rank.from_dict({"$mul": []}),
    "max str": lambda m: m.Rank.from_dict({"$max": "ab"}),
    "min of one": lambda m: m.Rank.from_dict({"$min": [{"$val": 1}]}),
    "sum child bad": lambda m: m.Rank.from_dict({"$sum": [{"$val": 1}, {"$nope": 1}]}),
    "sub not a dict": lambda m: m.Rank.from_dict({"$sub": [{"$val": 1}, {"$val": 2}]}),
    "sub without right": lambda m: m.Rank.from_dict({"$sub": {"left": {"$val": 1}}}),
    "div without left": lambda m: m.Rank.from_dict({"$div": {"right": {"$val": 1}}}),
    "div not a dict": lambda m: m.Rank.from_dict({"$div": 2}),
    "abs not a dict": lambda m: m.Rank.from_dict({"$abs": 1}),
    "exp list": lambda m: m.Rank.from_dict({"$exp": [{"$val": 1}]}),
    "log none": lambda m: m.Rank.from_dict({"$log": None}),
    "unknown rank operator": lambda m: m.Rank.from_dict({"$pow": 2}),
    "group_by not a dict": lambda m: m.GroupBy.from_dict("a"),
    "group_by without keys": lambda m: m.Search(group_by={"aggregate": {}}),
    "group_by without aggregate": lambda m: m.Search(group_by={"keys": ["a"]}),
    "group_by keys str": lambda m: m.GroupBy.from_dict({"keys": "a", "aggregate": {}}),
    "group_by keys empty": lambda m: m.GroupBy.from_dict({"keys": [], "aggregate": {}}),
    "group_by aggregate list": lambda m: m.GroupBy.from_dict({"keys": ["a"], "aggregate": []}),
    "aggregate not a dict": lambda m: m.Aggregate.from_dict([]),
    "aggregate empty": lambda m: m.Aggregate.from_dict({}),
    "aggregate two": lambda m: m.Aggregate.from_dict({"$min_k": {}, "$max_k": {}}),
    "aggregate unknown": lambda m: m.Aggregate.from_dict({"$top_k": {}}),
    "min_k not a dict": lambda m: m.Aggregate.from_dict({"$min_k": 3}),
    "min_k without keys": lambda m: m.Aggregate.from_dict({"$min_k": {"k": 1}}),
    "max_k without k": lambda m: m.Aggregate.from_dict({"$max_k": {"keys": ["a"]}}),
    "min_k keys str": lambda m: m.Aggregate.from_dict({"$min_k": {"keys": "a", "k": 1}}),
    "max_k keys empty": lambda m: m.Aggregate.from_dict({"$max_k": {"keys": [], "k": 1}}),
    "min_k k str": lambda m: m.Aggregate.from_dict({"$min_k": {"keys": ["a"], "k": "1"}}),
    "max_k k 0": lambda m: m.Aggregate.from_dict({"$max_k": {"keys": ["a"], "k": 0}}),
    "sparse indices unsorted": lambda m: m.SparseVector(indices=[3, 1], values=[1.0, 2.0]),
}


@pytest.mark.parametrize("action", ERRORS.values(), ids=ERRORS.keys())
def test_malformed_input_raises_chromadbs_error(action: Build) -> None:
    assert_same_error(action)


# ------------------------------------------------------------------------------------------
# SearchResult
# ------------------------------------------------------------------------------------------

RESULTS: dict[str, dict[str, Any]] = {
    "empty batch": {"ids": [], "select": []},
    "no ids key": {},
    "ids only": {
        "ids": [["a", "b"]],
        "documents": [None],
        "embeddings": [None],
        "metadatas": [None],
        "scores": [None],
        "select": [[]],
    },
    "everything": {
        "ids": [["a", "b"], ["c"]],
        "documents": [["x", None], ["z"]],
        "embeddings": [[[0.5, 1.0], None], [[2.0, 3.0]]],
        "metadatas": [[{"k": 1}, None], [None]],
        "scores": [[0.1, 0.2], [0.0]],
        "select": [["#document", "#embedding", "#metadata", "#score"]] * 2,
    },
    "columns per search": {
        "ids": [["a"], ["b"], []],
        "documents": [["x"], None, []],
        "metadatas": None,
        "scores": [None, [0.5], []],
        "select": [["#document"], ["#score"], ["#document", "#score"]],
    },
    "falsy values kept": {
        "ids": [["a"]],
        "documents": [[""]],
        "metadatas": [[{}]],
        "scores": [[0.0]],
        "embeddings": [[[]]],
    },
}


@pytest.mark.parametrize("result", RESULTS.values(), ids=RESULTS.keys())
def test_search_result_rows_match_chromadbs(result: dict[str, Any]) -> None:
    ours = ours_module.SearchResult(result)
    assert ours.rows() == TheirSearchResult(result).rows()
    assert ours == result  # still the column-major dict it was given


def test_a_row_always_has_its_id_and_only_present_fields() -> None:
    result = ours_module.SearchResult(
        {"ids": [["a", "b"]], "documents": [["x", None]], "scores": [[None, 0.5]]}
    )
    assert result.rows() == [[{"id": "a", "document": "x"}, {"id": "b", "score": 0.5}]]
