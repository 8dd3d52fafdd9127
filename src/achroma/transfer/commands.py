"""`achroma copy`, `achroma export` and `achroma import`: arguments and output over
`achroma.transfer`.

Exit codes: 0 when every collection arrived and checked equal, 1 when the final check found
mismatches, 2 when the work could not be done (a bad endpoint, a missing package, a
configuration conflict).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TextIO, TypeVar

import anyio

from achroma.core.defaults import DEFAULT_DATABASE, DEFAULT_TENANT
from achroma.errors import ChromaError
from achroma.progress import Progress, ProgressBar
from achroma.transfer.copy import DEFAULT_SAMPLE, CollectionReport, copy
from achroma.transfer.endpoints import Endpoint, open_destination, open_source
from achroma.transfer.files import export_collection, import_collection

COMMANDS = ("copy", "export", "import")
# What a failed transfer may raise that is the user's to fix, not a bug.
EXPECTED = (ChromaError, ValueError, OSError, ImportError)

T = TypeVar("T")


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the transfer subcommands to the `achroma` parser."""
    copying = commands.add_parser(
        "copy",
        help="copy collections between achroma stores, Chroma servers and chromadb directories",
        description="SRC and DST: an achroma path, or http(s)://host:port of a Chroma-API "
        "server; SRC may also be a directory written by chromadb (read through chromadb). "
        "Resumable: records already in DST (by id) are skipped.",
    )
    copying.add_argument("src", metavar="SRC")
    copying.add_argument("dst", metavar="DST")
    copying.add_argument(
        "--collection",
        action="append",
        metavar="NAME",
        help="copy this collection (repeatable; all of them by default)",
    )
    for side in ("src", "dst"):
        _endpoint_options(copying, side)
    copying.add_argument(
        "--allow-different-configuration",
        action="store_true",
        help="copy into an existing collection even when its configuration differs",
    )
    _common_options(copying)
    exporting = commands.add_parser(
        "export", help="write one collection to a file (JSON lines, or Parquet with pyarrow)"
    )
    exporting.add_argument("path", metavar="PATH", help="achroma path, server or chromadb dir")
    exporting.add_argument("collection", metavar="COLLECTION")
    exporting.add_argument("file", metavar="FILE", help="*.parquet: Parquet; else JSON lines")
    exporting.add_argument("--format", choices=("jsonl", "parquet"))
    exporting.add_argument("--progress", action="store_true", help="show progress always")
    importing = commands.add_parser("import", help="add the records of an export file")
    importing.add_argument("path", metavar="PATH", help="achroma path or server")
    importing.add_argument("file", metavar="FILE")
    importing.add_argument("--collection", metavar="NAME", help="import under this name")
    importing.add_argument("--format", choices=("jsonl", "parquet"))
    importing.add_argument(
        "--allow-different-configuration",
        action="store_true",
        help="import into an existing collection even when its configuration differs",
    )
    _common_options(importing)


def _endpoint_options(parser: argparse.ArgumentParser, side: str) -> None:
    name = side.upper()
    parser.add_argument(f"--{side}-token", metavar="TOKEN", help=f"token for a {name} server")
    parser.add_argument(
        f"--{side}-header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help=f"header sent to a {name} server (repeatable)",
    )
    parser.add_argument(f"--{side}-tenant", default=DEFAULT_TENANT, metavar="TENANT")
    parser.add_argument(f"--{side}-database", default=DEFAULT_DATABASE, metavar="DATABASE")


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sample",
        type=int,
        default=DEFAULT_SAMPLE,
        metavar="N",
        help=f"records per collection compared at the end ({DEFAULT_SAMPLE})",
    )
    parser.add_argument("--progress", action="store_true", help="show progress always")


def _endpoint(args: argparse.Namespace, side: str) -> Endpoint:
    headers = {}
    for header in getattr(args, f"{side}_header"):
        key, sep, value = header.partition(":")
        if not sep or not key.strip():
            raise ValueError(f"Expected --{side}-header as 'NAME: VALUE', got {header!r}")
        headers[key.strip()] = value.strip()
    return Endpoint(
        getattr(args, side),
        token=getattr(args, f"{side}_token"),
        headers=headers,
        tenant=getattr(args, f"{side}_tenant"),
        database=getattr(args, f"{side}_database"),
    )


def _progress(args: argparse.Namespace) -> Progress:
    if args.progress or sys.stderr.isatty():
        return ProgressBar(sys.stderr, delay=0.0 if args.progress else 0.5, rate=True)
    return Progress()


def _print_report(report: CollectionReport, seconds: float, out: TextIO) -> None:
    rate = f", {report.copied / seconds:,.0f} records/s" if seconds > 0 and report.copied else ""
    print(
        f"{report.name}: {report.destination_count} records "
        f"({report.copied} copied, {report.already_there} already there{rate}); "
        f"checked count and {report.sampled} sampled records",
        file=out,
    )
    for mismatch in report.mismatches:
        print(f"  mismatch: {mismatch}", file=out)


def _summary(reports: Sequence[CollectionReport], out: TextIO) -> int:
    bad = [r.name for r in reports if not r.ok]
    noun = "collection" if len(reports) == 1 else "collections"
    if bad:
        print(f"summary: {len(reports)} {noun}, mismatches in {', '.join(bad)}", file=out)
        return 1
    print(f"summary: {len(reports)} {noun}, all equal", file=out)
    return 0


def _run(command: str, work: Callable[[], Awaitable[T]]) -> T | None:
    try:
        return anyio.run(work)
    except EXPECTED as exc:
        print(f"achroma {command}: {exc}", file=sys.stderr)
        return None


def run_copy(args: argparse.Namespace) -> int:
    out, progress = sys.stdout, _progress(args)
    if args.sample < 0:
        print("achroma copy: --sample must be 0 or more", file=sys.stderr)
        return 2

    async def work() -> list[CollectionReport]:
        async with (
            open_source(_endpoint(args, "src")) as src,
            open_destination(_endpoint(args, "dst")) as dst,
        ):
            names = args.collection or [c.name for c in await src.list_collections()]
            reports = []
            for name in names:
                started = time.monotonic()
                [report] = await copy(
                    src,
                    dst,
                    [name],
                    progress=progress,
                    allow_different_configuration=args.allow_different_configuration,
                    sample=args.sample,
                )
                _print_report(report, time.monotonic() - started, out)
                reports.append(report)
            return reports

    print(f"achroma copy: {args.src} -> {args.dst}", file=out, flush=True)
    reports = _run("copy", work)
    return 2 if reports is None else _summary(reports, out)


def run_export(args: argparse.Namespace) -> int:
    progress = _progress(args)

    async def work() -> int:
        async with open_source(Endpoint(args.path)) as src:
            collection = await src.get_collection(args.collection)
            return await export_collection(
                collection, args.file, format=args.format, progress=progress
            )

    written = _run("export", work)
    if written is None:
        return 2
    print(f"achroma export: {written} records of {args.collection} to {args.file}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    out, progress = sys.stdout, _progress(args)

    async def work() -> CollectionReport:
        async with open_destination(Endpoint(args.path)) as dst:
            return await import_collection(
                dst,
                args.file,
                name=args.collection,
                format=args.format,
                progress=progress,
                allow_different_configuration=args.allow_different_configuration,
                sample=args.sample,
            )

    started = time.monotonic()
    report = _run("import", work)
    if report is None:
        return 2
    _print_report(report, time.monotonic() - started, out)
    return _summary([report], out)


def main(args: argparse.Namespace) -> int:
    """Run the transfer subcommand `args.command`."""
    runs = {"copy": run_copy, "export": run_export, "import": run_import}
    return runs[args.command](args)
