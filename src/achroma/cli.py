"""The `achroma` command: `achroma run --path ./chroma --host 127.0.0.1 --port 8000`.

`run` serves Chroma's v2 REST API over a local store with uvicorn (the `server` extra). SIGINT
or SIGTERM stops it gracefully: no new connections, in-flight requests finish (up to
`--graceful-timeout` seconds), then the store is closed.

`check --path ./chroma [--repair]` checks a store's SQLite data and vector indexes
(`achroma.engine.check`): exit code 0 when healthy, 1 when problems are left, 2 when the
path is not a store.

`copy SRC DST`, `export PATH COLLECTION FILE` and `import PATH FILE` move collections
between stores, servers and files (`achroma.transfer`; see docs/moving-data.md).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from achroma._version import __version__
from achroma.config import SERVER_TOKEN_PROVIDERS, Settings
from achroma.transfer import commands as transfer_commands

if TYPE_CHECKING:
    from achroma.engine.check import Finding
    from achroma.server.token_auth import Tokens

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
# Longer than the 40 s keep-alive of Chroma's clients, so that the server is not the side
# that closes an idle pooled connection just as a client reuses it.
KEEP_ALIVE_SECS = 75
# A request line and headers take a few hundred bytes and arrive in one packet.
HEADER_TIMEOUT_SECS = 10.0
MAX_HEADER_BYTES = 64 * 1024
# Connections (or requests in flight) beyond this are answered 503.
MAX_CONNECTIONS = 1024


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="achroma", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"achroma {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve Chroma's v2 REST API over a local store")
    run.add_argument("--path", default="./chroma", help="persistent directory (./chroma)")
    run.add_argument("--host", default="localhost", help="address to listen on (localhost)")
    run.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    run.add_argument(
        "--allow-reset",
        action="store_true",
        default=None,
        help="allow POST /api/v2/reset (also the ALLOW_RESET environment variable)",
    )
    run.add_argument(
        "--max-body-size",
        type=int,
        default=None,
        metavar="BYTES",
        help="largest request body accepted (Chroma's: just under 40 MiB)",
    )
    run.add_argument(
        "--header-timeout",
        type=float,
        default=HEADER_TIMEOUT_SECS,
        metavar="SECS",
        help="a request's line and headers must arrive within this time, else 408 "
        f"({HEADER_TIMEOUT_SECS:g})",
    )
    run.add_argument(
        "--max-header-size",
        type=int,
        default=MAX_HEADER_BYTES,
        metavar="BYTES",
        help=f"larger request headers get 431 ({MAX_HEADER_BYTES})",
    )
    run.add_argument(
        "--body-timeout",
        type=float,
        default=None,
        metavar="SECS",
        help="longest pause in a request body, and the time before --body-min-rate applies "
        "(10); else 408",
    )
    run.add_argument(
        "--body-min-rate",
        type=int,
        default=None,
        metavar="BYTES",
        help="bytes/s a request body must average after --body-timeout (65536); else 408",
    )
    run.add_argument(
        "--max-connections",
        type=int,
        default=MAX_CONNECTIONS,
        metavar="N",
        help=f"open connections (or requests in flight) beyond this get 503 ({MAX_CONNECTIONS})",
    )
    run.add_argument(
        "--graceful-timeout",
        type=int,
        default=30,
        metavar="SECS",
        help="how long shutdown waits for in-flight requests (30)",
    )
    run.add_argument(
        "--token",
        help="require this token (x-chroma-token or Authorization: Bearer) on every request",
    )
    run.add_argument(
        "--token-file",
        metavar="FILE",
        help="users and their tokens, optionally bound to a tenant and databases "
        "(Chroma's token users file, YAML or JSON)",
    )
    run.add_argument("--log-level", choices=LOG_LEVELS, default="info")
    run.add_argument(
        "--no-access-log", action="store_true", help="do not log one JSON line per request"
    )
    check = commands.add_parser(
        "check", help="check a store's SQLite data and vector indexes (--repair: fix them)"
    )
    check.add_argument("--path", default="./chroma", help="persistent directory (./chroma)")
    check.add_argument(
        "--repair",
        action="store_true",
        help="rebuild the vector indexes that fail from SQLite and remove stray files "
        "(SQLite itself is never written)",
    )
    check.add_argument(
        "--sample",
        type=int,
        default=200,
        metavar="N",
        help="records per collection searched with their own vectors (200; 0: none)",
    )
    check.add_argument(
        "--progress",
        action="store_true",
        help="show progress bars on stderr even when it is not a terminal",
    )
    check.add_argument(
        "--fts-integrity",
        action="store_true",
        help="also run FTS5's integrity-check, which holds SQLite's write lock while it runs",
    )
    transfer_commands.add_parsers(commands)
    return parser


def _configure_logging(level: str, access_log: bool) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("achroma.access")
    access.addHandler(handler)
    access.propagate = False
    access.setLevel(logging.INFO if access_log else logging.WARNING)
    logging.getLogger("achroma").setLevel(level.upper())


def _tokens(args: argparse.Namespace, settings: Settings) -> Tokens | None:
    """Tokens from the command line, else from Chroma's server auth settings."""
    from achroma.server.token_auth import Tokens

    if args.token_file:
        return Tokens.from_file(args.token_file)
    if args.token:
        return Tokens.single(args.token)
    if settings.chroma_server_authn_provider is None:
        return None
    if settings.chroma_server_authn_provider not in SERVER_TOKEN_PROVIDERS:
        raise ValueError(
            f"Unsupported server auth provider: {settings.chroma_server_authn_provider} "
            "(achroma supports token auth)"
        )
    if settings.chroma_server_authn_credentials_file:
        return Tokens.from_file(settings.chroma_server_authn_credentials_file)
    if settings.chroma_server_authn_credentials:
        return Tokens.single(settings.chroma_server_authn_credentials)
    raise ValueError("Token auth needs chroma_server_authn_credentials or a credentials file")


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from achroma.server.app import ServerConfig, create_app
        from achroma.server.middleware import (
            DEFAULT_BODY_MIN_RATE,
            DEFAULT_BODY_TIMEOUT,
            DEFAULT_MAX_BODY_BYTES,
        )
        from achroma.server.protocol import guarded_protocol
    except ImportError as exc:
        print(
            f"achroma run needs the server extra ({exc.name} is missing): "
            "pip install 'achroma[server]'",
            file=sys.stderr,
        )
        return 1
    settings = Settings()
    allow_reset = args.allow_reset if args.allow_reset is not None else settings.allow_reset
    try:
        tokens = _tokens(args, settings)
    except (OSError, ValueError) as exc:
        print(f"achroma run: {exc}", file=sys.stderr)
        return 2
    config = ServerConfig(
        path=args.path,
        allow_reset=allow_reset,
        max_body_bytes=args.max_body_size or DEFAULT_MAX_BODY_BYTES,
        body_timeout=args.body_timeout or DEFAULT_BODY_TIMEOUT,
        body_min_rate=args.body_min_rate or DEFAULT_BODY_MIN_RATE,
        tokens=tokens,
        cors_allow_origins=tuple(settings.chroma_server_cors_allow_origins),
    )
    _configure_logging(args.log_level, not args.no_access_log)
    print(
        f"achroma {__version__}: serving {args.path} at http://{args.host}:{args.port}"
        f"{' (reset allowed)' if allow_reset else ''}"
        f"{' (token auth)' if tokens is not None else ''}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        create_app(config),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        lifespan="on",
        timeout_keep_alive=KEEP_ALIVE_SECS,
        http=guarded_protocol(args.header_timeout, args.max_header_size),
        # uvicorn counts the connection asking among the open ones.
        limit_concurrency=args.max_connections + 1,
        timeout_graceful_shutdown=args.graceful_timeout,
    )
    return 0


SEVERITY_WIDTH = 9


def _print_findings(findings: Sequence[Finding], out: TextIO) -> None:
    for f in findings:
        where = f.collection if f.collection is not None else "store"
        print(f"{f.severity:<{SEVERITY_WIDTH}}{where}: {f.message}", file=out)


def _counts(findings: Sequence[Finding]) -> str:
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    parts = [f"{errors} error{'s' * (errors != 1)}"] if errors else []
    parts += [f"{warnings} warning{'s' * (warnings != 1)}"] if warnings else []
    return ", ".join(parts)


def check(args: argparse.Namespace) -> int:
    import functools

    import anyio

    from achroma.engine import check as checking

    out = sys.stdout
    if args.sample < 0:
        print("achroma check: --sample must be 0 or more", file=sys.stderr)
        return 2
    progress: checking.Progress = checking.Progress()
    if args.progress or sys.stderr.isatty():
        # On a terminal, only steps that last show a bar; --progress shows every one.
        progress = checking.ProgressBar(sys.stderr, delay=0.0 if args.progress else 0.5)
    try:
        findings = anyio.run(
            functools.partial(
                checking.check,
                args.path,
                sample=args.sample,
                progress=progress,
                fts_integrity=args.fts_integrity,
            )
        )
    except checking.NotAStore as exc:
        print(f"achroma check: {exc}", file=sys.stderr)
        return 2
    print(f"achroma check: {args.path}", file=out)
    _print_findings(findings, out)
    repairs: list[Finding] = []
    fixable = [f for f in findings if f.repair is not None]
    if args.repair and fixable:
        print("repairing:", file=out, flush=True)
        try:
            repairs = anyio.run(
                functools.partial(
                    checking.repair, args.path, findings, sample=args.sample, progress=progress
                )
            )
        except checking.NotAStore as exc:
            print(f"achroma check: {exc}", file=sys.stderr)
            return 2
        _print_findings(repairs, out)
    left = checking.unresolved(findings, repairs)
    if not left:
        done = f"repaired {sum(f.severity == 'repaired' for f in repairs)}; " if repairs else ""
        print(f"summary: {done}healthy", file=out)
        return 0
    advice = ""
    if not args.repair and any(f.repair is not None for f in left):
        n = sum(f.repair is not None for f in left)
        advice = f"; --repair fixes {n} of them"
    if any(f.repair is None and f.severity == "error" for f in left):
        advice += "; SQLite-level damage is not repaired (see docs/check.md)"
    print(f"summary: {_counts(left)}{advice}", file=out)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        return run(args)
    if args.command == "check":
        return check(args)
    if args.command in transfer_commands.COMMANDS:
        return transfer_commands.main(args)
    return 2  # pragma: no cover (argparse rejects unknown commands)
