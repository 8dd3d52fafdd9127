"""Evaluating a Search's rank tree over its Knn lists, as Chroma's server does.

Every node is a `Scores`: scores for the records it supports, and a default for the rest
(or None: the node has no score outside its support). `$knn` supports its nearest list;
`$val` supports nothing and defaults to its value; unary operators map both; binary ones
merge two nodes:

    L default | R default | support              | default
    Some      | Some      | union (gaps: default) | op(dL, dR)
    Some      | None      | R's                   | None
    None      | Some      | L's                   | None
    None      | None      | intersection          | None

`$sum`/`$mul`/`$max`/`$min` fold that merge from 0, 1, -f32::MAX and f32::MAX. The result
is the root's support, lowest score first, ties in key (insertion) order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from achroma.core.search_plan import BinaryRank, FoldRank, KnnRank, Rank, UnaryRank, ValRank

F32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Scores:
    support: dict[int, float]
    default: float | None


Binary = Callable[[float, float], float]


def _div(a: float, b: float) -> float:
    if b == 0.0:
        if a == 0.0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _nan_max(a: float, b: float) -> float:
    return b if math.isnan(a) else a if math.isnan(b) else max(a, b)


def _nan_min(a: float, b: float) -> float:
    return b if math.isnan(a) else a if math.isnan(b) else min(a, b)


def _mul(a: float, b: float) -> float:
    return a * b


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _log(x: float) -> float:
    if math.isnan(x) or x < 0:
        return math.nan
    return -math.inf if x == 0 else math.log(x)


_BINARY: dict[str, Binary] = {
    "$sum": lambda a, b: a + b,
    "$sub": lambda a, b: a - b,
    "$mul": _mul,
    "$div": _div,
    "$max": _nan_max,
    "$min": _nan_min,
}
_UNARY: dict[str, Callable[[float], float]] = {"$abs": abs, "$exp": _exp, "$log": _log}
_FOLD_START = {"$sum": 0.0, "$mul": 1.0, "$max": -F32_MAX, "$min": F32_MAX}


def evaluate(rank: Rank, knn_scores: dict[int, dict[int, float]]) -> list[tuple[int, float]]:
    """(key, score) of every record the rank supports, best (lowest) first. `knn_scores`
    holds each `$knn` node's list by `id()` of the node."""
    scores = _node(rank, knn_scores)
    with np.errstate(over="ignore"):  # scores beyond float32 become infinite, as in Chroma
        ranked = [(key, float(np.float32(score))) for key, score in scores.support.items()]
    ranked.sort(key=lambda item: (_total_order(item[1]), item[0]))
    return ranked


def _total_order(score: float) -> tuple[int, float]:
    # f32::total_cmp: -NaN < -inf < ... < inf < NaN (NaNs out of arithmetic count as positive).
    return (1, 0.0) if math.isnan(score) else (0, score)


def _node(rank: Rank, knn_scores: dict[int, dict[int, float]]) -> Scores:
    if isinstance(rank, KnnRank):
        return Scores(knn_scores[id(rank)], rank.default)
    if isinstance(rank, ValRank):
        return Scores({}, rank.value)
    if isinstance(rank, UnaryRank):
        inner = _node(rank.rank, knn_scores)
        f = _UNARY[rank.op]
        default = None if inner.default is None else f(inner.default)
        return Scores({k: f(v) for k, v in inner.support.items()}, default)
    if isinstance(rank, BinaryRank):
        return merge(_node(rank.left, knn_scores), _node(rank.right, knn_scores), _BINARY[rank.op])
    assert isinstance(rank, FoldRank)
    acc = Scores({}, _FOLD_START[rank.op])
    for child in rank.ranks:
        acc = merge(acc, _node(child, knn_scores), _BINARY[rank.op])
    return acc


def merge(left: Scores, right: Scores, op: Binary) -> Scores:
    """Two nodes combined by `op`, by the table in the module docstring."""
    dl, dr = left.default, right.default
    if dl is not None and dr is not None:
        keys = left.support.keys() | right.support.keys()
        support = {k: op(left.support.get(k, dl), right.support.get(k, dr)) for k in keys}
        return Scores(support, op(dl, dr))
    if dl is not None:
        return Scores({k: op(left.support.get(k, dl), v) for k, v in right.support.items()}, None)
    if dr is not None:
        return Scores({k: op(v, right.support.get(k, dr)) for k, v in left.support.items()}, None)
    both = left.support.keys() & right.support.keys()
    return Scores({k: op(left.support[k], right.support[k]) for k in both}, None)
