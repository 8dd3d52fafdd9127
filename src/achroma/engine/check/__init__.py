"""`achroma check`: whether a store's SQLite data is sound and each collection's saved vector
index agrees with it; `repair` rebuilds the indexes that do not and removes stray files.

The checks (each returns `Finding`s; `check` runs them all):

- SQLite (`sqlite_checks`): `PRAGMA integrity_check` and `foreign_key_check`, the schema
  version, and per collection its seq against its records' and tombstones' seqs, embedding
  blobs of the wrong size, metadata rows without a record, and the full-text index against
  the records.
- The saved vector index of each collection (`index_checks`): its files (through
  `IndexFiles`, which checks sizes and checksums), its seq against the collection's, its size
  after catching up against the record count, and self-queries: sampled records searched
  with their own stored vectors must come back.
- Stray files in `indexes/` (`stray_files`): files of collections that no longer exist,
  leftover `*.tmp` files and generations no pointer names.

Safe beside other processes using the store: SQLite is opened read-only and each
collection is checked inside one read transaction (a consistent snapshot; writers are never
blocked). The only lock taken is each collection's index-file lock (`indexes/<id>.lock`,
the one saves take), briefly, so that its files are listed while no save is half done.
`repair` (`repairing`) writes index files through `IndexFiles.save`, under that same lock;
it never writes to SQLite (damage there is reported, not repaired).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from achroma.engine.check.findings import (
    PROBLEMS,
    REBUILD,
    REMOVE,
    Finding,
    NotAStore,
    Severity,
    plural,
    unresolved,
)
from achroma.engine.check.index_checks import check_collection
from achroma.engine.check.repairing import repair_findings
from achroma.engine.check.session import Session, opened
from achroma.engine.check.sqlite_checks import check_sqlite, fts_integrity_check
from achroma.engine.check.stray_files import find_strays
from achroma.engine.indexes import REBUILD_SLICE
from achroma.progress import Progress, ProgressBar

__all__ = [
    "DEFAULT_SAMPLE",
    "PROBLEMS",
    "REBUILD",
    "REBUILD_SLICE",
    "REMOVE",
    "Finding",
    "NotAStore",
    "Progress",
    "ProgressBar",
    "Severity",
    "check",
    "repair",
    "unresolved",
]

DEFAULT_SAMPLE = 200


async def check(
    path: str | Path,
    *,
    sample: int = DEFAULT_SAMPLE,
    progress: Progress | None = None,
    fts_integrity: bool = False,
) -> list[Finding]:
    """Every check of the store at `path`. `sample`: records self-queried per collection.
    `fts_integrity`: also run FTS5's own integrity-check, which holds SQLite's write lock
    while it runs (other processes' writes wait). Raises `NotAStore`."""
    async with opened(Path(path), sample, progress or Progress()) as session:
        return await _check_all(session, fts_integrity)


async def repair(
    path: str | Path,
    findings: Sequence[Finding],
    *,
    sample: int = DEFAULT_SAMPLE,
    progress: Progress | None = None,
) -> list[Finding]:
    """Fix what `findings` (from `check`) say can be fixed: rebuild those collections'
    indexes from SQLite and save them, remove stray files. Returns what was done
    ("repaired", or "error" when it could not be), then the checks run again on what was
    repaired. Raises `NotAStore`."""
    async with opened(Path(path), sample, progress or Progress()) as session:
        # REBUILD_SLICE is read here, when called, so that setting it on this module (as the
        # tests do, to rebuild in several slices) takes effect.
        return await repair_findings(session, findings, REBUILD_SLICE)


async def _check_all(session: Session, fts_integrity: bool) -> list[Finding]:
    out, readable = await check_sqlite(session)
    if not readable:
        return out
    try:
        collections = await session.collections()
        (total,), *_ = await session.all("SELECT count(*) FROM records")
    except sqlite3.Error as exc:
        return [*out, Finding(None, "error", f"listing the collections failed: {exc}")]
    counts = f"{plural(len(collections), 'collection')}, {plural(total, 'record')}"
    out.append(Finding(None, "ok", counts))
    for col in collections:
        out += await check_collection(session, col)
    if fts_integrity:
        out += await fts_integrity_check(session)
    out += await find_strays(session)
    return out
