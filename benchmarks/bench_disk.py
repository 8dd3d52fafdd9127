#!/usr/bin/env python3
"""Disk benchmark: what achroma and chromadb 1.5.9 store for the same records, part by part.

Run by hand (never collected by pytest):

    python3 benchmarks/bench_disk.py                 # N=20k, dim 384, cosine
    python3 benchmarks/bench_disk.py --n 100000
    python3 benchmarks/bench_disk.py --targets achroma --keep

The records are bench_records.py's (same vectors, metadata and documents, added in batches
of --batch-size). Each target fills a fresh persist directory in its own subprocess and
closes it; the directory is then measured: every file's size, and for each SQLite file the
bytes of each table and index (through SQLite's `dbstat` table, when it is compiled in).
Finally the total ratio achroma / chromadb is printed, and the time a fresh process takes to
open the achroma store and answer its first query (the saved graph holds no vectors: they
are read back from SQLite on open), then single queries and get()s of 100 ids.

--reopen-only PATH times opening an existing achroma store (e.g. one an older version made,
kept with --keep), with whatever achroma is on sys.path ($ACHROMA_BENCH_SRC, as for
bench_records.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_records as br  # noqa: E402

TARGETS = ("achroma", "chromadb")


def fill(target: str, path: Path, args: argparse.Namespace) -> None:
    data, _ = br.make_vectors(args.n, 1, args.dim, args.seed)
    ids, metas, docs = br.records(br.make_scalars(args.n, args.seed))
    if target == "achroma":
        import achroma as lib

        client = lib.PersistentClient(path=str(path))
    else:
        import chromadb as lib

        client = lib.PersistentClient(
            path=str(path), settings=lib.Settings(anonymized_telemetry=False)
        )
    col = client.create_collection(
        br.COLLECTION,
        configuration={"hnsw": {"space": args.space, **br.HNSW}},
        embedding_function=None,
    )
    t0 = time.perf_counter()
    for start in range(0, args.n, args.batch_size):
        end = start + args.batch_size
        col.add(
            ids=ids[start:end],
            embeddings=data[start:end],
            metadatas=metas[start:end],
            documents=docs[start:end],
        )
    br.log(f"{target}: added {args.n:,} in {time.perf_counter() - t0:.1f}s")
    close = getattr(client, "close", None)
    if close is not None:
        close()


def reopen(path: Path, args: argparse.Namespace) -> dict[str, float]:
    """A cold open of the achroma store and its first query, in this (fresh) process."""
    _, queries = br.make_vectors(10, 20, args.dim, args.seed)
    import achroma

    t0 = time.perf_counter()
    client = achroma.PersistentClient(path=str(path))
    col = client.get_collection(br.COLLECTION, embedding_function=None)
    col.query(query_embeddings=queries[:1], n_results=br.K)
    first = time.perf_counter() - t0
    t1 = time.perf_counter()
    for q in queries:
        col.query(query_embeddings=q[None], n_results=br.K)
    warm = (time.perf_counter() - t1) / len(queries)
    ids = [f"id{i}" for i in range(0, args.n, max(1, args.n // 100))][:100]
    t2 = time.perf_counter()
    for _ in range(20):
        col.get(ids=ids)
    get_ms = (time.perf_counter() - t2) / 20 * 1000
    client.close()
    return {"open_and_first_query_s": first, "query_ms": warm * 1000, "get_100_ms": get_ms}


def sqlite_parts(file: Path) -> dict[str, int] | None:
    """Bytes per table and index of a SQLite file (None: dbstat is not compiled in)."""
    db = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    return {str(name): int(size) for name, size in rows}


def measure(root: Path) -> dict[str, Any]:
    files: dict[str, int] = {}
    parts: dict[str, dict[str, int]] = {}
    for f in sorted(root.rglob("*")):
        if not f.is_file():
            continue
        rel = str(f.relative_to(root))
        files[rel] = f.stat().st_size
        if f.suffix in (".sqlite3", ".db") or f.name.endswith(".sqlite"):
            found = sqlite_parts(f)
            if found is not None:
                parts[rel] = found
    return {"total": sum(files.values()), "files": files, "sqlite": parts}


def mb(n: float) -> str:
    return f"{n / 2**20:9.2f} MB"


def report(target: str, m: dict[str, Any]) -> None:
    print(f"\n{target}: {mb(m['total'])} in {len(m['files'])} files")
    groups: dict[str, int] = {}
    for rel, size in m["files"].items():
        # chromadb's segment directories and achroma's index generations, grouped by kind
        kind = Path(rel).suffix or Path(rel).name
        groups[f"{Path(rel).parent}/*{kind}" if "/" in rel else rel] = (
            groups.get(f"{Path(rel).parent}/*{kind}" if "/" in rel else rel, 0) + size
        )
    for name, size in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"  {mb(size)}  {name}")
    for rel, tables in m["sqlite"].items():
        print(f"  {rel}, by table and index:")
        for name, size in sorted(tables.items(), key=lambda kv: -kv[1]):
            if size >= 64 * 1024:
                print(f"    {mb(size)}  {name}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=20_000)
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--space", default="cosine")
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--targets", default=",".join(TARGETS))
    p.add_argument("--tmp", default=tempfile.gettempdir())
    p.add_argument("--keep", action="store_true")
    p.add_argument("--json")
    p.add_argument("--fill", help=argparse.SUPPRESS)  # child: fill TARGET at --path
    p.add_argument("--reopen", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--reopen-only", metavar="PATH", help="time opening this achroma store")
    p.add_argument("--path", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.fill:
        fill(args.fill, Path(args.path), args)
        return
    if args.reopen:
        print(json.dumps(reopen(Path(args.path), args)))
        return
    if args.reopen_only:
        print(json.dumps(reopen(Path(args.reopen_only), args)))
        return
    common = ["--n", str(args.n), "--dim", str(args.dim), "--space", args.space]
    common += ["--batch-size", str(args.batch_size), "--seed", str(args.seed)]
    root = Path(tempfile.mkdtemp(prefix="achroma-disk-", dir=args.tmp))
    results: dict[str, Any] = {}
    try:
        for target in [t.strip() for t in args.targets.split(",") if t.strip()]:
            if target not in TARGETS:
                sys.exit(f"unknown target {target!r}; choose from {', '.join(TARGETS)}")
            path = root / target
            me = [sys.executable, str(Path(__file__).resolve())]
            subprocess.run([*me, "--fill", target, "--path", str(path), *common], check=True)
            results[target] = measure(path)
            report(target, results[target])
            if target == "achroma":
                out = subprocess.run(
                    [*me, "--reopen", "--path", str(path), *common],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                timing = json.loads(out.stdout.strip().splitlines()[-1])
                results[target]["reopen"] = timing
                print(
                    f"  open + first query {timing['open_and_first_query_s']:.3f} s (imports "
                    f"excluded), then {timing['query_ms']:.2f} ms a query, "
                    f"{timing['get_100_ms']:.2f} ms a get of 100 ids"
                )
            if not args.keep:
                shutil.rmtree(path, ignore_errors=True)
    finally:
        if args.keep:
            br.log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    if "achroma" in results and "chromadb" in results:
        a, c = results["achroma"]["total"], results["chromadb"]["total"]
        print(
            f"\nN={args.n:,} dim={args.dim} {args.space}: achroma {mb(a).strip()}, "
            f"chromadb {mb(c).strip()}, ratio {a / c:.3f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    main()
