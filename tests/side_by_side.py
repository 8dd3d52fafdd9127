"""The side-by-side harness: the same calls on chromadb 1.5.9 and on achroma, and the
comparison of what each gave.

A call's outcome is ("ok", its result) or ("error", the exception's class name, its message
made stable). Results are compared through `typed`, where 1, 1.0 and True differ; messages
through `stable_message`, which masks or sorts what chromadb prints in an arbitrary order.
`CollectionPair` runs record operations on a collection of each library and compares the
outcomes and then the whole collection. The clients come from the `compat_clients` fixture
(tests/conftest.py). This module does not import chromadb: the test modules skip themselves
when it is missing.
"""

from __future__ import annotations

import contextlib
import copy
import math
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

DIM = 3
REL = 1e-4  # relative tolerance for distances (both sides compute in float32)

# --------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# chromadb builds these messages by joining a Python set: the order of the items is arbitrary
_SET_MESSAGES = [
    re.compile(r"^(Expected IDs to be unique, found duplicates of: )(.*)( in \w+\.)$"),
    re.compile(r"^(Exactly one of )(.*)( must be provided in \w+\.)$"),
]
# chromadb's Rust validator prints its parameters from a HashMap, e.g.
# `length [{"min": Number(3), "value": String("ab")}]`, in an order that changes between runs.
_VALIDATOR_PARAMS_RE = re.compile(r'\{("\w+": [^{}]*)\}')
# A validation error naming several fields lists them in the same unstable order:
# "Validation error: name: ...\nmetadata: ..." or "Validation error: metadata: ...\nname: ...".
_VALIDATION_ERROR = "Validation error: "
_VALIDATION_FIELD_RE = re.compile(r"\n(?=\w+: )")


def stable_message(message: str) -> str:
    """The message with UUIDs masked and the items chromadb prints in arbitrary order sorted."""
    for pattern in _SET_MESSAGES:
        m = pattern.match(message)
        if m:
            return m.group(1) + ", ".join(sorted(m.group(2).split(", "))) + m.group(3)
    message = UUID_RE.sub("<uuid>", message)
    message = _VALIDATOR_PARAMS_RE.sub(
        lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", message
    )
    if message.startswith(_VALIDATION_ERROR):
        fields = _VALIDATION_FIELD_RE.split(message.removeprefix(_VALIDATION_ERROR))
        message = _VALIDATION_ERROR + "\n".join(sorted(fields))
    return message


class Outcome(tuple[Any, ...]):
    """The outcome of one call: ("ok", result) or ("error", class name, stable message)."""


def outcome(action: Callable[[], Any]) -> Outcome:
    """Runs `action`; what it returned, or the class name and message of what it raised."""
    try:
        return Outcome(("ok", action()))
    except Exception as exc:  # noqa: BLE001 (the exception is the outcome)
        return Outcome(("error", type(exc).__name__, stable_message(str(exc))))


def typed_outcome(action: Callable[[], Any]) -> Outcome:
    """`outcome`, with the result in its `typed` form (taken before later calls change it)."""
    return outcome(lambda: typed(action()))


def call(target: Any, method: str, kwargs: dict[str, Any]) -> Outcome:
    """The outcome of `target.method(**kwargs)`, on a copy of kwargs: chromadb changes some
    arguments in place (it appends to `include`)."""
    return outcome(lambda: getattr(target, method)(**copy.deepcopy(kwargs)))


def typed(value: Any) -> Any:
    """A comparable form: 1, 1.0 and True differ (plain == treats them as equal), dicts compare
    unordered, NaN equals NaN, UUIDs are masked, and a collection is its name, metadata and
    HNSW and SPANN configuration."""
    if isinstance(value, Outcome):
        return value
    if hasattr(value, "configuration_json"):
        return {
            "collection": value.name,
            "metadata": typed(value.metadata),
            "hnsw": typed(value.configuration_json.get("hnsw")),
            "spann": typed(value.configuration_json.get("spann")),
        }
    if isinstance(value, uuid.UUID):
        return ("UUID", "<uuid>")
    if isinstance(value, dict):
        return {"dict": {k: typed(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------


def vec(*seed: int) -> list[float]:
    """A reproducible random embedding: distinct seeds give distinct, tie-free vectors."""
    return [round(float(x), 6) for x in np.random.default_rng(list(seed)).uniform(-1, 1, DIM)]


def true_distances(space: str, query: Any, vectors: np.ndarray) -> np.ndarray:
    """Chroma's distance from `query` to each row of `vectors`, in float64."""
    q = np.asarray(query, dtype=np.float64)
    x = vectors.astype(np.float64)
    if space == "l2":
        return ((x - q) ** 2).sum(axis=1)
    dots = x @ q
    if space == "ip":
        return 1.0 - dots
    return 1.0 - dots / (np.linalg.norm(x, axis=1) * np.linalg.norm(q))


# --------------------------------------------------------------------------------------------
# A collection of each library
# --------------------------------------------------------------------------------------------


class CollectionPair:
    """A chromadb collection and an achroma collection with the same (fresh) name."""

    def __init__(
        self, clients: tuple[Any, Any], skip_dimensionless_updates: bool = False, **kw: Any
    ) -> None:
        self.clients = clients
        self.skip_dimensionless_updates = skip_dimensionless_updates
        self.had_records = False
        self.name = f"compat-{uuid.uuid4().hex[:12]}"
        self.chroma = clients[0].create_collection(self.name, embedding_function=None, **kw)
        self.ours = clients[1].create_collection(self.name, embedding_function=None, **kw)

    def drop(self) -> None:
        # Only achroma's collection is deleted. chromadb 1.5.9 bug: after delete_collection, list
        # metadata values of the deleted collection leak into a collection created later
        # (add(ids=["id00"], embeddings=...) without metadatas then reads back {'l': [2.0]}).
        self.clients[1].delete_collection(self.name)

    def run(self, method: str, kwargs: dict[str, Any], step: str = "") -> None:
        """Runs one operation on both collections and asserts equal outcomes and equal state."""
        if (
            self.skip_dimensionless_updates
            and not self.had_records
            and method == "update"
            and kwargs.get("embeddings") is not None
        ):
            return  # chromadb quirk, see tests/test_compat_records.py
        expected = call(self.chroma, method, kwargs)
        actual = call(self.ours, method, kwargs)
        where = f"{step}{method}(**{kwargs!r})"
        compare_outcome(expected, actual, where, self._distances(method, kwargs))
        self.check_state(where)

    def check_state(self, where: str = "") -> None:
        full = {"include": ["embeddings", "metadatas", "documents"]}
        expected = call(self.chroma, "get", full)
        actual = call(self.ours, "get", full)
        compare_outcome(expected, actual, f"state after {where}", None)
        count = call(self.chroma, "count", {})
        assert call(self.ours, "count", {}) == count, where
        self.had_records = self.had_records or count[1] > 0

    def _distances(self, method: str, kwargs: dict[str, Any]) -> list[dict[str, float]] | None:
        """For a query: the squared L2 distance from each query to every stored record."""
        if method != "query":
            return None
        try:
            stored = self.chroma.get(include=["embeddings"])
            queries = np.asarray(kwargs["query_embeddings"], dtype=np.float32)
            if queries.ndim == 1:
                queries = queries[None, :]
            embs = np.asarray(stored["embeddings"], dtype=np.float32)
        except Exception:
            return None
        if embs.ndim != 2 or queries.ndim != 2 or embs.shape[1:] != queries.shape[1:]:
            return None
        out = []
        for q in queries.astype(np.float64):
            d = ((embs.astype(np.float64) - q) ** 2).sum(axis=1)
            out.append(dict(zip(stored["ids"], d.tolist(), strict=True)))
        return out


# --------------------------------------------------------------------------------------------
# The comparison of record operations
# --------------------------------------------------------------------------------------------


def compare_outcome(
    expected: Any, actual: Any, where: str, distances: list[dict[str, float]] | None
) -> None:
    """Asserts that two outcomes of a record operation are the same (for a query: see
    `_compare_query`, given the exact distance to every stored record)."""
    if expected[0] == "error" or actual[0] == "error":
        assert actual == expected, f"{where}\n  chromadb: {expected}\n  achroma:  {actual}"
        return
    e, a = expected[1], actual[1]
    if not isinstance(e, dict):  # count, add, update, upsert
        assert typed(a) == typed(e), f"{where}\n  chromadb: {e!r}\n  achroma:  {a!r}"
        return
    assert type(a) is dict, (where, type(a))
    assert list(a) == list(e), f"{where}: result keys {list(a)} != chromadb {list(e)}"
    if "ids" not in e:  # delete
        assert typed(a) == typed(e), f"{where}\n  chromadb: {e!r}\n  achroma:  {a!r}"
        return
    assert a["included"] == e["included"], (where, a["included"], e["included"])
    if "distances" in e:
        _compare_query(e, a, where, distances)
        return
    assert a["ids"] == e["ids"], f"{where}\n  chromadb ids: {e['ids']}\n  achroma ids:  {a['ids']}"
    for field in ("documents", "metadatas", "uris", "data"):
        assert typed(a[field]) == typed(e[field]), (
            f"{where}: {field}\n  chromadb: {e[field]!r}\n  achroma:  {a[field]!r}"
        )
    if e["embeddings"] is None or a["embeddings"] is None:
        assert a["embeddings"] is None and e["embeddings"] is None, (where, a["embeddings"])
    else:
        _same_embeddings(e["embeddings"], a["embeddings"], where)


def _same_embeddings(expected: Any, actual: Any, where: str) -> None:
    assert type(actual).__name__ == type(expected).__name__, (where, type(actual), type(expected))
    if isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype, (where, actual.dtype, expected.dtype)
        assert actual.shape == expected.shape, (where, actual.shape, expected.shape)
        assert np.allclose(actual, expected, rtol=1e-6, atol=1e-7), (where, actual, expected)
    else:  # query: a list (one per query) of 2-d arrays
        assert len(actual) == len(expected), where
        for a, e in zip(actual, expected, strict=True):
            _same_embeddings(e, a, where)


def _tied(d: dict[str, float], rid: str) -> bool:
    """Whether another record is (nearly) as far from the query as `rid`."""
    x = d.get(rid)
    if x is None:
        return True
    return any(
        other != rid and math.isclose(y, x, rel_tol=REL, abs_tol=1e-6) for other, y in d.items()
    )


def _compare_query(
    e: dict[str, Any], a: dict[str, Any], where: str, distances: list[dict[str, float]] | None
) -> None:
    assert len(a["ids"]) == len(e["ids"]), (where, a["ids"], e["ids"])
    for field in ("documents", "metadatas", "uris", "data", "distances", "embeddings"):
        if e[field] is None or a[field] is None:
            assert a[field] is None and e[field] is None, (
                f"{where}: {field}\n  chromadb: {e[field]!r}\n  achroma:  {a[field]!r}"
            )
    for qi, (e_ids, a_ids) in enumerate(zip(e["ids"], a["ids"], strict=True)):
        msg = f"{where} (query {qi})\n  chromadb: {e_ids}\n  achroma:  {a_ids}"
        assert len(a_ids) == len(e_ids), msg
        # (the check of ties below compares position by position: it cannot see a repeat)
        assert len(set(a_ids)) == len(a_ids), f"{msg}: an id came back twice"
        d = distances[qi] if distances else {}
        if e["distances"] is not None:
            e_d, a_d = e["distances"][qi], a["distances"][qi]
            assert all(type(x) is float for x in a_d), (where, a_d)
            assert np.allclose(a_d, e_d, rtol=REL, atol=1e-6), (
                f"{msg}\n  chromadb distances: {e_d}\n  achroma distances:  {a_d}"
            )
        # ids must match wherever the distance is unambiguous; elsewhere only the distance must
        for j, (x, y) in enumerate(zip(e_ids, a_ids, strict=True)):
            if x != y:
                assert d and _tied(d, x) and _tied(d, y), msg
                assert math.isclose(d.get(x, -1), d.get(y, -2), rel_tol=REL, abs_tol=1e-6), msg
                continue
            for field in ("documents", "metadatas", "uris"):
                if e[field] is not None:
                    assert typed(a[field][qi][j]) == typed(e[field][qi][j]), (
                        f"{msg}: {field} of {x}\n  chromadb: {e[field][qi][j]!r}\n"
                        f"  achroma:  {a[field][qi][j]!r}"
                    )
    if e["embeddings"] is not None:
        assert [type(x).__name__ for x in a["embeddings"]] == [
            type(x).__name__ for x in e["embeddings"]
        ], where
        for qi, (ee, ae) in enumerate(zip(e["embeddings"], a["embeddings"], strict=True)):
            assert ae.dtype == ee.dtype and ae.shape == ee.shape, (where, ae.shape, ee.shape)
            for j, (x, y) in enumerate(zip(e["ids"][qi], a["ids"][qi], strict=True)):
                if x == y:
                    assert np.allclose(ae[j], ee[j], rtol=1e-6, atol=1e-7), (where, x, ae, ee)


@contextlib.contextmanager
def fresh_clients(chromadb: Any, directory: Path) -> Iterator[dict[str, Any]]:
    """A chromadb client on a fresh `directory` (chromadb's process-wide ephemeral store keeps
    metadata rows of deleted collections and hands them to new records) and achroma's
    ephemeral client, closed after so the process's ephemeral store does not outlive the
    test; by name."""
    import achroma

    ours = achroma.EphemeralClient()
    try:
        yield {"chromadb": chromadb.PersistentClient(str(directory)), "achroma": ours}
    finally:
        for c in ours.list_collections():
            ours.delete_collection(c.name)
        ours.close()
