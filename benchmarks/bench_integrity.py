#!/usr/bin/env python3
"""Integrity benchmark: what achroma's index does to avoid three known HNSW traps, as ratios.

Run by hand (never collected by pytest):

    python3 benchmarks/bench_integrity.py                  # all three sections, 30-55 min
    python3 benchmarks/bench_integrity.py --quick          # a smoke run, under a minute
    python3 benchmarks/bench_integrity.py --sections exact --reps 5 --json out.json

1. dup: adding many records with one identical vector ([1, 2, 3], max_neighbors 128) vs as
   many distinct vectors, in achroma, chromadb 1.5.9 and a bare usearch index (whose HNSW
   construction degrades badly on exact ties; achroma groups copies into one graph node).
2. churn: self-query miss rates (a record's own vector not finding it, n_results=1) on a
   fresh collection and after upsert/delete/re-add churn, in the same three.
3. exact: one usearch query by graph search vs by exact scan, for several d and N: where the
   exact scan stops being cheaper, next to achroma's EXACT_LIMIT.

Every measurement runs in its own subprocess (the script re-invokes itself with ``--job``),
is repeated ``--reps`` times (3), interleaved across targets, and reported as the median
(ratios are taken within each repetition). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
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

# bench_records puts this checkout's src/ first on sys.path and turns telemetry off.
from bench_records import REPO_SRC, log, versions  # noqa: E402

COLLECTION = "bench_integrity"
COPY = [1.0, 2.0, 3.0]
DUP_HNSW = {"max_neighbors": 128}

FULL = {
    "dup_n": 15_000,
    "usearch_copies": [500, 1_000, 2_000],
    "usearch_cap": 60.0,
    "chromadb_cap": 120.0,
    "churn_n": 20_000,
    "churn_dim": 384,
    "churn_sample": 2_000,
    "churn_rounds": 3,  # upserts of every record, before the delete + re-add round
    "exact_dims": [3, 64, 384, 1536],
    "exact_ns": [512, 1024, 2048, 4096, 8192],
    "exact_runs": 200,
    "reps": 3,
}
QUICK = {
    "dup_n": 2_000,
    "usearch_copies": [200, 300],
    "usearch_cap": 10.0,
    "chromadb_cap": 30.0,
    "churn_n": 3_000,
    "churn_dim": 128,
    "churn_sample": 500,
    "churn_rounds": 1,
    "exact_dims": [3, 384],
    "exact_ns": [512, 2048, 8192],
    "exact_runs": 50,
    "reps": 1,
}


# --- small helpers ------------------------------------------------------------------------


def median(xs: list[float]) -> float:
    """Median that keeps inf (a run that hit its cap) as the largest value."""
    return float(np.median(np.asarray(xs, dtype=np.float64))) if xs else math.nan


def fmt_s(v: float | None, cap: float | None = None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if math.isinf(v):
        return f"> {cap:.0f} s" if cap else "> cap"
    return f"{v:.3f} s" if v < 10 else f"{v:.1f} s"


def fmt_x(v: float | None) -> str:
    if v is None or math.isnan(v):
        return "-"
    if math.isinf(v):
        return "inf"
    return f"{v:.2f}x" if v < 100 else f"{v:,.0f}x"


def fmt_pct(v: float | None) -> str:
    return "-" if v is None or math.isnan(v) else f"{100 * v:.2f}%"


def grid(heads: list[str], rows: list[list[str]]) -> str:
    width = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, width, strict=True))
        )

    return "\n".join([line(heads), "  ".join("-" * w for w in width)] + [line(r) for r in rows])


def emit(out: Path, result: dict[str, Any]) -> None:
    """Write the job's figures so far (a job killed by its cap still leaves what it had)."""
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(out)


def run_job(spec: dict[str, Any], root: Path, timeout: float) -> dict[str, Any]:
    """Run one measurement in a fresh process, killed after `timeout` seconds."""
    n = len(list(root.glob("job*.json")))
    out = root / f"job{n}.json"
    path = root / f"job{n}.data"
    spec = {**spec, "path": str(path)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--job", json.dumps(spec)]
    cmd += ["--out", str(out)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        timed_out, stderr, rc = False, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        err = e.stderr or b""
        timed_out, stderr, rc = True, err.decode() if isinstance(err, bytes) else err, None
    wall = time.perf_counter() - t0
    sys.stderr.write(stderr)
    res: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    shutil.rmtree(path, ignore_errors=True)
    res["wall_s"] = wall
    if timed_out:
        res["timed_out"] = True
    elif rc != 0:
        res["error"] = (stderr.strip().splitlines() or [f"exit code {rc}"])[-1][:200]
    return res


# --- jobs (each in its own process) ---------------------------------------------------------


def open_client(lib: str, path: str) -> Any:
    if lib == "achroma":
        import achroma

        return achroma.PersistentClient(path=path)
    import chromadb

    return chromadb.PersistentClient(
        path=path, settings=chromadb.Settings(anonymized_telemetry=False)
    )


def close_client(client: Any) -> None:
    close = getattr(client, "close", None)
    if close is not None:
        close()


def achroma_indexes(col: Any) -> Any:
    """The LocalBackend's `Indexes` behind a sync achroma collection, or None."""
    try:
        indexes = col._async._backend.indexes
        indexes._compacting, indexes._pending  # noqa: B018
        return indexes
    except AttributeError:
        return None


def compacting(col: Any) -> bool:
    """Whether achroma is rebuilding the collection's graph right now."""
    indexes = achroma_indexes(col)
    return indexes is not None and bool(indexes._compacting)


def wait_background(col: Any, fallback: float = 30.0) -> tuple[float, bool]:
    """Wait until achroma has no index update or compaction in flight: the seconds waited,
    and whether a compaction was seen meanwhile."""
    t0 = time.perf_counter()
    indexes = achroma_indexes(col)
    if indexes is None:
        log("cannot reach achroma's Indexes: sleeping instead")
        time.sleep(fallback)
        return time.perf_counter() - t0, False
    quiet, seen = 0, False
    while quiet < 3:  # three polls in a row with nothing in flight
        seen = seen or bool(indexes._compacting)
        busy = bool(indexes._pending) or bool(indexes._compacting)
        quiet = 0 if busy else quiet + 1
        time.sleep(0.02)
    return time.perf_counter() - t0, seen


def job_dup(spec: dict[str, Any], out: Path) -> None:
    """Add `n` 3-d vectors, all [1, 2, 3] ("copies") or random ("distinct")."""
    lib, kind, n = spec["lib"], spec["kind"], spec["n"]
    rng = np.random.default_rng(spec["seed"])
    if kind == "copies":
        vecs = np.tile(np.asarray(COPY, dtype=np.float32), (n, 1))
    else:
        vecs = rng.standard_normal((n, 3), dtype=np.float32)
    res: dict[str, Any] = {"n": n}
    if lib == "usearch":
        from usearch.index import Index

        index = Index(ndim=3, metric="l2sq", connectivity=DUP_HNSW["max_neighbors"])
        t0 = time.perf_counter()
        index.add(np.arange(n, dtype=np.uint64), vecs)
        res["add_s"] = res["ready_s"] = time.perf_counter() - t0
        res["count"] = len(index)
        emit(out, res)
        return
    ids = [f"id{i}" for i in range(n)]
    client = open_client(lib, spec["path"])
    col = client.create_collection(
        COLLECTION, configuration={"hnsw": dict(DUP_HNSW)}, embedding_function=None
    )
    bs = client.get_max_batch_size()
    res["batch"] = bs
    seen = False
    t0 = time.perf_counter()
    for s in range(0, n, bs):
        col.add(ids=ids[s : s + bs], embeddings=vecs[s : s + bs])
        res["add_s"] = time.perf_counter() - t0
        res["added"] = min(n, s + bs)
        seen = seen or (lib == "achroma" and compacting(col))
        emit(out, res)
    # The first query waits for whatever indexing is still in flight.
    col.query(query_embeddings=[COPY], n_results=1, include=[])
    res["ready_s"] = time.perf_counter() - t0
    if lib == "achroma":  # nothing is removed here, so no rebuild should ever be due
        res["compacted"] = seen or wait_background(col)[1]
    res["count"] = col.count()
    emit(out, res)
    if kind == "copies":  # every copy must come back when n_results covers them all
        t1 = time.perf_counter()
        got = col.query(query_embeddings=[COPY], n_results=n, include=[])["ids"][0]
        res["query_all_s"] = time.perf_counter() - t1
        res["found"] = len(set(got))
        res["in_order"] = got == ids
    emit(out, res)
    close_client(client)


def _self_misses(found: list[Any], sample: np.ndarray) -> float:
    return sum(1 for f, i in zip(found, sample.tolist(), strict=True) if f != i) / len(sample)


class ChurnTarget:
    """The operations of the churn job on a Chroma-API collection or a bare usearch index."""

    def __init__(self, lib: str, dim: int, path: str) -> None:
        self.lib = lib
        if lib == "usearch":
            from usearch.index import Index

            # Chroma's default HNSW parameters, as achroma and chromadb use them.
            self.index = Index(
                ndim=dim,
                metric="cos",
                dtype="f32",
                connectivity=16,
                expansion_add=100,
                expansion_search=100,
            )
            self.batch = 5461
        else:
            self.client = open_client(lib, path)
            self.col = self.client.create_collection(
                COLLECTION, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
            )
            self.batch = self.client.get_max_batch_size()
        self.compacted = False  # achroma: a graph rebuild was seen since the last wait()

    def _batches(self, keys: np.ndarray, vecs: np.ndarray | None = None) -> Any:
        for s in range(0, len(keys), self.batch):
            k = keys[s : s + self.batch]
            ids = [f"id{i}" for i in k.tolist()] if self.lib != "usearch" else None
            yield k, ids, (None if vecs is None else vecs[s : s + self.batch])

    def add(self, keys: np.ndarray, vecs: np.ndarray) -> None:
        for k, ids, v in self._batches(keys, vecs):
            if self.lib == "usearch":
                self.index.add(k, v)
            else:
                self.col.add(ids=ids, embeddings=v)
                self.compacted = self.compacted or (self.lib == "achroma" and compacting(self.col))

    def upsert(self, keys: np.ndarray, vecs: np.ndarray) -> None:
        for k, ids, v in self._batches(keys, vecs):
            if self.lib == "usearch":
                self.index.remove(k)
                self.index.add(k, v)
            else:
                self.col.upsert(ids=ids, embeddings=v)

    def delete(self, keys: np.ndarray) -> None:
        for k, ids, _ in self._batches(keys):
            if self.lib == "usearch":
                self.index.remove(k)
            else:
                self.col.delete(ids=ids)

    def count(self) -> int:
        return len(self.index) if self.lib == "usearch" else int(self.col.count())

    def top1(self, queries: np.ndarray) -> list[Any]:
        if self.lib == "usearch":
            m = self.index.search(queries, 1)
            keys = np.asarray(m.keys).reshape(len(queries), -1)
            counts = np.asarray(m.counts).reshape(-1)
            return [int(k[0]) if c else None for k, c in zip(keys, counts, strict=True)]
        res = self.col.query(query_embeddings=queries, n_results=1, include=[])
        return [int(r[0][2:]) if r else None for r in res["ids"]]

    def wait(self) -> tuple[float, bool]:
        """Seconds until achroma's background index work is done, and whether a rebuild
        (compaction) ran since the last wait."""
        if self.lib != "achroma":
            return 0.0, False
        waited, seen = wait_background(self.col)
        seen, self.compacted = seen or self.compacted, False
        return waited, seen

    def state(self) -> dict[str, Any]:
        """achroma's index after the churn: graph nodes and the churn it still carries."""
        if self.lib != "achroma":
            return {}
        indexes = achroma_indexes(self.col)
        index = None if indexes is None else indexes._open.get(str(self.col.id))
        if index is None:
            return {}
        return {"graph_nodes": index.nodes, "graph_churn": index.churn}

    def close(self) -> None:
        if self.lib != "usearch":
            close_client(self.client)


def job_churn(spec: dict[str, Any], out: Path) -> None:
    n, dim, lib = spec["n"], spec["dim"], spec["lib"]
    rng = np.random.default_rng(spec["seed"])
    rounds = [rng.standard_normal((n, dim), dtype=np.float32) for _ in range(spec["rounds"] + 1)]
    sample = np.sort(rng.choice(n, spec["sample"], replace=False))
    keys = np.arange(n, dtype=np.uint64)
    res: dict[str, Any] = {"n": n, "dim": dim}

    t = ChurnTarget(lib, dim, spec["path"])
    t0 = time.perf_counter()
    t.add(keys, rounds[0])
    # achroma's index catches up in the background; nothing was removed, so no rebuild
    # (compaction) should have been due
    res["fresh_wait_s"], res["fresh_compacted"] = t.wait()
    res["add_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    res["fresh_miss"] = _self_misses(t.top1(rounds[0][sample]), sample)
    res["fresh_query_s"] = time.perf_counter() - t0
    emit(out, res)
    log(f"churn {lib}: fresh add {res['add_s']:.1f}s, miss {100 * res['fresh_miss']:.2f}%")

    t0 = time.perf_counter()
    for r in range(1, spec["rounds"] + 1):
        t.upsert(keys, rounds[r])
    t.delete(keys)
    t.add(keys, rounds[-1])
    res["churn_s"] = time.perf_counter() - t0
    res["churn_wait_s"], _ = t.wait()
    res["count"] = t.count()
    t0 = time.perf_counter()
    res["churned_miss"] = _self_misses(t.top1(rounds[-1][sample]), sample)
    res["churned_query_s"] = time.perf_counter() - t0
    res.update(t.state())
    emit(out, res)
    log(
        f"churn {lib}: churn {res['churn_s']:.1f}s (+{res['churn_wait_s']:.1f}s compaction), "
        f"miss {100 * res['churned_miss']:.2f}%"
    )
    t.close()


def job_exact(spec: dict[str, Any], out: Path) -> None:
    """Median time of one query, graph search vs exact scan, for each (d, N)."""
    from usearch.index import Index

    runs, res = spec["runs"], {"cells": []}
    for d in spec["dims"]:
        rng = np.random.default_rng(spec["seed"] + d)
        data = rng.standard_normal((max(spec["ns"]), d), dtype=np.float32)
        queries = rng.standard_normal((runs, d), dtype=np.float32)
        for n in spec["ns"]:
            index = Index(
                ndim=d,
                metric="l2sq",
                dtype="f32",
                connectivity=16,
                expansion_add=100,
                expansion_search=100,
            )
            index.add(np.arange(n, dtype=np.uint64), data[:n])
            cell = {"d": d, "n": n}
            for mode, kw in (("graph", {}), ("exact", {"exact": True, "threads": 1})):
                for q in queries[:10]:  # warm-up
                    index.search(q, 10, **kw)
                lat = []
                for q in queries:
                    t0 = time.perf_counter()
                    index.search(q, 10, **kw)
                    lat.append(time.perf_counter() - t0)
                cell[f"{mode}_us"] = float(np.median(lat)) * 1e6
            res["cells"].append(cell)
            emit(out, res)


JOBS = {"dup": job_dup, "churn": job_churn, "exact": job_exact}


# --- the sections (driver side) ------------------------------------------------------------


def interleaved(
    jobs: dict[str, tuple[dict[str, Any], float, float | None]], reps: int, root: Path
) -> dict[str, list[dict[str, Any]]]:
    """Run every job once per repetition, repetition by repetition, so that all targets share
    each stretch of the machine's load and can be compared run by run (`paired`).

    `jobs` maps a name to (spec, process timeout, cap). A run killed by its timeout or slower
    than its cap gets ready_s = inf; such a job, or a failed one, is not run again (a capped
    run is already a lower bound)."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in jobs}
    stopped: set[str] = set()
    for rep in range(reps):
        for name, (spec, timeout, cap) in jobs.items():
            if name in stopped:
                continue
            log(f"{name}: run {rep + 1} of {reps}")
            r = run_job({**spec, "seed": spec["seed"] + 100 * rep}, root, timeout)
            r["rep"] = rep
            capped = r.get("timed_out") or (cap is not None and r.get("ready_s", 0.0) > cap)
            if capped:
                r["ready_s"] = math.inf
            if "error" in r:
                log(f"{name}: FAILED: {r['error']}")
            elif r.get("timed_out") and cap is None:
                log(f"{name}: timed out after {timeout:.0f}s")
            runs[name].append(r)
            if capped or "error" in r:
                stopped.add(name)
    return runs


def _good(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in runs if "error" not in r]


def med(runs: list[dict[str, Any]], key: str) -> float:
    """Median of one figure over the runs that have it."""
    return median([float(r[key]) for r in _good(runs) if key in r])


def paired(
    num: list[dict[str, Any]],
    den: list[dict[str, Any]],
    fnum: Any,
    fden: Any,
    cap: float | None = None,
) -> tuple[float, bool]:
    """Median over repetitions of fnum(run) / fden(run), taken within each repetition.

    A numerator that hit its cap counts as the cap, and the result is then a lower bound
    (the flag)."""
    by_rep = {r["rep"]: r for r in _good(den)}
    ratios, bound = [], False
    for r in _good(num):
        d = by_rep.get(r["rep"])
        if d is None:
            continue
        x, y = fnum(r), fden(d)
        if math.isinf(x) and cap is not None:
            x, bound = cap, True
        if y > 0 and not math.isnan(x) and not math.isnan(y):
            ratios.append(x / y)
    return median(ratios), bound


def fmt_r(r: tuple[float, bool]) -> str:
    return ("> " if r[1] else "") + fmt_x(r[0])


def first_error(runs: list[dict[str, Any]]) -> str | None:
    for r in runs:
        if "error" in r:
            return str(r["error"])
        if r.get("timed_out") and not math.isinf(r.get("ready_s", 0.0)):
            return "timed out"
    return None


def section_dup(cfg: dict[str, Any], root: Path, seed: int) -> dict[str, Any]:
    n = cfg["dup_n"]
    jobs: dict[str, tuple[dict[str, Any], float, float | None]] = {}
    for lib, cap, timeout in (
        ("achroma", None, 900.0),
        ("chromadb", cfg["chromadb_cap"], cfg["chromadb_cap"] + 60),
    ):
        for kind in ("copies", "distinct"):
            spec = {"job": "dup", "lib": lib, "kind": kind, "n": n, "seed": seed}
            jobs[f"dup {lib} {kind}"] = (spec, timeout, cap)
    cap = cfg["usearch_cap"]
    for c in cfg["usearch_copies"]:
        for kind in ("copies", "distinct"):
            spec = {"job": "dup", "lib": "usearch", "kind": kind, "n": c, "seed": seed}
            jobs[f"dup usearch {kind} {c}"] = (spec, cap + 10, cap)
    runs = interleaved(jobs, cfg["reps"], root)
    return {
        "n": n,
        "usearch_copies": cfg["usearch_copies"],
        "chromadb_cap": cfg["chromadb_cap"],
        "usearch_cap": cfg["usearch_cap"],
        "runs": runs,
    }


def print_dup(res: dict[str, Any]) -> list[str]:
    n, runs = res["n"], res["runs"]

    def ready(r: dict[str, Any]) -> float:
        return float(r.get("ready_s", math.nan))

    heads = ["target", "records", "copies", "distinct", "copies/distinct", "copies found"]
    rows, ratio = [], {}
    for lib in ("achroma", "chromadb", "usearch"):
        sizes = [n] if lib != "usearch" else res["usearch_copies"]
        cap = {"chromadb": res["chromadb_cap"], "usearch": res["usearch_cap"]}.get(lib)
        for c in sizes:
            suffix = "" if lib != "usearch" else f" {c}"
            cr, dr = runs[f"dup {lib} copies{suffix}"], runs[f"dup {lib} distinct{suffix}"]
            ratio[(lib, c)] = paired(cr, dr, ready, ready, cap)
            found = [r["found"] for r in _good(cr) if "found" in r]
            in_order = all(r.get("in_order") for r in _good(cr) if "found" in r)
            found_s = "-"
            if found:
                found_s = f"{min(found):,}" + (" in order" if in_order else "")
            rows.append(
                [
                    lib,
                    f"{c:,}",
                    fmt_s(med(cr, "ready_s"), cap),
                    fmt_s(med(dr, "ready_s"), cap),
                    fmt_r(ratio[(lib, c)]),
                    found_s,
                ]
            )
    print(f"\n## 1. Duplicates: copies of {COPY} vs distinct random 3-d vectors, max_neighbors 128")
    print(grid(heads, rows))
    print(
        "Times: the adds (batches of get_max_batch_size()) plus the first query, which waits "
        "for any indexing still in flight; usearch adds in one call on all cores. Ratios are "
        "taken within each repetition, then the median."
    )
    for name, rs in runs.items():
        err = first_error(rs)
        if err:
            print(f"FAILED {name}: {err}")
    ac, cc = runs["dup achroma copies"], runs["dup chromadb copies"]
    vs = paired(cc, ac, lambda r: r["ready_s"], lambda r: r["ready_s"], res["chromadb_cap"])
    print(f"chromadb takes {fmt_r(vs)} achroma's time for the {n:,} copies.")
    compacted = sum(
        bool(r.get("compacted"))
        for k in ("copies", "distinct")
        for r in _good(runs[f"dup achroma {k}"])
    )
    if compacted:
        print(
            f"achroma rebuilt its graph (a compaction) during {compacted} of these pure-insert "
            "runs, where nothing was removed."
        )
    us = ", ".join(
        f"{fmt_s(med(runs[f'dup usearch copies {c}'], 'ready_s'), res['usearch_cap'])} "
        f"for {c:,} copies ({fmt_r(ratio[('usearch', c)])} the time of as many distinct)"
        for c in res["usearch_copies"]
    )
    return [
        f"- **Duplicates.** {n:,} copies of one 3-d vector (max_neighbors 128) take "
        f"{fmt_r(ratio[('achroma', n)])} the time of {n:,} distinct vectors in achroma "
        f"({fmt_s(med(ac, 'ready_s'))}), {fmt_r(ratio[('chromadb', n)])} in chromadb 1.5.9 "
        f"({fmt_s(med(cc, 'ready_s'), res['chromadb_cap'])}, {fmt_r(vs)} achroma's time). A "
        f"bare usearch index takes {us}: identical vectors defeat HNSW construction, and "
        "achroma keeps one graph node per distinct vector."
    ]


CHURN_LIBS = ("achroma", "chromadb", "usearch")


def section_churn(cfg: dict[str, Any], root: Path, seed: int) -> dict[str, Any]:
    n, dim = cfg["churn_n"], cfg["churn_dim"]
    jobs: dict[str, tuple[dict[str, Any], float, float | None]] = {}
    for lib in CHURN_LIBS:
        spec = {
            "job": "churn",
            "lib": lib,
            "n": n,
            "dim": dim,
            "sample": cfg["churn_sample"],
            "rounds": cfg["churn_rounds"],
            "seed": seed + 7,
        }
        jobs[f"churn {lib}"] = (spec, 3600.0, None)
    runs = interleaved(jobs, cfg["reps"], root)
    return {
        "n": n,
        "dim": dim,
        "sample": cfg["churn_sample"],
        "rounds": cfg["churn_rounds"],
        "runs": runs,
    }


def _churn_total(r: dict[str, Any]) -> float:
    return float(r["churn_s"]) + float(r.get("churn_wait_s", 0.0))


def print_churn(res: dict[str, Any]) -> list[str]:
    n, dim, sample, rounds = res["n"], res["dim"], res["sample"], res["rounds"]
    runs = {lib: res["runs"][f"churn {lib}"] for lib in CHURN_LIBS}
    heads = ["target", "add s", "fresh miss", "churn s", "wait s", "churn/add", "churned miss"]
    heads.append("count ok")
    lines = []
    for lib, rs in runs.items():
        done = [r for r in _good(rs) if "churned_miss" in r]
        if not done:
            lines.append([lib, "FAILED: " + str(first_error(rs))] + [""] * (len(heads) - 2))
            continue
        counts = [r.get("count") for r in done]
        lines.append(
            [
                lib,
                f"{med(done, 'add_s'):.1f}",
                fmt_pct(med(done, "fresh_miss")),
                f"{med(done, 'churn_s'):.1f}",
                f"{med(done, 'churn_wait_s'):.1f}" if lib == "achroma" else "-",
                fmt_r(paired(done, done, _churn_total, lambda r: r["add_s"])),
                fmt_pct(med(done, "churned_miss")),
                "yes" if all(c == n for c in counts) else ", ".join(map(str, counts)),
            ]
        )
    print(
        f"\n## 2. Churn: N={n:,}, d={dim}, cosine, random normal vectors; self-query of "
        f"{sample:,} records, n_results=1"
    )
    print(grid(heads, lines))
    print(
        f"add s: until the index is current. churn s: {rounds} round(s) of upserting every "
        "record to a new vector, then delete all + re-add, until the last call returns; wait s: "
        "achroma's index update and compaction still running after that (in churn/add, not in "
        "churn s). Miss: the record's own vector does not return it first."
    )
    for lib, rs in runs.items():
        err = first_error(rs)
        if err:
            print(f"FAILED {lib} (in some run): {err}")
    a = [r for r in _good(runs["achroma"]) if "churned_miss" in r]
    if a and "graph_nodes" in a[-1]:
        print(
            f"achroma's graph after the wait: {med(a, 'graph_nodes'):,.0f} nodes, churn "
            f"{med(a, 'graph_churn'):,.0f} (vectors removed or replaced since its last rebuild)"
        )
    fresh_rebuilds = sum(bool(r.get("fresh_compacted")) for r in a)
    if fresh_rebuilds:
        print(
            f"achroma rebuilt its graph (a compaction) during the fresh add in {fresh_rebuilds} "
            f"of {len(a)} runs, though nothing had been removed."
        )
    vs = {}
    for other in ("chromadb", "usearch"):
        o = runs[other]
        vs[other] = (
            paired(a, o, lambda r: r["add_s"], lambda r: r["add_s"]),
            paired(a, o, _churn_total, _churn_total),
        )
        print(
            f"achroma / {other}, within each run: add {fmt_r(vs[other][0])}, churn phase "
            f"(with the wait) {fmt_r(vs[other][1])}"
        )

    def pair(lib: str) -> str:
        return (
            f"{fmt_pct(med(runs[lib], 'fresh_miss'))} / {fmt_pct(med(runs[lib], 'churned_miss'))}"
        )

    return [
        f"- **Churn.** N={n:,}, d={dim}, cosine; self-query misses (a record's own vector not "
        f"returning it first), fresh / after {rounds} upsert round(s) of every record and a "
        f"delete + re-add of everything: achroma {pair('achroma')}, chromadb 1.5.9 "
        f"{pair('chromadb')}, bare usearch {pair('usearch')}. Against chromadb, achroma took "
        f"{fmt_r(vs['chromadb'][0])} the time to add and {fmt_r(vs['chromadb'][1])} for the "
        f"churn (with {med(a, 'churn_wait_s'):.1f} s of background compaction after the last "
        f"write); against bare usearch, {fmt_r(vs['usearch'][0])} and "
        f"{fmt_r(vs['usearch'][1])}."
    ]


def section_exact(cfg: dict[str, Any], root: Path, seed: int) -> dict[str, Any]:
    spec = {
        "job": "exact",
        "dims": cfg["exact_dims"],
        "ns": cfg["exact_ns"],
        "runs": cfg["exact_runs"],
        "seed": seed + 11,
    }
    runs = interleaved({"exact": (spec, 1800.0, None)}, cfg["reps"], root)["exact"]
    cells: dict[str, dict[str, list[float]]] = {}
    for r in _good(runs):
        for c in r.get("cells", []):
            cell = cells.setdefault(f"{c['d']},{c['n']}", {"graph_us": [], "exact_us": []})
            cell["graph_us"].append(c["graph_us"])
            cell["exact_us"].append(c["exact_us"])
    table = {
        key: {
            "graph_us": median(c["graph_us"]),
            "exact_us": median(c["exact_us"]),
            # within each run, then the median
            "ratio": median([e / g for e, g in zip(c["exact_us"], c["graph_us"], strict=True)]),
        }
        for key, c in cells.items()
    }
    return {
        "dims": cfg["exact_dims"],
        "ns": cfg["exact_ns"],
        "queries": cfg["exact_runs"],
        "runs": runs,
        "cells": table,
    }


def crossover(ns: list[int], ratios: list[float]) -> tuple[float, str]:
    """N where exact/graph first crosses 1 (log-log interpolation between grid points)."""
    if not ratios or any(math.isnan(r) for r in ratios):
        return math.nan, "-"
    if ratios[0] > 1:
        return 0.0, f"< {ns[0]:,}"
    for i in range(1, len(ns)):
        n1, r1, n2, r2 = ns[i - 1], ratios[i - 1], ns[i], ratios[i]
        if r1 <= 1 < r2:
            f = (0 - math.log(r1)) / (math.log(r2) - math.log(r1))
            x = math.exp(math.log(n1) + f * (math.log(n2) - math.log(n1)))
            return x, f"~{x:,.0f}"
    return math.inf, f"> {ns[-1]:,}"


def print_exact(res: dict[str, Any]) -> list[str]:
    from achroma.engine.index import EXACT_LIMIT

    dims, ns, cells = res["dims"], res["ns"], res["cells"]
    heads = ["d"] + [f"N={n:,}" for n in ns] + ["crossover N", f"at {EXACT_LIMIT:,}"]
    lines, cross = [], {}
    for d in dims:
        ratios, cols = [], []
        for n in ns:
            c = cells.get(f"{d},{n}")
            ratios.append(math.nan if c is None else c["ratio"])
            cols.append(
                "-" if c is None else f"{c['graph_us']:.0f}/{c['exact_us']:.0f} {fmt_x(c['ratio'])}"
            )
        cross[d] = crossover(ns, ratios)
        at = cells.get(f"{d},{EXACT_LIMIT}")
        lines.append([str(d)] + cols + [cross[d][1], "-" if at is None else fmt_x(at["ratio"])])
    print(
        "\n## 3. Exact-ranking threshold: one usearch query, k=10, l2sq, connectivity 16, "
        "expansion_search 100: graph search vs exact scan (threads=1)"
    )
    print(
        f"cells: graph us / exact us, then exact/graph (medians over {res['queries']} queries, "
        "then over repetitions)"
    )
    print(grid(heads, lines))
    for d in dims:
        x, label = cross[d]
        if math.isnan(x):
            verdict = "no figure"
        elif x == 0.0:
            verdict = f"the exact scan is already slower at N={ns[0]:,}"
        elif math.isinf(x):
            verdict = f"the exact scan is still cheaper at N={ns[-1]:,}"
        else:
            f = EXACT_LIMIT / x
            side = "below" if f < 1 else "above"
            near = "near it" if 0.5 <= f <= 2.0 else "not near it"
            verdict = (
                f"crossover {label}; EXACT_LIMIT={EXACT_LIMIT:,} is "
                f"{fmt_x(max(f, 1 / f))} {side} it ({near})"
            )
        print(f"d={d}: {verdict}")
    at = [(d, cells[f"{d},{EXACT_LIMIT}"]) for d in dims if f"{d},{EXACT_LIMIT}" in cells]
    at_s = ", ".join(f"{fmt_x(c['ratio'])} (d={d})" for d, c in at)
    summary = ", ".join(f"{cross[d][1]} (d={d})" for d in dims)
    return [
        f"- **Exact ranking.** One usearch query by exact scan (one thread) stops being cheaper "
        f"than a graph search (expansion 100) at N {summary}. achroma ranks exactly up to "
        f"EXACT_LIMIT = {EXACT_LIMIT:,} records, where the scan costs {at_s} the time of a "
        "graph search."
    ]


# --- the driver ---------------------------------------------------------------------------


def main_driver(args: argparse.Namespace) -> None:
    cfg = dict(QUICK if args.quick else FULL)
    if args.reps is not None:
        cfg["reps"] = args.reps
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    for s in sections:
        if s not in ("dup", "churn", "exact"):
            sys.exit(f"unknown section {s!r}; choose from dup, churn, exact")
    root = Path(tempfile.mkdtemp(prefix="achroma-bench-integrity-", dir=args.tmp))
    started = time.perf_counter()
    results: dict[str, Any] = {}
    runners = {"dup": section_dup, "churn": section_churn, "exact": section_exact}
    try:
        for s in sections:
            t0 = time.perf_counter()
            results[s] = runners[s](cfg, root, args.seed)
            results[s]["section_s"] = time.perf_counter() - t0
    finally:
        shutil.rmtree(root, ignore_errors=True)
    meta = {
        "args": vars(args),
        "config": cfg,
        "sections": sections,
        "achroma_src": str(REPO_SRC),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions(),
        "total_s": time.perf_counter() - started,
    }
    report(meta, results)
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=2))
        log(f"wrote {args.json}")


def report(meta: dict[str, Any], results: dict[str, Any]) -> None:
    """Print every section's table, then the markdown summary."""
    v, cfg = meta["versions"], meta["config"]
    quick = " (--quick)" if meta["args"].get("quick") else ""
    src = meta.get("achroma_src", REPO_SRC)
    print(
        f"\nachroma {v['achroma']} ({src}), chromadb {v['chromadb']}, usearch "
        f"{v['usearch']}, numpy {v['numpy']}; {meta['cpus']} CPUs; "
        f"median of {cfg['reps']} run(s){quick}"
    )
    printers = {"dup": print_dup, "churn": print_churn, "exact": print_exact}
    md: list[str] = []
    for s in meta.get("sections") or list(results):
        md += printers[s](results[s])
        print(f"({s}: {results[s]['section_s']:.0f} s)")
    print(f"\ntotal {meta['total_s']:.0f} s\n\n### Summary (markdown)\n")
    print("\n".join(md))


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="small sizes, one run: a smoke test")
    p.add_argument("--sections", default="dup,churn,exact", help="any of dup,churn,exact")
    p.add_argument("--reps", type=int, help="runs per measurement (default 3, 1 with --quick)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--json", help="also write every run's figures to this JSON file")
    p.add_argument("--tmp", default="/tmp", help="parent of the temporary directory")
    p.add_argument("--render", metavar="FILE", help="print the report of a --json FILE again")
    # internal: one measurement in this process
    p.add_argument("--job", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    return p.parse_args()


def main() -> None:
    args = parse()
    if args.job:
        spec = json.loads(args.job)
        JOBS[spec["job"]](spec, Path(args.out))
        return
    if args.render:
        saved = json.loads(Path(args.render).read_text())
        report(saved["meta"], saved["results"])
        return
    main_driver(args)


if __name__ == "__main__":
    main()
