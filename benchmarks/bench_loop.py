#!/usr/bin/env python3
"""Event-loop benchmark for achroma's async client: loop stalls under load, and concurrency.

Run by hand (never collected by pytest):

    python3 benchmarks/bench_loop.py                         # both parts, N=100k / 20k, d=384
    python3 benchmarks/bench_loop.py --parts stall --n 20000 --json loop.json
    python3 benchmarks/bench_loop.py --parts concurrency --levels 1,2,4,8,16

1. ``stall``: `--n` records are added in batches of `--batch-size` (ids, embeddings,
   metadatas, documents) through ``await achroma.AsyncPersistentClient(...)`` while another
   task runs single-vector queries in a loop and a ticker task sleeps 1 ms in a loop. The
   ticker's gap between wake-ups minus 1 ms is how long the loop was stalled. Reports the
   longest and the p99 stall, add rec/s and the queries' p50/p99 during the load, next to the
   ticker's stalls on the idle loop (the machine's own noise). Goal: longest stall < 20 ms.
2. ``concurrency``: a collection of `--conc-n` records; for each level c in `--levels`, c tasks
   (one ``asyncio.gather``) run single-vector queries in a loop for `--seconds`; queries/s and
   the ratio to one stream. The levels are run `--rounds` times, interleaved, and the medians
   are reported (the ratio is taken within each round). Goal: 16 streams >= 1.6x one stream
   on two cores.

Every part runs in its own subprocess (the script re-invokes itself with ``--single PART``),
so one part's memory and threads do not touch the other's. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_records as br  # noqa: E402  (puts this checkout's src/ on sys.path too)

K = br.K


def log(msg: str) -> None:
    print(f"[loop {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Ticker:
    """Sleeps `tick` seconds in a loop; every wake-up's lateness (gap minus `tick`) is a stall."""

    def __init__(self, tick: float = 0.001) -> None:
        self.tick = tick
        self.stalls: list[float] = []
        self.at: list[float] = []
        self._stop = False
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        sleep, now = asyncio.sleep, time.perf_counter
        t = now()
        while not self._stop:
            await sleep(self.tick)
            t1 = now()
            self.stalls.append(max(0.0, t1 - t - self.tick))
            self.at.append(t1)
            t = t1

    def start(self) -> Ticker:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> dict[str, Any]:
        self._stop = True
        assert self._task is not None
        await self._task
        s = np.asarray(self.stalls) * 1e3
        if len(s) == 0:
            return {"ticks": 0}
        top = np.argsort(s)[::-1][:5]
        t0 = self.at[0]
        return {
            "ticks": int(len(s)),
            "max_stall_ms": float(s.max()),
            "p99_stall_ms": float(np.percentile(s, 99)),
            "p50_stall_ms": float(np.percentile(s, 50)),
            "stalls_over_20ms": int((s > 20).sum()),
            "stalls_over_5ms": int((s > 5).sum()),
            "top_stalls": [{"ms": float(s[i]), "at_s": float(self.at[i] - t0)} for i in top],
        }


async def open_collection(path: Path, space: str) -> tuple[Any, Any]:
    import achroma

    client = await achroma.AsyncPersistentClient(path=str(path))
    col = await client.create_collection(
        br.COLLECTION,
        configuration={"hnsw": {"space": space, **br.HNSW}},
        embedding_function=None,
    )
    return client, col


def load(args: argparse.Namespace, n: int) -> tuple[np.ndarray, np.ndarray, list, list, list]:
    data, queries = br.make_vectors(n, 1000, args.dim, args.seed)
    ids, metas, docs = br.records(br.make_scalars(n, args.seed))
    return data, queries, ids, metas, docs


class SlowCallbacks(logging.Handler):
    """With --slow-callbacks MS: asyncio's debug mode logs every callback or task step that
    ran longer than MS on the loop thread; this keeps them. A stall with no slow callback
    beside it was not the loop's own code (another thread held the GIL, or the scheduler)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.items: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if "took" in msg:
            self.items.append(msg)


def slow_summary(h: SlowCallbacks) -> dict[str, Any]:
    import re

    def took(m: str) -> float:
        x = re.search(r"took ([0-9.]+) seconds", m)
        return float(x.group(1)) if x else 0.0

    items = sorted(h.items, key=took, reverse=True)
    return {"count": len(items), "longest": [m[:400] for m in items[:5]]}


class GcPauses:
    """Times every garbage-collection pass (`gc.callbacks`), so a stall can be matched to the
    collector: a gen-2 pass walks every tracked object of the process, the caller's too."""

    def __init__(self) -> None:
        self.passes: list[tuple[float, float, int]] = []  # (end, seconds, generation)
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._start = now
        else:
            self.passes.append((now, now - self._start, info["generation"]))

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)

    def summary(self, ticker: Ticker) -> dict[str, Any]:
        """The longest passes, and for each of the ticker's top stalls the GC time inside it."""
        t0 = ticker.at[0] if ticker.at else 0.0
        longest = sorted(self.passes, key=lambda p: p[1], reverse=True)[:5]
        stalls = []
        for i in np.argsort(ticker.stalls)[::-1][:5].tolist():
            end, stall = ticker.at[i], ticker.stalls[i]
            inside = sum(d for e, d, _ in self.passes if end - stall - ticker.tick <= e <= end)
            stalls.append({"stall_ms": stall * 1e3, "gc_ms": inside * 1e3})
        gen2 = [d for _, d, g in self.passes if g == 2]
        return {
            "passes": len(self.passes),
            "gen2_passes": len(gen2),
            "gen2_max_ms": max(gen2, default=0.0) * 1e3,
            "longest": [{"ms": d * 1e3, "gen": g, "at_s": e - t0} for e, d, g in longest],
            "top_stalls": stalls,
        }


async def part_stall(args: argparse.Namespace, path: Path) -> dict[str, Any]:
    data, queries, ids, metas, docs = load(args, args.n)
    gc_pauses = GcPauses()
    slow = None
    if args.slow_callbacks:
        loop = asyncio.get_running_loop()
        loop.set_debug(True)
        loop.slow_callback_duration = args.slow_callbacks / 1e3
        slow = SlowCallbacks()
        logging.getLogger("asyncio").addHandler(slow)
    out: dict[str, Any] = {"n": args.n, "dim": args.dim, "batch_size": args.batch_size}
    out["slow_ms"] = args.slow_callbacks
    client, col = await open_collection(path, args.space)
    include = ["distances"] if args.minimal_include else None

    # the machine's own noise: the ticker alone on an idle loop
    ticker = Ticker().start()
    await asyncio.sleep(args.idle_seconds)
    out["idle"] = await ticker.stop()

    first_batch = asyncio.Event()
    adding_done = asyncio.Event()
    q_lat: list[float] = []
    q_errors: list[str] = []

    async def adder() -> float:
        bs = args.batch_size
        t0 = time.perf_counter()
        for s in range(0, args.n, bs):
            await col.add(
                ids=ids[s : s + bs],
                embeddings=data[s : s + bs],
                metadatas=metas[s : s + bs],
                documents=docs[s : s + bs],
            )
            first_batch.set()
        dt = time.perf_counter() - t0
        adding_done.set()
        return dt

    async def querier() -> None:
        await first_batch.wait()
        kw: dict[str, Any] = {"n_results": K}
        if include is not None:
            kw["include"] = include
        i = 0
        while not adding_done.is_set():
            q = queries[i % len(queries) : i % len(queries) + 1]
            t0 = time.perf_counter()
            try:
                await col.query(query_embeddings=q, **kw)
            except Exception as e:  # noqa: BLE001
                q_errors.append(f"{type(e).__name__}: {e}")
                if len(q_errors) > 10:
                    raise
            q_lat.append(time.perf_counter() - t0)
            i += 1

    ticker = Ticker().start()
    with gc_pauses:
        add_s, _ = await asyncio.gather(adder(), querier())
    load_stats = await ticker.stop()
    out["load"] = load_stats
    out["gc"] = gc_pauses.summary(ticker)
    if slow is not None:
        out["slow_callbacks"] = slow_summary(slow)
        slow.items.clear()
    out["add_s"] = add_s
    out["add_rps"] = args.n / add_s
    out["queries_during_load"] = len(q_lat)
    out["query_errors"] = q_errors[:5]
    if q_lat:
        out["query_p50_ms"] = br.pct(q_lat, 50) * 1e3
        out["query_p99_ms"] = br.pct(q_lat, 99) * 1e3
        out["query_max_ms"] = max(q_lat) * 1e3
    got = await col.count()
    if got != args.n:
        raise RuntimeError(f"count() is {got} after adding {args.n}")

    # the same adds without the queries beside them, for comparison: only the ticker
    # (skipped with --no-add-only)
    await client.close()
    if args.add_only:
        shutil.rmtree(path, ignore_errors=True)
        client, col = await open_collection(path, args.space)
        adding_done.clear()
        ticker = Ticker().start()
        t0 = time.perf_counter()
        bs = args.batch_size
        for s in range(0, args.n, bs):
            await col.add(
                ids=ids[s : s + bs],
                embeddings=data[s : s + bs],
                metadatas=metas[s : s + bs],
                documents=docs[s : s + bs],
            )
        out["add_only_rps"] = args.n / (time.perf_counter() - t0)
        out["add_only"] = await ticker.stop()
        if slow is not None:
            out["add_only_slow_callbacks"] = slow_summary(slow)
        await client.close()
    out["peak_rss_mb"] = br.proc_status("VmHWM")
    return out


async def part_concurrency(args: argparse.Namespace, path: Path) -> dict[str, Any]:
    n = args.conc_n
    data, queries, ids, metas, docs = load(args, n)
    client, col = await open_collection(path, args.space)
    bs = args.batch_size
    for s in range(0, n, bs):
        await col.add(
            ids=ids[s : s + bs],
            embeddings=data[s : s + bs],
            metadatas=metas[s : s + bs],
            documents=docs[s : s + bs],
        )
    if await col.count() != n:
        raise RuntimeError("count() after adding")
    kw: dict[str, Any] = {"n_results": K}
    if args.minimal_include:
        kw["include"] = ["distances"]
    for i in range(20):  # warm-up: the index is loaded, caches are warm
        await col.query(query_embeddings=queries[i : i + 1], **kw)

    levels = [int(x) for x in args.levels.split(",")]
    rounds: list[dict[int, dict[str, Any]]] = []
    for r in range(args.rounds):
        per: dict[int, dict[str, Any]] = {}
        for c in levels:
            stop_at = time.perf_counter() + args.seconds
            lat: list[float] = []

            async def stream(j: int, stop_at: float = stop_at, lat: list = lat) -> None:
                i = j * 97
                while time.perf_counter() < stop_at:
                    q = queries[i % len(queries) : i % len(queries) + 1]
                    t0 = time.perf_counter()
                    await col.query(query_embeddings=q, **kw)
                    lat.append(time.perf_counter() - t0)
                    i += 1

            ticker = Ticker().start()
            t0 = time.perf_counter()
            await asyncio.gather(*(stream(j) for j in range(c)))
            dt = time.perf_counter() - t0
            st = await ticker.stop()
            per[c] = {
                "qps": len(lat) / dt,
                "queries": len(lat),
                "p50_ms": br.pct(lat, 50) * 1e3,
                "p99_ms": br.pct(lat, 99) * 1e3,
                "max_stall_ms": st.get("max_stall_ms"),
            }
            log(f"round {r + 1} c={c}: {per[c]['qps']:,.0f} q/s, p50 {per[c]['p50_ms']:.2f} ms")
        rounds.append(per)
    await client.close()

    summary: dict[str, Any] = {}
    base = levels[0]
    for c in levels:
        qps = [rd[c]["qps"] for rd in rounds]
        ratios = [rd[c]["qps"] / rd[base]["qps"] for rd in rounds]
        summary[str(c)] = {
            "qps": float(np.median(qps)),
            "ratio": float(np.median(ratios)),
            "p50_ms": float(np.median([rd[c]["p50_ms"] for rd in rounds])),
            "p99_ms": float(np.median([rd[c]["p99_ms"] for rd in rounds])),
            "max_stall_ms": float(max(rd[c]["max_stall_ms"] or 0.0 for rd in rounds)),
            "qps_rounds": qps,
        }
    return {
        "n": n,
        "dim": args.dim,
        "levels": levels,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "summary": summary,
        "peak_rss_mb": br.proc_status("VmHWM"),
    }


# --- driver --------------------------------------------------------------------------------


def fmt_stalls(s: dict[str, Any]) -> str:
    if not s.get("ticks"):
        return "-"
    return (
        f"max {s['max_stall_ms']:.1f} ms, p99 {s['p99_stall_ms']:.2f} ms, "
        f"p50 {s['p50_stall_ms']:.3f} ms, >20 ms: {s['stalls_over_20ms']}, "
        f">5 ms: {s['stalls_over_5ms']} (of {s['ticks']:,} ticks)"
    )


def report(res: dict[str, Any]) -> str:
    lines: list[str] = []
    st = res.get("stall")
    if st and "error" not in st:
        goal = "met" if st["load"]["max_stall_ms"] < 20 else "NOT met"
        lines += [
            f"Loop stalls: {st['n']:,} records, d={st['dim']}, batches of {st['batch_size']}, "
            "queries beside the adds",
            "",
            "| | max stall ms | p99 stall ms | >20 ms | add rec/s | q p50 ms | q p99 ms "
            "| queries |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            f"| adds + queries | {st['load']['max_stall_ms']:.1f} | "
            f"{st['load']['p99_stall_ms']:.2f} | {st['load']['stalls_over_20ms']} | "
            f"{st['add_rps']:,.0f} | {st.get('query_p50_ms', float('nan')):.2f} | "
            f"{st.get('query_p99_ms', float('nan')):.2f} | {st['queries_during_load']:,} |",
        ]
        if "add_only" in st:
            a = st["add_only"]
            lines.append(
                f"| adds alone | {a['max_stall_ms']:.1f} | {a['p99_stall_ms']:.2f} | "
                f"{a['stalls_over_20ms']} | {st['add_only_rps']:,.0f} | - | - | - |"
            )
        i = st["idle"]
        lines.append(
            f"| idle loop | {i['max_stall_ms']:.1f} | {i['p99_stall_ms']:.2f} | "
            f"{i['stalls_over_20ms']} | - | - | - | - |"
        )
        top = ", ".join(f"{t['ms']:.1f} ms @{t['at_s']:.1f}s" for t in st["load"]["top_stalls"])
        lines += ["", f"longest stalls under load: {top}", f"goal (max stall < 20 ms): {goal}"]
        if "gc" in st:
            g = st["gc"]
            inside = ", ".join(f"{t['stall_ms']:.1f}/{t['gc_ms']:.1f}" for t in g["top_stalls"])
            lines.append(
                f"GC passes: {g['passes']:,} ({g['gen2_passes']} of gen 2, longest "
                f"{g['gen2_max_ms']:.1f} ms); top stalls / GC ms inside them: {inside}"
            )
        for key in ("slow_callbacks", "add_only_slow_callbacks"):
            if key in st:
                sc = st[key]
                lines.append(f"{key} (> {st['slow_ms']:g} ms on the loop thread): {sc['count']}")
                lines += [f"  {m[:300]}" for m in sc["longest"][:3]]
        if st.get("query_errors"):
            lines.append(f"query errors: {st['query_errors']}")
        lines.append("")
    elif st:
        lines += ["stall: FAILED: " + st["error"].strip().splitlines()[-1][:200], ""]
    cc = res.get("concurrency")
    if cc and "error" not in cc:
        lines += [
            f"Concurrent queries: N={cc['n']:,}, d={cc['dim']}, {cc['seconds']:g} s per level, "
            f"median of {cc['rounds']} interleaved rounds",
            "",
            "| streams | queries/s | x one stream | p50 ms | p99 ms | max stall ms |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for c in cc["levels"]:
            s = cc["summary"][str(c)]
            lines.append(
                f"| {c} | {s['qps']:,.0f} | {s['ratio']:.2f} | {s['p50_ms']:.2f} | "
                f"{s['p99_ms']:.2f} | {s['max_stall_ms']:.1f} |"
            )
        top = str(max(cc["levels"]))
        r = cc["summary"][top]["ratio"]
        lines += ["", f"goal ({top} streams >= 1.6x one): {'met' if r >= 1.6 else 'NOT met'}"]
    elif cc:
        lines += ["concurrency: FAILED: " + cc["error"].strip().splitlines()[-1][:200]]
    return "\n".join(lines)


def main_driver(args: argparse.Namespace) -> None:
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    root = Path(tempfile.mkdtemp(prefix="achroma-loop-", dir=args.tmp))
    res: dict[str, Any] = {}
    try:
        for part in parts:
            if part not in ("stall", "concurrency"):
                sys.exit(f"unknown part {part!r}: stall, concurrency")
            log(f"--- {part}")
            out = root / f"{part}.json"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--single", part]
            cmd += ["--path", str(root / part), "--out", str(out)]
            cmd += sys.argv[1:]
            res[part] = br.run_child(cmd, out, args.timeout)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print()
    print(report(res))
    if args.json:
        meta = {
            "args": {k: v for k, v in vars(args).items() if k not in ("single", "path", "out")},
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "versions": br.versions(),
        }
        Path(args.json).write_text(json.dumps({"meta": meta, "results": res}, indent=2))
        log(f"wrote {args.json}")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--parts", default="stall,concurrency", help="stall, concurrency or both")
    p.add_argument("--n", type=int, default=100_000, help="records added in the stall part")
    p.add_argument("--batch-size", type=int, default=100, help="records per add() call")
    p.add_argument("--conc-n", type=int, default=20_000, help="records in the concurrency part")
    p.add_argument("--levels", default="1,2,4,8,16", help="concurrent query streams")
    p.add_argument("--seconds", type=float, default=3.0, help="seconds per level and round")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds of all levels")
    p.add_argument("--idle-seconds", type=float, default=2.0, help="idle-loop ticker baseline")
    p.add_argument(
        "--no-add-only",
        dest="add_only",
        action="store_false",
        help="skip the second pass of adds without queries",
    )
    p.add_argument(
        "--slow-callbacks",
        type=float,
        default=0.0,
        metavar="MS",
        help="stall part: run the loop in asyncio debug mode and report the callbacks that ran "
        "longer than MS on the loop thread (debug mode slows everything a little)",
    )
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--space", default="cosine", choices=["cosine", "l2", "ip"])
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--minimal-include", action="store_true", help='include=["distances"]')
    p.add_argument("--json", help="also write all figures to this JSON file")
    p.add_argument("--tmp", default="/tmp", help="parent of the temporary directory")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per part process")
    p.add_argument("--single", help=argparse.SUPPRESS)
    p.add_argument("--path", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    return p.parse_args()


def main() -> None:
    args = parse()
    if args.single:
        fn = part_stall if args.single == "stall" else part_concurrency
        out = asyncio.run(fn(args, Path(args.path)))
        Path(args.out).write_text(json.dumps(out))
        return
    main_driver(args)


if __name__ == "__main__":
    main()
