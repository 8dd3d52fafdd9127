"""A brute-force Search, record by record, to check the engine against.

Written from Chroma's semantics (see docs/search.md), not from the engine's code: every
`$knn` list is computed by scoring every filtered record; a rank node's value for a record
is None where the record lies outside the node's support.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Record:
    id: str
    vector: np.ndarray
    document: str | None
    metadata: dict[str, Any] | None
    sparse: dict[int, float] = field(default_factory=dict)  # under SPARSE_KEY


SPARSE_KEY = "sp"


def matches(node: dict[str, Any], r: Record) -> bool:
    ((key, value),) = node.items()
    if key == "$and":
        return all(matches(c, r) for c in value)
    if key == "$or":
        return any(matches(c, r) for c in value)
    ((op, operand),) = value.items() if isinstance(value, dict) else (("$eq", value),)
    if key == "#id":
        ids = operand if isinstance(operand, list) else [operand]
        return (r.id in ids) == (op in ("$eq", "$in"))
    if key == "#document":
        found = r.document is not None and operand in r.document
        return found if op == "$contains" else not found
    meta = r.metadata or {}
    present = key in meta and not isinstance(meta[key], list)
    v = meta.get(key)
    if op == "$eq":
        return present and _same(v, operand)
    if op == "$ne":
        return not (present and _same(v, operand))
    if op == "$in":
        return present and any(_same(v, o) for o in operand)
    if op == "$nin":
        return not (present and any(_same(v, o) for o in operand))
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if not present or isinstance(v, bool | str):
            return False
        return {"$gt": v > operand, "$gte": v >= operand, "$lt": v < operand, "$lte": v <= operand}[
            op
        ]
    if op in ("$contains", "$not_contains"):
        items = meta.get(key) if isinstance(meta.get(key), list) else []
        found = any(type(i) is type(operand) and i == operand for i in items)
        return found if op == "$contains" else not found
    raise AssertionError(op)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    return float(a) == float(b)


def distance(space: str, a: np.ndarray, b: np.ndarray) -> float:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    if space == "cosine":
        return 1.0 - float(a64 @ b64 / (np.linalg.norm(a64) * np.linalg.norm(b64)))
    if space == "ip":
        return 1.0 - float(a64 @ b64)
    return float(((a64 - b64) ** 2).sum())


def knn_list(knn: dict[str, Any], rows: list[tuple[int, Record]], space: str) -> dict[int, float]:
    query = knn["query"]
    if isinstance(query, dict):  # sparse
        scored = [
            (
                1.0
                - sum(
                    w * r.sparse.get(t, 0.0)
                    for t, w in zip(query["indices"], query["values"], strict=True)
                ),
                i,
            )
            for i, r in rows
            if set(query["indices"]) & set(r.sparse)
        ]
    else:
        q = np.asarray(query, dtype=np.float32)
        scored = [(distance(space, r.vector, q), i) for i, r in rows]
    scored.sort()
    top = scored[: knn.get("limit", 16)]
    if knn.get("return_rank"):
        return {i: float(pos) for pos, (_, i) in enumerate(top)}
    return {i: d for d, i in top}


def evaluate(
    node: dict[str, Any], i: int, lists: dict[int, dict[int, float]]
) -> tuple[bool, float | None]:
    """(in support, score-or-default) for record `i`."""
    ((op, arg),) = node.items()
    if op == "$knn":
        scores = lists[id(arg)]
        if i in scores:
            return True, scores[i]
        return False, arg.get("default")
    if op == "$val":
        return False, float(arg)
    if op in ("$abs", "$exp", "$log"):
        inside, v = evaluate(arg, i, lists)
        f = {"$abs": abs, "$exp": _exp, "$log": _log}[op]
        return inside, None if v is None else f(v)
    if op in ("$sub", "$div"):
        parts = [evaluate(arg["left"], i, lists), evaluate(arg["right"], i, lists)]
        return _combine(op, parts)
    start = {
        "$sum": 0.0,
        "$mul": 1.0,
        "$max": -3.4028234663852886e38,
        "$min": 3.4028234663852886e38,
    }[op]
    acc: tuple[bool, float | None] = (False, start)
    for child in arg:
        acc = _combine(op, [acc, evaluate(child, i, lists)])
    return acc


def _combine(op: str, parts: list[tuple[bool, float | None]]) -> tuple[bool, float | None]:
    (li, lv), (ri, rv) = parts
    # A side without a default must hold the record; a side with one fills in.
    if lv is None and not li or rv is None and not ri:
        return False, None
    inside = li or ri
    if lv is None or rv is None:
        return False, None
    if not inside:
        return False, _apply(op, lv, rv)
    return True, _apply(op, lv, rv)


def _apply(op: str, a: float, b: float) -> float:
    if op == "$sum":
        return a + b
    if op == "$sub":
        return a - b
    if op == "$mul":
        return a * b
    if op == "$div":
        return (
            a / b
            if b != 0
            else (math.nan if a == 0 else math.copysign(math.inf, a) * math.copysign(1, b))
        )
    if op == "$max":
        return b if math.isnan(a) else a if math.isnan(b) else max(a, b)
    return b if math.isnan(a) else a if math.isnan(b) else min(a, b)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _log(x: float) -> float:
    return math.nan if x < 0 or math.isnan(x) else -math.inf if x == 0 else math.log(x)


def search(records: list[Record], wire: dict[str, Any], space: str) -> list[tuple[str, float]]:
    """(id, score) of one Search's page."""
    rows = [
        (i, r)
        for i, r in enumerate(records)
        if wire["filter"] is None or matches(wire["filter"], r)
    ]
    page = wire.get("limit") or {}
    offset, limit = page.get("offset", 0), page.get("limit")
    end = None if limit is None else offset + limit
    if wire.get("rank") is None:
        return [(r.id, float(pos)) for pos, (_, r) in enumerate(rows[offset:end])]
    lists: dict[int, dict[int, float]] = {}
    _knns(wire["rank"], rows, space, lists)
    ranked = []
    for i, _ in rows:
        inside, v = evaluate(wire["rank"], i, lists)
        if inside and v is not None:
            with np.errstate(over="ignore"):
                ranked.append((float(np.float32(v)), i))
    ranked.sort(key=lambda t: (math.isnan(t[0]), t[0] if not math.isnan(t[0]) else 0.0, t[1]))
    group = wire.get("group_by") or {}
    if group:
        ranked = _grouped(records, ranked, group)
    return [(records[i].id, s) for s, i in ranked[offset:end]]


def _grouped(
    records: list[Record], ranked: list[tuple[float, int]], group: dict[str, Any]
) -> list[tuple[float, int]]:
    ((op, spec),) = group["aggregate"].items()
    buckets: dict[tuple[Any, ...], list[tuple[float, int]]] = {}
    for s, i in ranked:
        meta = records[i].metadata or {}
        buckets.setdefault(tuple(_key(meta.get(k)) for k in group["keys"]), []).append((s, i))
    kept = []
    for members in buckets.values():

        def order(m: tuple[float, int]) -> tuple[Any, ...]:
            meta = records[m[1]].metadata or {}
            return tuple((1, m[0]) if k == "#score" else _key(meta.get(k)) for k in spec["keys"])

        members.sort(key=order, reverse=op == "$max_k")
        kept += members[: spec["k"]]
    kept.sort(key=lambda t: (t[0], t[1]))
    return kept


def _key(v: Any) -> tuple[Any, ...]:
    if v is None:
        return (0,)
    if isinstance(v, bool | int | float):
        return (1, float(v))
    return (2, str(v))


def _knns(
    node: Any, rows: list[tuple[int, Record]], space: str, lists: dict[int, dict[int, float]]
) -> None:
    if isinstance(node, dict):
        if "$knn" in node:
            lists[id(node["$knn"])] = knn_list(node["$knn"], rows, space)
            return
        for v in node.values():
            _knns(v, rows, space, lists)
    elif isinstance(node, list):
        for v in node:
            _knns(v, rows, space, lists)
