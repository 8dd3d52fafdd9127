#!/usr/bin/env python3
"""Plots of bench_records.py's JSON: query latency against N, recall against filter selectivity.

Run by hand; needs matplotlib (the `bench` extra: ``pip install -e ".[bench]"``):

    python3 benchmarks/plot_bench.py bench-10k.json bench-100k.json      # PNGs into docs/img/
    python3 benchmarks/plot_bench.py --sweep 10000,20000,100000 -- \\
        --targets achroma-persistent,chromadb,usearch --selectivities 0.5,0.1,0.01,0.001

With ``--sweep``, bench_records.py is run once per N (each run in its own process, its JSON
kept in ``--sweep-dir``), with the options after ``--`` passed to it; then the plots are drawn from
those files. Without it, the given JSON files (one or several, at different ``--n``) are
plotted. Writes:

- ``query_p50_vs_n.png``: single-query p50 latency against N (log-log), one line per target;
- ``recall_vs_selectivity.png``: recall@10 of filtered queries against the share of records
  the filter keeps (log x), one panel per N, one line per target; the runs' `selectivity`
  entries (``--selectivities``), or else their two fixed filters (10% and 0.1%);
- ``filter_p50_vs_selectivity.png``: the same filtered queries' p50 latency.

and prints the figures as markdown tables (each run's main table, with its query p50 against the
run's `--baseline` targets and its add rate against `usearch`, then the plotted points;
``--markdown FILE`` also writes them to FILE).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "docs" / "img"
# fixed colours and markers, so a target looks the same in every figure
STYLE = {
    "achroma-persistent": ("tab:blue", "o"),
    "achroma-ephemeral": ("tab:cyan", "v"),
    "achroma-async": ("tab:purple", "D"),
    "chromadb": ("tab:orange", "s"),
    "chromadb-ephemeral": ("tab:brown", "P"),
    "usearch": ("tab:gray", "^"),
    "floor": ("black", "x"),
}
# The main table's columns: (JSON key, heading, format)
MAIN_COLUMNS = (
    ("add_rps", "add rec/s", "{:,.0f}"),
    ("query_p50_ms", "query p50 ms", "{:.2f}"),
    ("query_p99_ms", "query p99 ms", "{:.2f}"),
    ("query_hand_offs", "hops/q", "{:.0f}"),
    ("count_p50_ms", "count() ms", "{:.3f}"),
    ("batch_qps", "batch q/s", "{:,.0f}"),
    ("recall", "recall@10", "{:.3f}"),
    ("f10_p50_ms", "10% filter p50 ms", "{:.2f}"),
    ("f01_p50_ms", "0.1% filter p50 ms", "{:.2f}"),
    ("get100_p50_ms", "get 100 ids ms", "{:.2f}"),
    ("cold_open_s", "cold open s", "{:.3f}"),
    ("cold_first_query_ms", "first query ms", "{:.1f}"),
    ("peak_rss_mb", "peak RSS MB", "{:,.0f}"),
    ("disk_mb", "disk MB", "{:,.1f}"),
)


def load(paths: list[Path]) -> list[dict[str, Any]]:
    runs = []
    for p in paths:
        d = json.loads(Path(p).read_text())
        d["_file"] = str(p)
        d["_n"] = int(d["meta"]["args"]["n"])
        runs.append(d)
    runs.sort(key=lambda d: d["_n"])
    return runs


def targets_of(runs: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for d in runs:
        for t, r in d["results"].items():
            if "error" not in r and t not in seen:
                seen.append(t)
    return seen


def filter_points(r: dict[str, Any]) -> list[tuple[float, float, float]]:
    """(selectivity, recall, p50 ms) of one target's filtered queries, by selectivity."""
    if r.get("selectivity"):
        pts = [(e["selectivity"], e["recall"], e["p50_ms"]) for e in r["selectivity"]]
    else:
        pts = [
            (s, r[f"{k}_recall"], r[f"{k}_p50_ms"])
            for s, k in ((0.1, "f10"), (0.001, "f01"))
            if f"{k}_recall" in r
        ]
    return sorted(pts)


def fmt_n(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


def label_of(runs: list[dict[str, Any]]) -> str:
    a = runs[0]["meta"]["args"]
    v = runs[0]["meta"].get("versions", {})
    return (
        f"d={a['dim']}, {a['space']}, k=10, {a['queries']} queries; "
        f"achroma {v.get('achroma', '?')}, chromadb {v.get('chromadb', '?')}"
    )


def plot_latency(runs: list[dict[str, Any]], out: Path, plt: Any) -> Path:
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    for t in targets_of(runs):
        pts = [
            (d["_n"], d["results"][t]["query_p50_ms"])
            for d in runs
            if t in d["results"] and "query_p50_ms" in d["results"][t]
        ]
        if not pts:
            continue
        color, marker = STYLE.get(t, (None, "o"))
        ax.plot(*zip(*pts, strict=True), marker=marker, color=color, label=t)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ns = sorted({d["_n"] for d in runs})
    ax.set_xticks(ns, [fmt_n(n) for n in ns])
    ax.minorticks_off()
    ax.set_xlabel("records N (log)")
    ax.set_ylabel("single query p50, ms (log)")
    ax.set_title("Query latency against N", fontsize=11)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.text(0.01, 0.01, label_of(runs), fontsize=7, color="0.4")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    path = out / "query_p50_vs_n.png"
    fig.savefig(path, pil_kwargs={"optimize": True})
    plt.close(fig)
    return path


def plot_filters(runs: list[dict[str, Any]], out: Path, plt: Any, which: str) -> Path:
    idx = 1 if which == "recall" else 2
    fig, axes = plt.subplots(
        1, len(runs), figsize=(3.4 * len(runs) + 1.0, 3.9), dpi=100, sharey=True, squeeze=False
    )
    for ax, d in zip(axes[0], runs, strict=True):
        for t in targets_of([d]):
            pts = filter_points(d["results"][t])
            if not pts:
                continue
            color, marker = STYLE.get(t, (None, "o"))
            xs = [p[0] for p in pts]
            ys = [p[idx] for p in pts]
            ax.plot(xs, ys, marker=marker, color=color, label=t)
        ax.set_xscale("log")
        if which != "recall":
            ax.set_yscale("log")
        ax.set_title(f"N = {fmt_n(d['_n'])}", fontsize=10)
        ax.set_xlabel("filter selectivity (share kept, log)")
        ax.grid(True, which="major", alpha=0.3)
    if which == "recall":
        axes[0][0].set_ylabel("recall@10 within the filter")
        lo = min(
            (p[1] for d in runs for t in targets_of([d]) for p in filter_points(d["results"][t])),
            default=0.9,
        )
        axes[0][0].set_ylim(min(0.9, lo - 0.02), 1.005)
        title, name = "Filtered query recall@10 against selectivity", "recall_vs_selectivity.png"
    else:
        axes[0][0].set_ylabel("filtered query p50, ms (log)")
        title, name = "Filtered query latency against selectivity", "filter_p50_vs_selectivity.png"
    axes[0][-1].legend(fontsize=7)
    fig.suptitle(title, fontsize=11)
    fig.text(0.01, 0.01, label_of(runs), fontsize=7, color="0.4")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    path = out / name
    fig.savefig(path, pil_kwargs={"optimize": True})
    plt.close(fig)
    return path


def main_table(run: dict[str, Any]) -> list[str]:
    """Every target's figures at one N, with the query p50 against each baseline of the run."""
    results = run["results"]
    baselines = [b for b in (run["meta"]["args"].get("baseline") or "").split(",") if b in results]
    bare = results.get("usearch", {}).get("add_rps")
    heads = [h for _, h, _ in MAIN_COLUMNS]
    heads[2:2] = [f"/ {b}" for b in baselines]
    if bare:
        heads[1:1] = ["add / usearch"]
    lines = [f"| target | {' | '.join(heads)} |", "|---|" + "---:|" * len(heads)]
    for t, r in results.items():
        if "error" in r:
            lines.append(f"| `{t}` | failed |")
            continue
        cells = [fmt.format(r[k]) if r.get(k) is not None else "-" for k, _, fmt in MAIN_COLUMNS]
        ratios = []
        for b in baselines:
            base = results[b].get("query_p50_ms")
            ratios.append(f"{r['query_p50_ms'] / base:.2f}x" if base else "-")
        cells[2:2] = ratios
        if bare:
            cells[1:1] = [f"{r['add_rps'] / bare:.2f}x" if r.get("add_rps") else "-"]
        lines.append(f"| `{t}` | {' | '.join(cells)} |")
    return lines


def markdown(runs: list[dict[str, Any]]) -> str:
    ts = targets_of(runs)
    lines = []
    for d in runs:
        lines += [f"All figures at N={fmt_n(d['_n'])}:", "", *main_table(d), ""]
    lines += ["Single-query p50 ms:", ""]
    lines.append("| target | " + " | ".join(f"N={fmt_n(d['_n'])}" for d in runs) + " |")
    lines.append("|---|" + "---:|" * len(runs))
    for t in ts:
        cells = []
        for d in runs:
            r = d["results"].get(t, {})
            cells.append(f"{r['query_p50_ms']:.2f}" if "query_p50_ms" in r else "-")
        lines.append(f"| `{t}` | " + " | ".join(cells) + " |")
    for d in runs:
        sels = sorted(
            {p[0] for t in ts if t in d["results"] for p in filter_points(d["results"][t])},
            reverse=True,
        )
        if not sels:
            continue
        lines += ["", f"Filtered queries at N={fmt_n(d['_n'])}: p50 ms / recall@10", ""]
        lines.append("| target | " + " | ".join(f"{s:g}" for s in sels) + " |")
        lines.append("|---|" + "---:|" * len(sels))
        for t in ts:
            if t not in d["results"] or "error" in d["results"][t]:
                continue
            by = {p[0]: p for p in filter_points(d["results"][t])}
            cells = [f"{by[s][2]:.2f} / {by[s][1]:.3f}" if s in by else "-" for s in sels]
            lines.append(f"| `{t}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sweep(args: argparse.Namespace, passthrough: list[str]) -> list[Path]:
    sdir = Path(args.sweep_dir)
    sdir.mkdir(parents=True, exist_ok=True)
    files = []
    for n in (int(x) for x in args.sweep.split(",")):
        f = sdir / f"bench-{n}.json"
        cmd = [sys.executable, str(HERE / "bench_records.py"), "--n", str(n), "--json", str(f)]
        cmd += passthrough
        print("$ " + " ".join(cmd[1:]), file=sys.stderr, flush=True)
        p = subprocess.run(cmd)
        if p.returncode != 0 or not f.exists():
            sys.exit(f"bench_records.py --n {n} failed (exit code {p.returncode})")
        files.append(f)
    return files


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("files", nargs="*", type=Path, help="bench_records.py --json files")
    p.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="where the PNGs go")
    p.add_argument("--markdown", type=Path, help="also write the markdown tables to this file")
    p.add_argument(
        "--sweep",
        help="comma-separated N: run bench_records.py at each (options after `--` are "
        "passed to it, e.g. -- --targets ... --selectivities ...) and plot those runs",
    )
    p.add_argument("--sweep-dir", default="bench-sweep", help="where --sweep keeps its JSON")
    argv, passthrough = sys.argv[1:], []
    if "--" in argv:  # everything after `--` goes to bench_records.py
        i = argv.index("--")
        argv, passthrough = argv[:i], argv[i + 1 :]
    args = p.parse_args(argv)
    if passthrough and not args.sweep:
        p.error("options after -- are for --sweep's bench_records.py runs")
    files = list(args.files)
    if args.sweep:
        files += sweep(args, passthrough)
    if not files:
        p.error("give JSON files or --sweep")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = load(files)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        plot_latency(runs, args.out_dir, plt),
        plot_filters(runs, args.out_dir, plt, "recall"),
        plot_filters(runs, args.out_dir, plt, "p50"),
    ]
    for w in written:
        print(f"wrote {w} ({w.stat().st_size / 1024:.0f} KB)", file=sys.stderr)
    md = markdown(runs)
    print(md)
    if args.markdown:
        args.markdown.write_text(md + "\n")


if __name__ == "__main__":
    main()
