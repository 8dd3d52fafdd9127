#!/usr/bin/env python3
"""Records benchmark: achroma vs chromadb 1.5.9 vs raw usearch, on the same synthetic data.

Run by hand (never collected by pytest):

    python3 benchmarks/bench_records.py                      # N=10k, dim 384, cosine, all targets
    python3 benchmarks/bench_records.py --n 100000 --json out.json
    python3 benchmarks/bench_records.py --targets chromadb,usearch

Every target is measured in its own subprocess (the script re-invokes itself with
``--single TARGET``), so peak RSS is per target; persistent targets are then re-opened in a
second fresh process (``--cold TARGET``) to time a cold open and the first query. See
benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

# Measure this checkout's achroma (or the one in $ACHROMA_BENCH_SRC / --achroma-src), not
# whatever else may be installed.
REPO_SRC = Path(os.environ.get("ACHROMA_BENCH_SRC") or Path(__file__).resolve().parents[1] / "src")
if (REPO_SRC / "achroma").is_dir():
    sys.path.insert(0, str(REPO_SRC))

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

COLLECTION = "bench_records"
K = 10
HNSW = {"ef_construction": 100, "ef_search": 100, "max_neighbors": 16}

# name -> (library, client kind, persistent)
TARGETS: dict[str, tuple[str, str, bool]] = {
    "achroma-persistent": ("achroma", "sync-persistent", True),
    "achroma-ephemeral": ("achroma", "sync-ephemeral", False),
    "achroma-async": ("achroma", "async-persistent", True),
    "chromadb": ("chromadb", "sync-persistent", True),
    "chromadb-ephemeral": ("chromadb", "sync-ephemeral", False),
    "usearch": ("usearch", "index", True),
    "floor": ("usearch", "index+sqlite", True),
}
DEFAULT_TARGETS = "achroma-persistent,achroma-ephemeral,achroma-async,chromadb,usearch"

WORDS_A = ["quick", "lazy", "bright", "silent", "ancient", "modern", "fuzzy", "tiny", "giant"]
WORDS_N = ["fox", "dog", "river", "engine", "city", "garden", "robot", "ocean", "planet", "violin"]
WORDS_V = ["jumps over", "sings near", "builds", "watches", "paints", "sits behind", "follows"]
TAGS = ["red", "green", "blue", "amber", "violet", "teal"]


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- data -------------------------------------------------------------------------------


def make_vectors(n: int, n_queries: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Embedding-like vectors: a 50-cluster Gaussian mixture in a 32-d latent space, mapped to
    `dim` by a fixed random projection, plus a little isotropic noise. Queries come from the
    same distribution (fresh points, not copies of records)."""
    rng = np.random.default_rng(seed)
    latent = 32
    centers = rng.standard_normal((50, latent)).astype(np.float32) * 2.0
    proj = (rng.standard_normal((latent, dim)) / np.sqrt(latent)).astype(np.float32)

    def sample(count: int, r: np.random.Generator) -> np.ndarray:
        z = centers[r.integers(0, len(centers), count)]
        z = z + r.standard_normal((count, latent), dtype=np.float32)
        # in place, the same values as `z @ proj + 0.1 * noise` with two N x dim arrays at
        # most instead of four (1M x 384 float32 is 1.5 GB each)
        x = z @ proj
        noise = r.standard_normal((count, dim), dtype=np.float32)
        noise *= np.float32(0.1)
        x += noise
        del noise
        return np.ascontiguousarray(x, dtype=np.float32)

    data = sample(n, np.random.default_rng(seed + 1))
    queries = sample(n_queries, np.random.default_rng(seed + 2))
    return data, queries


def make_scalars(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed + 3)
    i = np.arange(n)
    return {
        "cat": i % 10,  # 10 values: where={"cat": 3} keeps 10%
        "sel": i % 1000,  # 1000 values: where={"sel": 7} keeps 0.1%
        "num": np.round(rng.random(n) * 1000.0, 3),
        "tag": rng.integers(0, len(TAGS), n),
        "w": rng.integers(0, 1 << 30, (n, 4)),  # word choices of the documents
        # a permutation of 0..n-1: {"u": {"$lt": m}} keeps exactly m records (--selectivities)
        "u": np.random.default_rng(seed + 5).permutation(n),
    }


def records(
    scal: dict[str, np.ndarray], with_u: bool = False
) -> tuple[list[str], list[dict[str, Any]], list[str]]:
    """ids, metadatas and documents; `with_u` adds the `u` field the selectivity filters use
    (only with --selectivities, so the default records are unchanged)."""
    n = len(scal["cat"])
    ids = [f"id{i}" for i in range(n)]
    metas = [
        {
            "cat": int(scal["cat"][i]),
            "sel": int(scal["sel"][i]),
            "num": float(scal["num"][i]),
            "tag": TAGS[int(scal["tag"][i])],
        }
        for i in range(n)
    ]
    if with_u:
        for m, u in zip(metas, scal["u"].tolist(), strict=True):
            m["u"] = u
    w = scal["w"]
    docs = [
        f"The {WORDS_A[w[i, 0] % len(WORDS_A)]} {WORDS_N[w[i, 1] % len(WORDS_N)]} "
        f"{WORDS_V[w[i, 2] % len(WORDS_V)]} the {WORDS_N[w[i, 3] % len(WORDS_N)]}, number {i}."
        for i in range(n)
    ]
    return ids, metas, docs


def _topk_block(data: np.ndarray, queries: np.ndarray, space: str, k: int):
    """(scores, column indices) of the k best columns of one block, lower score is nearer."""
    if space == "cosine":
        dn = np.linalg.norm(data, axis=1)
        dn[dn == 0] = 1.0
        q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        score = -(q @ data.T) / dn[None, :]
    elif space == "ip":
        score = -(queries @ data.T)
    elif space == "l2":
        score = (data * data).sum(1)[None, :] - 2.0 * (queries @ data.T)
    else:
        raise ValueError(space)
    k = min(k, data.shape[0])
    part = np.argpartition(score, k - 1, axis=1)[:, :k]
    return np.take_along_axis(score, part, 1), part


def exact_topk(
    data: np.ndarray,
    queries: np.ndarray,
    space: str,
    k: int,
    rows: np.ndarray | None = None,
    block: int = 131_072,
    query_block: int = 256,
) -> np.ndarray:
    """Row indices of the exact k nearest records per query (chromadb's distance for `space`),
    among `rows` if given (else all rows), ordered nearest first. Runs over blocks of at most
    `block` records and `query_block` queries, keeping a running top k, so the memory is
    bounded (about 128 MiB of scores) whatever N is: 1M x 384 records take no copy of the
    data and no N x queries score matrix."""
    rows = np.arange(data.shape[0]) if rows is None else np.asarray(rows)
    k = min(k, len(rows))
    out = np.empty((len(queries), k), dtype=np.int64)
    for qs in range(0, len(queries), query_block):
        q = queries[qs : qs + query_block]
        best_s = np.full((len(q), 0), np.inf, dtype=np.float64)
        best_i = np.empty((len(q), 0), dtype=np.int64)
        for bs in range(0, len(rows), block):
            r = rows[bs : bs + block]
            # a contiguous slice is a view; a scattered subset is copied one block at a time
            contiguous = len(r) and r[-1] - r[0] == len(r) - 1 and (np.diff(r) == 1).all()
            d = data[r[0] : r[-1] + 1] if contiguous else data[r]
            sc, part = _topk_block(d, q, space, k)
            best_s = np.concatenate([best_s, sc.astype(np.float64)], axis=1)
            best_i = np.concatenate([best_i, r[part]], axis=1)
            if best_s.shape[1] > k:
                keep = np.argpartition(best_s, k - 1, axis=1)[:, :k]
                best_s = np.take_along_axis(best_s, keep, 1)
                best_i = np.take_along_axis(best_i, keep, 1)
        order = best_s.argsort(1, kind="stable")
        out[qs : qs + len(q)] = np.take_along_axis(best_i, order, 1)
    return out


def parse_selectivities(spec: str | None) -> list[float]:
    if not spec:
        return []
    out = [float(x) for x in spec.split(",") if x.strip()]
    for x in out:
        if not 0.0 < x <= 1.0:
            raise ValueError(f"selectivity {x} is not in (0, 1]")
    return out


def selectivity_filters(n: int, sels: list[float]) -> list[tuple[str, float, dict[str, Any]]]:
    """(key, selectivity, where) per requested selectivity: the `u` field is a seeded
    permutation of 0..N-1, so `{"u": {"$lt": round(s * N)}}` keeps exactly round(s * N)
    records, spread uniformly over the data."""
    return [(f"s{i}", s, {"u": {"$lt": max(1, round(s * n))}}) for i, s in enumerate(sels)]


def prepare(args: argparse.Namespace, npz: Path) -> None:
    t0 = time.perf_counter()
    data, queries = make_vectors(args.n, args.batch_queries, args.dim, args.seed)
    scal = make_scalars(args.n, args.seed)
    gt = {"gt_all": exact_topk(data, queries, args.space, K)}
    fq = queries[: args.filter_queries]
    for name, field, value in (("f10", "cat", 3), ("f01", "sel", 7)):
        rows = np.flatnonzero(scal[field] == value)
        gt[f"gt_{name}"] = exact_topk(data, fq, args.space, K, rows=rows)
    for key, _, where in selectivity_filters(args.n, parse_selectivities(args.selectivities)):
        rows = np.flatnonzero(scal["u"] < where["u"]["$lt"])
        gt[f"gt_{key}"] = exact_topk(data, fq, args.space, K, rows=rows)
    np.savez(npz, data=data, queries=queries, **scal, **gt)
    log(
        f"data: n={args.n} dim={args.dim} space={args.space}, "
        f"exact ground truth in {time.perf_counter() - t0:.1f}s"
    )


# --- measuring helpers -------------------------------------------------------------------


def proc_status(field: str) -> float:
    """VmRSS / VmHWM of this process in MiB (Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def dir_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q))


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    tot = 0.0
    for f, t in zip(found, truth, strict=False):
        t = set(int(x) for x in t)
        if t:
            tot += len(t.intersection(f)) / len(t)
    return tot / len(found)


class HandOffs:
    """Counts thread hand-offs to the event loop while active: every result a worker thread
    (aiosqlite's, anyio's, usearch's caller) hands back, and every call a sync client's
    portal submits, goes through `call_soon_threadsafe`. chromadb and usearch make none."""

    def __init__(self) -> None:
        self.count = 0
        self._saved: Any = None

    def __enter__(self) -> HandOffs:
        cls = asyncio.BaseEventLoop
        self._saved = original = cls.call_soon_threadsafe

        def counted(loop: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(loop, *args, **kwargs)

        cls.call_soon_threadsafe = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.BaseEventLoop.call_soon_threadsafe = self._saved  # type: ignore[method-assign]


async def _maybe(x: Any) -> Any:
    return await x if inspect.isawaitable(x) else x


# --- targets --------------------------------------------------------------------------------


class ChromaTarget:
    """achroma or chromadb through the Chroma client API (sync or async, awaited if needed)."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        self.name = name
        self.lib_name, self.kind, self.persistent = TARGETS[name]
        self.args = args
        self.include = ["distances"] if args.minimal_include else None
        self.lib: Any = None
        self.client: Any = None
        self.col: Any = None

    def import_lib(self) -> None:
        if self.lib_name == "achroma":
            import achroma as lib
        else:
            import chromadb as lib
        self.lib = lib

    async def _open_client(self, path: Path) -> None:
        lib = self.lib
        kw: dict[str, Any] = {}
        if self.lib_name == "chromadb":
            kw["settings"] = lib.Settings(anonymized_telemetry=False)
        if self.kind == "sync-persistent":
            self.client = lib.PersistentClient(path=str(path), **kw)
        elif self.kind == "sync-ephemeral":
            self.client = lib.EphemeralClient(**kw)
        elif self.kind == "async-persistent":
            self.client = await lib.AsyncPersistentClient(path=str(path), **kw)
        else:
            raise ValueError(self.kind)

    async def create(self, path: Path) -> None:
        await self._open_client(path)
        self.col = await _maybe(
            self.client.create_collection(
                COLLECTION,
                configuration={"hnsw": {"space": self.args.space, **HNSW}},
                embedding_function=None,
            )
        )

    async def reopen(self, path: Path) -> None:
        await self._open_client(path)
        self.col = await _maybe(self.client.get_collection(COLLECTION, embedding_function=None))

    async def add(
        self, ids: list[str], embs: np.ndarray, metas: list[dict], docs: list[str]
    ) -> None:
        await _maybe(self.col.add(ids=ids, embeddings=embs, metadatas=metas, documents=docs))

    async def count(self) -> int:
        return int(await _maybe(self.col.count()))

    async def query(self, q: np.ndarray, where: dict | None = None) -> Any:
        kw: dict[str, Any] = {"query_embeddings": q, "n_results": K}
        if where is not None:
            kw["where"] = where
        if self.include is not None:
            kw["include"] = self.include
        return await _maybe(self.col.query(**kw))

    def result_rows(self, res: Any) -> list[list[int]]:
        return [[int(s[2:]) for s in row] for row in res["ids"]]

    async def get(self, ids: list[str]) -> int:
        res = await _maybe(self.col.get(ids=ids))
        return len(res["ids"])

    async def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            await _maybe(close())
        self.client = self.col = None

    def disk_path(self, path: Path) -> Path:
        return path


class UsearchTarget:
    """The floor: a bare usearch HNSW index with the same parameters, no documents or metadata.
    Filtered queries are a numpy mask over the metadata column plus exact brute force over the
    matching rows; `get` fetches vectors by key."""

    persistent = True

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        self.name = name
        self.args = args
        self.metric = {"cosine": "cos", "l2": "l2sq", "ip": "ip"}[args.space]
        self.index: Any = None
        self.data: np.ndarray | None = None
        self.columns: dict[str, np.ndarray] = {}

    def import_lib(self) -> None:
        import usearch.index  # noqa: F401

    async def create(self, path: Path) -> None:
        from usearch.index import Index

        self.index = Index(
            ndim=self.args.dim,
            metric=self.metric,
            dtype="f32",
            connectivity=HNSW["max_neighbors"],
            expansion_add=HNSW["ef_construction"],
            expansion_search=HNSW["ef_search"],
        )

    async def reopen(self, path: Path) -> None:
        from usearch.index import Index

        self.index = Index.restore(str(self.disk_path(path)))
        self.index.expansion_search = HNSW["ef_search"]

    async def add(
        self, ids: list[str], embs: np.ndarray, metas: list[dict], docs: list[str]
    ) -> None:
        keys = np.fromiter((int(s[2:]) for s in ids), dtype=np.uint64, count=len(ids))
        self.index.add(keys, embs)

    async def count(self) -> int:
        return len(self.index)

    async def query(self, q: np.ndarray, where: dict | None = None) -> Any:
        if where is None:
            return self.index.search(q, K).keys
        from usearch.index import search

        ((field, value),) = where.items()
        if isinstance(value, dict):  # {"$lt": m}, the selectivity filters
            rows = np.flatnonzero(self.columns[field] < value["$lt"])
        else:
            rows = np.flatnonzero(self.columns[field] == value)
        if len(rows) == 0:
            return np.empty((len(q), 0), dtype=np.int64)
        m = search(self.data[rows], q, min(K, len(rows)), self.metric, exact=True)
        return rows[m.keys.astype(np.int64)]

    def result_rows(self, res: Any) -> list[list[int]]:
        res = np.atleast_2d(res)
        return [[int(x) for x in row] for row in res]

    async def get(self, ids: list[str]) -> int:
        keys = np.fromiter((int(s[2:]) for s in ids), dtype=np.uint64, count=len(ids))
        return len(self.index.get(keys))

    async def close(self) -> None:
        self.index = None

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.index.save(str(self.disk_path(path)))

    def disk_path(self, path: Path) -> Path:
        return path / "index.usearch"


class FloorTarget(UsearchTarget):
    """Issue 16's floor for a single query: the bare usearch index, plus each record's id,
    document and metadata (JSON) in a plain SQLite table; an unfiltered query searches the
    index and fetches (and decodes) its hits' rows from SQLite, both inline. Filtered
    queries and `get` are the bare index's."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        super().__init__(name, args)
        self.db: Any = None

    def _connect(self, path: Path) -> None:
        import sqlite3

        path.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path / "rows.sqlite3", isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS rows "
            "(key INTEGER PRIMARY KEY, id TEXT, document TEXT, metadata TEXT)"
        )

    async def create(self, path: Path) -> None:
        await super().create(path)
        self._connect(path)

    async def reopen(self, path: Path) -> None:
        await super().reopen(path)
        self._connect(path)

    async def add(
        self, ids: list[str], embs: np.ndarray, metas: list[dict], docs: list[str]
    ) -> None:
        await super().add(ids, embs, metas, docs)
        self.db.execute("BEGIN")
        self.db.executemany(
            "INSERT INTO rows VALUES (?, ?, ?, ?)",
            [(int(i[2:]), i, d, json.dumps(m)) for i, d, m in zip(ids, docs, metas, strict=True)],
        )
        self.db.execute("COMMIT")

    async def query(self, q: np.ndarray, where: dict | None = None) -> Any:
        if where is not None or q.ndim > 1 and len(q) > 1:
            return await super().query(q, where)
        keys = np.asarray(self.index.search(q, K).keys).reshape(-1).tolist()
        marks = ", ".join("?" * len(keys))
        rows = self.db.execute(
            f"SELECT key, id, document, metadata FROM rows WHERE key IN ({marks})", keys
        ).fetchall()
        by_key = {r[0]: (r[1], r[2], json.loads(r[3])) for r in rows}
        return np.array([[k for k in keys if k in by_key]])

    async def close(self) -> None:
        await super().close()
        if self.db is not None:
            self.db.close()
            self.db = None


def make_target(name: str, args: argparse.Namespace) -> Any:
    if name == "floor":
        return FloorTarget(name, args)
    if name == "usearch":
        return UsearchTarget(name, args)
    return ChromaTarget(name, args)


# --- one target, one process ---------------------------------------------------------------


async def run_single(args: argparse.Namespace) -> dict[str, Any]:
    name = args.single
    path = Path(args.path)
    z = np.load(args.data)
    data, queries = z["data"], z["queries"]
    scal = {k: z[k] for k in ("cat", "sel", "num", "tag", "w", "u")}
    sel_filters = selectivity_filters(len(scal["cat"]), parse_selectivities(args.selectivities))
    ids, metas, docs = records(scal, with_u=bool(sel_filters))
    n = len(ids)
    rng = np.random.default_rng(args.seed + 4)
    get_sets = [
        [ids[j] for j in rng.choice(n, 100, replace=False)] for _ in range(args.get_repeats)
    ]
    base_rss = proc_status("VmRSS")
    out: dict[str, Any] = {"target": name, "n": n, "dim": data.shape[1], "space": args.space}

    t = make_target(name, args)
    t0 = time.perf_counter()
    t.import_lib()
    out["import_s"] = time.perf_counter() - t0
    if isinstance(t, UsearchTarget):
        t.data, t.columns = data, {"cat": scal["cat"], "sel": scal["sel"], "u": scal["u"]}
    await t.create(path)

    # add, in batches
    bs = args.batch_size
    t0 = time.perf_counter()
    for s in range(0, n, bs):
        await t.add(ids[s : s + bs], data[s : s + bs], metas[s : s + bs], docs[s : s + bs])
    add_s = time.perf_counter() - t0
    out["add_s"] = add_s
    out["add_rps"] = n / add_s
    got = await t.count()
    if got != n:
        raise RuntimeError(f"count() is {got} after adding {n} records")
    log(f"{name}: added {n} in {add_s:.2f}s ({n / add_s:,.0f}/s)")

    # single-vector queries
    for i in range(min(10, len(queries))):
        await t.query(queries[i : i + 1])
    lat, rows = [], []
    with HandOffs() as hand_offs:
        for i in range(args.queries):
            q = queries[i : i + 1]
            t0 = time.perf_counter()
            res = await t.query(q)
            lat.append(time.perf_counter() - t0)
            rows += t.result_rows(res)
    out["query_p50_ms"] = pct(lat, 50) * 1e3
    out["query_p99_ms"] = pct(lat, 99) * 1e3
    out["query_recall"] = recall(rows, z["gt_all"][: args.queries])
    out["query_hand_offs"] = hand_offs.count / args.queries

    # count()
    await t.count()
    lat = []
    for _ in range(args.queries):
        t0 = time.perf_counter()
        await t.count()
        lat.append(time.perf_counter() - t0)
    out["count_p50_ms"] = pct(lat, 50) * 1e3

    # one batched call
    t0 = time.perf_counter()
    res = await t.query(queries)
    bt = time.perf_counter() - t0
    out["batch_s"] = bt
    out["batch_qps"] = len(queries) / bt
    out["recall"] = recall(t.result_rows(res), z["gt_all"])
    log(
        f"{name}: query p50 {out['query_p50_ms']:.2f} ms, batch {out['batch_qps']:,.0f} q/s, "
        f"recall@{K} {out['recall']:.3f}"
    )

    # filtered queries
    fq = queries[: args.filter_queries]
    for key, where in (("f10", {"cat": 3}), ("f01", {"sel": 7})):
        await t.query(fq[:1], where)
        lat, rows = [], []
        for i in range(len(fq)):
            t0 = time.perf_counter()
            res = await t.query(fq[i : i + 1], where)
            lat.append(time.perf_counter() - t0)
            rows += t.result_rows(res)
        out[f"{key}_p50_ms"] = pct(lat, 50) * 1e3
        out[f"{key}_p99_ms"] = pct(lat, 99) * 1e3
        out[f"{key}_recall"] = recall(rows, z[f"gt_{key}"])
        log(
            f"{name}: where={where} p50 {out[f'{key}_p50_ms']:.2f} ms, "
            f"recall {out[f'{key}_recall']:.3f}"
        )

    # the --selectivities filters: p50 and recall per selectivity
    sel_out = []
    for key, s, where in sel_filters:
        await t.query(fq[:1], where)
        lat, rows = [], []
        for i in range(len(fq)):
            t0 = time.perf_counter()
            res = await t.query(fq[i : i + 1], where)
            lat.append(time.perf_counter() - t0)
            rows += t.result_rows(res)
        sel_out.append(
            {
                "selectivity": s,
                "matches": int(where["u"]["$lt"]),
                "where": where,
                "p50_ms": pct(lat, 50) * 1e3,
                "p99_ms": pct(lat, 99) * 1e3,
                "recall": recall(rows, z[f"gt_{key}"]),
            }
        )
        log(
            f"{name}: selectivity {s:g} ({where}) p50 {sel_out[-1]['p50_ms']:.2f} ms, "
            f"recall {sel_out[-1]['recall']:.3f}"
        )
    if sel_out:
        out["selectivity"] = sel_out

    # get 100 ids
    await t.get(get_sets[0])
    lat = []
    for s in get_sets:
        t0 = time.perf_counter()
        got = await t.get(s)
        lat.append(time.perf_counter() - t0)
        if got != len(s):
            raise RuntimeError(f"get() of {len(s)} ids returned {got}")
    out["get100_p50_ms"] = pct(lat, 50) * 1e3
    out["get100_p99_ms"] = pct(lat, 99) * 1e3

    if isinstance(t, UsearchTarget):
        t.save(path)
    t0 = time.perf_counter()
    await t.close()
    out["close_s"] = time.perf_counter() - t0
    out["baseline_rss_mb"] = base_rss
    out["peak_rss_mb"] = proc_status("VmHWM")
    out["rss_delta_mb"] = out["peak_rss_mb"] - base_rss
    return out


async def run_cold(args: argparse.Namespace) -> dict[str, Any]:
    """A fresh process opens the persisted collection and runs its first query."""
    name = args.cold
    path = Path(args.path)
    z = np.load(args.data)
    queries = z["queries"]
    base_rss = proc_status("VmRSS")
    t = make_target(name, args)
    t0 = time.perf_counter()
    t.import_lib()
    out: dict[str, Any] = {"cold_import_s": time.perf_counter() - t0}
    t0 = time.perf_counter()
    await t.reopen(path)
    out["cold_open_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = await t.query(queries[:1])
    out["cold_first_query_ms"] = (time.perf_counter() - t0) * 1e3
    out["cold_first_query_recall"] = recall(t.result_rows(res), z["gt_all"][:1])
    t0 = time.perf_counter()
    await t.query(queries[1:2])
    out["cold_second_query_ms"] = (time.perf_counter() - t0) * 1e3
    out["cold_count"] = await t.count()
    await t.close()
    out["cold_peak_rss_mb"] = proc_status("VmHWM")
    out["cold_rss_delta_mb"] = out["cold_peak_rss_mb"] - base_rss
    return out


# --- the driver ---------------------------------------------------------------------------

# key, header, kind, format
COLUMNS = [
    ("add_rps", "add rec/s", "hi", "{:,.0f}"),
    ("query_p50_ms", "q p50 ms", "lo", "{:.2f}"),
    ("query_p99_ms", "q p99 ms", "lo", "{:.2f}"),
    ("query_hand_offs", "hops/q", "info", "{:.1f}"),
    ("count_p50_ms", "count ms", "lo", "{:.3f}"),
    ("batch_qps", "batch q/s", "hi", "{:,.0f}"),
    ("recall", "recall@10", "rec", "{:.3f}"),
    ("f10_p50_ms", "f10% p50", "lo", "{:.2f}"),
    ("f10_recall", "f10% rec", "rec", "{:.3f}"),
    ("f01_p50_ms", "f.1% p50", "lo", "{:.2f}"),
    ("f01_recall", "f.1% rec", "rec", "{:.3f}"),
    ("get100_p50_ms", "get100 ms", "lo", "{:.2f}"),
    ("cold_open_s", "open s", "lo", "{:.3f}"),
    ("cold_first_query_ms", "1st q ms", "lo", "{:.1f}"),
    ("peak_rss_mb", "RSS MB", "size", "{:,.0f}"),
    ("disk_mb", "disk MB", "size", "{:,.1f}"),
]


def ratio(kind: str, v: float, ref: float) -> str:
    if kind == "rec":
        return f"{v - ref:+.3f}"
    if kind == "info":
        return ""
    if v <= 0 or ref <= 0:
        return ""
    r = v / ref if kind == "hi" else ref / v  # else lower is better (latency, memory, disk)
    if kind == "size":
        return f"x{r:.1f} less" if r >= 1 else f"x{1 / r:.1f} more"
    return f"x{r:.1f} faster" if r >= 1 else f"x{1 / r:.1f} slower"


def table(results: dict[str, dict[str, Any]], baselines: str) -> str:
    heads = ["target"] + [c[1] for c in COLUMNS]
    lines: list[list[str]] = []
    refs = {
        b: results[b]
        for b in (b.strip() for b in baselines.split(","))
        if b in results and "error" not in results[b]
    }
    for name, r in results.items():
        if "error" in r:
            lines.append([name, "FAILED: " + r["error"].strip().splitlines()[-1][:120]])
            continue
        cells = [name]
        for key, _, _, fmt in COLUMNS:
            v = r.get(key)
            cells.append("-" if v is None else fmt.format(v))
        lines.append(cells)
        for baseline, ref in refs.items():
            if name == baseline:
                continue
            sub = [f"  vs {baseline}"]
            for key, _, kind, _ in COLUMNS:
                v, rv = r.get(key), ref.get(key)
                sub.append("" if v is None or rv is None else ratio(kind, v, rv))
            lines.append(sub)
    width = [len(h) for h in heads]
    for cells in lines:
        if len(cells) == len(heads):
            width = [max(w, len(c)) for w, c in zip(width, cells, strict=True)]

    def fmt_row(cells: list[str]) -> str:
        if len(cells) != len(heads):
            return cells[0].ljust(width[0]) + "  " + cells[1]
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, width, strict=True))
        )

    out = [fmt_row(heads), "  ".join("-" * w for w in width)]
    out += [fmt_row(c) for c in lines]
    return "\n".join(out)


def selectivity_table(results: dict[str, dict[str, Any]]) -> str:
    """Filtered query p50 ms / recall@10 per target and --selectivities value."""
    sels: list[float] = []
    for r in results.values():
        for e in r.get("selectivity", []):
            if e["selectivity"] not in sels:
                sels.append(e["selectivity"])
    heads = ["target"] + [f"{s:g}: p50 ms / rec" for s in sels]
    rows = []
    for name, r in results.items():
        by = {e["selectivity"]: e for e in r.get("selectivity", [])}
        cells = [name]
        for s in sels:
            e = by.get(s)
            cells.append("-" if e is None else f"{e['p50_ms']:.2f} / {e['recall']:.3f}")
        rows.append(cells)
    width = [max(len(h), *(len(c[i]) for c in rows)) for i, h in enumerate(heads)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, width, strict=True))
        )

    lines = [line(heads), "  ".join("-" * w for w in width)] + [line(c) for c in rows]
    return 'where={"u": {"$lt": round(s * N)}}, selectivity s\n' + "\n".join(lines)


def child_cmd(
    args: argparse.Namespace, mode: str, target: str, npz: Path, path: Path, out: Path
) -> list[str]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        mode,
        target,
        "--data",
        str(npz),
        "--path",
        str(path),
        "--out",
        str(out),
    ]
    for flag in ("space", "dim", "seed", "queries", "filter_queries", "get_repeats", "batch_size"):
        cmd += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    if args.minimal_include:
        cmd.append("--minimal-include")
    if args.selectivities:
        cmd += ["--selectivities", args.selectivities]
    return cmd


def run_child(cmd: list[str], out: Path, timeout: float) -> dict[str, Any]:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f}s"}
    sys.stderr.write(p.stderr)
    if p.returncode != 0 or not out.exists():
        return {"error": p.stderr or f"exit code {p.returncode}"}
    return json.loads(out.read_text())


def main_driver(args: argparse.Namespace) -> None:
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    for t in targets:
        if t not in TARGETS:
            sys.exit(f"unknown target {t!r}; choose from {', '.join(TARGETS)}")
    root = Path(tempfile.mkdtemp(prefix="achroma-bench-", dir=args.tmp))
    results: dict[str, dict[str, Any]] = {}
    try:
        npz = root / "data.npz"
        prepare(args, npz)
        for t in targets:
            log(f"--- {t}")
            path = root / t
            r = run_child(
                child_cmd(args, "--single", t, npz, path, root / f"{t}.json"),
                root / f"{t}.json",
                args.timeout,
            )
            if "error" not in r and TARGETS[t][2]:
                disk = make_target(t, args).disk_path(path)
                r["disk_bytes"] = dir_bytes(disk)
                r["disk_mb"] = r["disk_bytes"] / 2**20
                c = run_child(
                    child_cmd(args, "--cold", t, npz, path, root / f"{t}.cold.json"),
                    root / f"{t}.cold.json",
                    args.timeout,
                )
                if "error" in c:
                    r["cold_error"] = c["error"]
                    log(f"{t}: cold open FAILED")
                else:
                    r.update(c)
                    log(
                        f"{t}: cold open {c['cold_open_s']:.3f}s, first query "
                        f"{c['cold_first_query_ms']:.1f} ms"
                    )
            elif "error" in r:
                log(f"{t}: FAILED")
            results[t] = r
            if not args.keep:
                shutil.rmtree(path, ignore_errors=True)  # free the disk before the next target
    finally:
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    print()
    print(
        f"N={args.n:,}  dim={args.dim}  space={args.space}  k={K}  "
        f"single queries={args.queries}  batch={args.batch_queries}  "
        f"filtered queries={args.filter_queries}  add batch={args.batch_size}  "
        f"include={'distances' if args.minimal_include else 'default'}"
    )
    print(table(results, args.baseline))
    if parse_selectivities(args.selectivities):
        print()
        print(selectivity_table(results))
    if args.json:
        meta = {
            "args": {k: v for k, v in vars(args).items() if k not in ("single", "cold")},
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "versions": versions(),
        }
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=2))
        log(f"wrote {args.json}")


def versions() -> dict[str, str]:
    out = {"numpy": np.__version__}
    for mod in ("achroma", "chromadb", "usearch"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception as e:  # noqa: BLE001
            out[mod] = f"unavailable ({type(e).__name__})"
    return out


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, default=10_000, help="records (default 10000)")
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--space", default="cosine", choices=["cosine", "l2", "ip"])
    p.add_argument(
        "--targets",
        default=DEFAULT_TARGETS,
        help=f"comma-separated, from: {', '.join(TARGETS)} (default: {DEFAULT_TARGETS})",
    )
    p.add_argument(
        "--baseline",
        default="chromadb",
        help="target(s) the ratios compare against, comma-separated (e.g. chromadb,usearch)",
    )
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--batch-size", type=int, default=1000, help="records per add() call")
    p.add_argument("--queries", type=int, default=200, help="timed single-vector queries")
    p.add_argument("--batch-queries", type=int, default=1000, help="vectors in the batched query")
    p.add_argument("--filter-queries", type=int, default=100, help="timed queries per filter")
    p.add_argument("--get-repeats", type=int, default=50, help="timed get() calls of 100 ids")
    p.add_argument(
        "--minimal-include",
        action="store_true",
        help='query with include=["distances"] instead of the default include',
    )
    p.add_argument(
        "--selectivities",
        help="comma-separated shares of the records a filter keeps, e.g. 0.5,0.1,0.01,0.001: "
        'adds a field u to every record and times where={"u": {"$lt": round(s * N)}} for each '
        "(p50, p99 and recall@10 in the JSON's `selectivity` list)",
    )
    p.add_argument("--json", help="also write all figures to this JSON file")
    p.add_argument("--tmp", default="/tmp", help="parent of the temporary directory")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--timeout", type=float, default=7200, help="seconds per target process")
    p.add_argument(
        "--achroma-src",
        help="import achroma from this src/ directory instead of "
        "the checkout's (e.g. an exported commit); sets $ACHROMA_BENCH_SRC",
    )
    # internal: one target in this process
    p.add_argument("--single", help=argparse.SUPPRESS)
    p.add_argument("--cold", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--path", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.filter_queries > args.batch_queries or args.queries > args.batch_queries:
        p.error("--queries and --filter-queries must not exceed --batch-queries")
    return args


def main() -> None:
    args = parse()
    if args.achroma_src:
        # achroma is imported lazily, so this is early enough; child processes inherit it
        src = str(Path(args.achroma_src).resolve())
        os.environ["ACHROMA_BENCH_SRC"] = src
        sys.path.insert(0, src)
    if args.single or args.cold:
        fn = run_single if args.single else run_cold
        out = asyncio.run(fn(args))
        Path(args.out).write_text(json.dumps(out))
        return
    main_driver(args)


if __name__ == "__main__":
    main()
