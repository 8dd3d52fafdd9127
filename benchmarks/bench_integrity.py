#!/usr/bin/env python3
"""Integrity benchmark: what achroma's index does to avoid three known HNSW traps, as ratios.

Run by hand (never collected by pytest):

    python3 benchmarks/bench_integrity.py                  # all three sections, ~15-20 min
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
is repeated ``--reps`` times (3) and reported as the median. See benchmarks/README.md.
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
from bench_records import REPO_SRC, log, proc_status, versions  # noqa: E402

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


def wait_background(col: Any, fallback: float = 30.0) -> float:
    """Wait until achroma has no index update or compaction in flight; seconds waited."""
    t0 = time.perf_counter()
    indexes = achroma_indexes(col)
    if indexes is None:
        log("cannot reach achroma's Indexes: sleeping instead")
        time.sleep(fallback)
        return time.perf_counter() - t0
    quiet = 0
    while quiet < 3:  # three polls in a row with nothing in flight
        busy = bool(indexes._pending) or bool(indexes._compacting)
        quiet = 0 if busy else quiet + 1
        time.sleep(0.02)
    return time.perf_counter() - t0


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
    t0 = time.perf_counter()
    for s in range(0, n, bs):
        col.add(ids=ids[s : s + bs], embeddings=vecs[s : s + bs])
        res["add_s"] = time.perf_counter() - t0
        res["added"] = min(n, s + bs)
        emit(out, res)
    # The first query waits for whatever indexing is still in flight.
    col.query(query_embeddings=[COPY], n_results=1, include=[])
    res["ready_s"] = time.perf_counter() - t0
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

    def wait(self) -> float:
        return wait_background(self.col) if self.lib == "achroma" else 0.0

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
    res["fresh_wait_s"] = t.wait()  # achroma's index catches up in the background
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
    res["churn_wait_s"] = t.wait()
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


def repeated(
    spec: dict[str, Any], reps: int, root: Path, timeout: float, cap: float | None = None
) -> list[dict[str, Any]]:
    """Run a job `reps` times; a run that hits its cap is not repeated (it is a lower bound).

    With `cap`, a run whose `ready_s` exceeds it (or that was killed) gets ready_s = inf."""
    runs = []
    for rep in range(reps):
        r = run_job({**spec, "seed": spec.get("seed", 0) + 100 * rep}, root, timeout)
        capped = r.get("timed_out") or (cap is not None and r.get("ready_s", 0.0) > cap)
        if capped:
            r["ready_s"] = math.inf
        runs.append(r)
        if "error" in r:
            log(f"{spec}: FAILED: {r['error']}")
            break
        if capped:
            break
    return runs


def section_dup(cfg: dict[str, Any], root: Path, seed: int) -> dict[str, Any]:
    n, reps = cfg["dup_n"], cfg["reps"]
    out: dict[str, Any] = {"n": n, "rows": {}}

    def measure(lib: str, kind: str, count: int, cap: float | None, timeout: float) -> dict:
        log(f"dup: {lib} {count:,} {kind} x{reps}")
        runs = repeated(
            {"job": "dup", "lib": lib, "kind": kind, "n": count, "seed": seed},
            reps,
            root,
            timeout,
            cap,
        )
        ok = [r for r in runs if "error" not in r]
        row = {
            "runs": runs,
            "ready_s": median([r.get("ready_s", math.nan) for r in ok]) if ok else math.nan,
            "error": next((r["error"] for r in runs if "error" in r), None),
        }
        for key in ("found", "count", "in_order", "batch", "query_all_s"):
            vals = [r[key] for r in ok if key in r]
            if vals:
                row[key] = vals[-1] if key != "query_all_s" else median(vals)
        log(f"dup: {lib} {count:,} {kind}: {fmt_s(row['ready_s'], cap)}")
        return row

    rows = out["rows"]
    rows["achroma"] = {
        "copies": measure("achroma", "copies", n, None, 900),
        "distinct": measure("achroma", "distinct", n, None, 900),
    }
    cap = cfg["chromadb_cap"]
    rows["chromadb"] = {
        "copies": measure("chromadb", "copies", n, cap, cap + 60),
        "distinct": measure("chromadb", "distinct", n, cap, cap + 60),
    }
    cap = cfg["usearch_cap"]
    rows["usearch"] = {
        c: {
            "copies": measure("usearch", "copies", c, cap, cap + 10),
            "distinct": measure("usearch", "distinct", c, cap, cap + 10),
        }
        for c in cfg["usearch_copies"]
    }
    out["chromadb_cap"], out["usearch_cap"] = cfg["chromadb_cap"], cfg["usearch_cap"]
    return out


def _dup_ratio(row: dict[str, Any]) -> float:
    c, d = row["copies"]["ready_s"], row["distinct"]["ready_s"]
    return c / d if d and not math.isnan(d) else math.nan


def print_dup(res: dict[str, Any]) -> list[str]:
    n = res["n"]
    heads = ["target", "records", "copies", "distinct", "copies/distinct", "copies found"]
    rows = []
    for lib in ("achroma", "chromadb"):
        row = res["rows"][lib]
        cap = res["chromadb_cap"] if lib == "chromadb" else None
        found = row["copies"].get("found")
        order = row["copies"].get("in_order")
        rows.append(
            [
                lib,
                f"{n:,}",
                fmt_s(row["copies"]["ready_s"], cap),
                fmt_s(row["distinct"]["ready_s"], cap),
                fmt_x(_dup_ratio(row)),
                "-" if found is None else f"{found:,}" + (" in order" if order else ""),
            ]
        )
    for c, row in res["rows"]["usearch"].items():
        rows.append(
            [
                "usearch",
                f"{c:,}",
                fmt_s(row["copies"]["ready_s"], res["usearch_cap"]),
                fmt_s(row["distinct"]["ready_s"], res["usearch_cap"]),
                fmt_x(_dup_ratio(row)),
                "-",
            ]
        )
    print(f"\n## 1. Duplicates: copies of {COPY} vs distinct random 3-d vectors, max_neighbors 128")
    print(grid(heads, rows))
    for lib in ("achroma", "chromadb"):
        for kind in ("copies", "distinct"):
            if res["rows"][lib][kind].get("error"):
                print(f"FAILED {lib} {kind}: {res['rows'][lib][kind]['error']}")
    a, ch = res["rows"]["achroma"], res["rows"]["chromadb"]
    notes = [
        "Times are the adds (batches of get_max_batch_size()) plus the first query, which "
        "waits for any indexing still in flight; usearch adds in one call on all cores."
    ]
    cc, ac = ch["copies"]["ready_s"], a["copies"]["ready_s"]
    if not math.isnan(cc) and not math.isnan(ac) and ac > 0:
        rel = f"> {res['chromadb_cap'] / ac:.0f}x" if math.isinf(cc) else fmt_x(cc / ac)
        notes.append(f"chromadb takes {rel} achroma's time for the {n:,} copies.")
    print("\n".join(notes))
    md = [
        f"- **Duplicates.** {n:,} copies of one 3-d vector (max_neighbors 128) take "
        f"{fmt_x(_dup_ratio(a))} the time of {n:,} distinct vectors in achroma "
        f"({fmt_s(ac)} vs {fmt_s(a['distinct']['ready_s'])}); chromadb 1.5.9 takes "
        f"{fmt_s(cc, res['chromadb_cap'])} for the copies "
        f"({fmt_x(_dup_ratio(ch))} its distinct time). A bare usearch index takes "
        + ", ".join(
            f"{fmt_s(row['copies']['ready_s'], res['usearch_cap'])} for {c:,} copies"
            for c, row in res["rows"]["usearch"].items()
        )
        + " (identical vectors defeat HNSW construction; achroma keeps one graph node per "
        "distinct vector)."
    ]
    return md


def section_churn(cfg: dict[str, Any], root: Path, seed: int) -> dict[str, Any]:
    n, dim, reps = cfg["churn_n"], cfg["churn_dim"], cfg["reps"]
    out: dict[str, Any] = {"n": n, "dim": dim, "sample": cfg["churn_sample"], "rows": {}}
    out["rounds"] = cfg["churn_rounds"]
    for lib in ("achroma", "chromadb", "usearch"):
        log(f"churn: {lib} N={n:,} d={dim} x{reps}")
        runs = repeated(
            {
                "job": "churn",
                "lib": lib,
                "n": n,
                "dim": dim,
                "sample": cfg["churn_sample"],
                "rounds": cfg["churn_rounds"],
                "seed": seed + 7,
            },
            reps,
            root,
            3600,
        )
        ok = [r for r in runs if "error" not in r and "timed_out" not in r]
        row: dict[str, Any] = {"runs": runs}
        for key in (
            "add_s",
            "fresh_miss",
            "churn_s",
            "churn_wait_s",
            "churned_miss",
            "graph_nodes",
            "graph_churn",
        ):
            vals = [r[key] for r in ok if key in r]
            row[key] = median(vals) if vals else math.nan
        row["counts"] = [r.get("count") for r in ok]
        bad = [r for r in runs if "error" in r or "timed_out" in r]
        row["error"] = (bad[0].get("error") or "timed out") if bad else None
        out["rows"][lib] = row
    return out


def print_churn(res: dict[str, Any]) -> list[str]:
    n, dim, sample, rounds = res["n"], res["dim"], res["sample"], res["rounds"]
    rows = res["rows"]
    heads = [
        "target",
        "add s",
        "fresh miss",
        "churn s",
        "churn/add",
        "wait s",
        "churned miss",
        "count ok",
    ]
    lines = []
    for lib, r in rows.items():
        if r["error"] and math.isnan(r["add_s"]):
            lines.append([lib, "FAILED: " + r["error"]] + [""] * (len(heads) - 2))
            continue
        lines.append(
            [
                lib,
                f"{r['add_s']:.1f}",
                fmt_pct(r["fresh_miss"]),
                f"{r['churn_s']:.1f}",
                fmt_x((r["churn_s"] + r["churn_wait_s"]) / r["add_s"]),
                f"{r['churn_wait_s']:.1f}" if lib == "achroma" else "-",
                fmt_pct(r["churned_miss"]),
                "yes" if r["counts"] and all(c == n for c in r["counts"]) else f"{r['counts']}",
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
        "achroma's index update and compaction still running after it (in churn/add, not in "
        "churn s)."
    )
    a, c, u = rows["achroma"], rows["chromadb"], rows["usearch"]
    if not math.isnan(a.get("graph_nodes", math.nan)):
        print(
            f"achroma's graph after the wait: {a['graph_nodes']:,.0f} nodes, "
            f"churn {a['graph_churn']:,.0f} (removed/replaced vectors since its last rebuild)"
        )
    a_total = a["churn_s"] + a["churn_wait_s"]
    ratios = [
        f"{fmt_x(a_total / (r['churn_s'] + r['churn_wait_s']))} {other}'s"
        for other, r in (("chromadb", c), ("usearch", u))
        if not math.isnan(r["churn_s"]) and not math.isnan(a_total)
    ]
    if ratios:
        print("achroma's churn phase (with the wait) takes " + ", ".join(ratios) + ".")
    return [
        f"- **Churn.** N={n:,}, d={dim}, cosine; self-query misses (a record's own vector not "
        f"returning it first) fresh / after {rounds} full upsert round(s) and a delete + "
        f"re-add of everything: achroma {fmt_pct(a['fresh_miss'])} / "
        f"{fmt_pct(a['churned_miss'])}, chromadb 1.5.9 {fmt_pct(c['fresh_miss'])} / "
        f"{fmt_pct(c['churned_miss'])}, bare usearch {fmt_pct(u['fresh_miss'])} / "
        f"{fmt_pct(u['churned_miss'])}. The churn phase took achroma {a_total:.1f} s (with "
        f"{a['churn_wait_s']:.1f} s of background compaction after the last write), "
        f"{fmt_x(a_total / c['churn_s'])} chromadb's {c['churn_s']:.1f} s and "
        f"{fmt_x(a_total / u['churn_s'])} bare usearch's {u['churn_s']:.1f} s."
    ]


def section_exact(cfg: dict[str, Any], root: Path, seed: int) -> dict[str, Any]:
    spec = {
        "job": "exact",
        "dims": cfg["exact_dims"],
        "ns": cfg["exact_ns"],
        "runs": cfg["exact_runs"],
        "seed": seed + 11,
    }
    log(f"exact: d={spec['dims']} N={spec['ns']} x{cfg['reps']}")
    runs = repeated(spec, cfg["reps"], root, 1800)
    cells: dict[tuple[int, int], dict[str, list[float]]] = {}
    for r in runs:
        for cell in r.get("cells", []):
            c = cells.setdefault((cell["d"], cell["n"]), {"graph_us": [], "exact_us": []})
            c["graph_us"].append(cell["graph_us"])
            c["exact_us"].append(cell["exact_us"])
    table = {
        f"{d},{n}": {k: median(v) for k, v in c.items()} for (d, n), c in sorted(cells.items())
    }
    return {"dims": cfg["exact_dims"], "ns": cfg["exact_ns"], "runs": runs, "cells": table}


def crossover(ns: list[int], ratios: list[float]) -> tuple[float, str]:
    """N where exact/graph crosses 1 (log-log interpolation between grid points)."""
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
    heads = ["d"] + [f"N={n:,}" for n in ns] + ["crossover N", f"exact/graph @{EXACT_LIMIT:,}"]
    lines, cross = [], {}
    for d in dims:
        ratios, cols = [], []
        for n in ns:
            c = cells.get(f"{d},{n}")
            if c is None:
                ratios.append(math.nan)
                cols.append("-")
                continue
            ratios.append(c["exact_us"] / c["graph_us"])
            cols.append(f"{c['graph_us']:.0f}/{c['exact_us']:.0f} {ratios[-1]:.2f}x")
        x, label = crossover(ns, ratios)
        cross[d] = (x, label)
        at = cells.get(f"{d},{EXACT_LIMIT}")
        at_s = "-" if at is None else fmt_x(at["exact_us"] / at["graph_us"])
        lines.append([str(d)] + cols + [label, at_s])
    print(
        "\n## 3. Exact-ranking threshold: one usearch query, graph search vs exact scan "
        "(threads=1), k=10, l2sq, connectivity 16, expansion_search 100"
    )
    print("cells: graph us / exact us  exact/graph (median of the per-run medians)")
    print(grid(heads, lines))
    verdicts = []
    for d in dims:
        x, label = cross[d]
        if math.isnan(x):
            verdict = "no figure"
        elif x == 0.0:
            verdict = f"exact is already slower at N={ns[0]:,}"
        elif math.isinf(x):
            verdict = f"exact is still cheaper at N={ns[-1]:,}"
        else:
            f = EXACT_LIMIT / x
            near = 0.5 <= f <= 2.0
            side = "below" if f < 1 else "above"
            verdict = (
                f"crossover {label}: EXACT_LIMIT={EXACT_LIMIT:,} is {fmt_x(max(f, 1 / f))} "
                f"{side} it ({'near' if near else 'not near'})"
            )
        verdicts.append(f"d={d}: {verdict}")
    print("\n".join(verdicts))
    summary = ", ".join(f"{cross[d][1]} (d={d})" for d in dims)
    at = [(d, cells[f"{d},{EXACT_LIMIT}"]) for d in dims if f"{d},{EXACT_LIMIT}" in cells]
    at_s = ", ".join(f"{fmt_x(c['exact_us'] / c['graph_us'])} at d={d}" for d, c in at)
    return [
        f"- **Exact ranking.** One usearch query by exact scan (one thread) stops being cheaper "
        f"than a graph search (expansion 100) at N {summary}. achroma ranks exactly up to "
        f"EXACT_LIMIT = {EXACT_LIMIT:,} records, where the scan costs {at_s} a graph search."
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
    md: list[str] = []
    printers = {"dup": print_dup, "churn": print_churn, "exact": print_exact}
    runners = {"dup": section_dup, "churn": section_churn, "exact": section_exact}
    try:
        for s in sections:
            t0 = time.perf_counter()
            results[s] = runners[s](cfg, root, args.seed)
            results[s]["section_s"] = time.perf_counter() - t0
    finally:
        shutil.rmtree(root, ignore_errors=True)
    total = time.perf_counter() - started
    v = versions()
    print(
        f"\nachroma {v['achroma']} ({REPO_SRC}), chromadb {v['chromadb']}, usearch "
        f"{v['usearch']}, numpy {v['numpy']}; {os.cpu_count()} CPUs; "
        f"median of {cfg['reps']} run(s){' (--quick)' if args.quick else ''}"
    )
    for s in sections:
        md += printers[s](results[s])
        print(f"({s}: {results[s]['section_s']:.0f} s)")
    print(f"\ntotal {total:.0f} s\n\n### Summary (markdown)\n")
    print("\n".join(md))
    if args.json:
        meta = {
            "args": vars(args),
            "config": cfg,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "versions": v,
            "total_s": total,
            "peak_rss_mb": proc_status("VmHWM"),
        }
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=2))
        log(f"wrote {args.json}")


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
    main_driver(args)


if __name__ == "__main__":
    main()
