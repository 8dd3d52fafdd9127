"""`achroma check`: whether a store's SQLite data is sound and each collection's saved vector
index agrees with it; `repair` rebuilds the indexes that do not and removes stray files.

The checks (each returns `Finding`s; `check` runs them all):

- SQLite: `PRAGMA integrity_check` and `foreign_key_check`, the schema version, and per
  collection its seq against its records' and tombstones' seqs, embedding blobs of the wrong
  size, metadata rows without a record, and the full-text index against the records.
- The saved vector index of each collection: its files (through `IndexFiles.load`, which
  checks sizes and checksums), its seq against the collection's, its size after catching up
  against the record count, and self-queries: sampled records searched with their own stored
  vectors must come back.
- Stray files in `indexes/`: files of collections that no longer exist, leftover `*.tmp`
  files and generations no pointer names.

Safe beside other processes using the store: SQLite is opened read-only and each
collection is checked inside one read transaction (a consistent snapshot; writers are never
blocked). The only lock taken is each collection's index-file lock (`indexes/<id>.lock`,
the one saves take), briefly, so that its files are listed while no save is half done.
`repair` writes index files through `IndexFiles.save`, under that same lock; it never writes
to SQLite (damage there is reported, not repaired).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import zlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

import aiosqlite
import numpy as np

from achroma.engine import records
from achroma.engine.filelock import FileLock
from achroma.engine.index import EXACT_LIMIT, NO_KEY, VectorIndex, Vectors, exact_distances
from achroma.engine.index_files import FORMAT, HEAD_BYTES, IndexFiles
from achroma.engine.indexes import INDEX_DIR, REBUILD_SLICE
from achroma.engine.schema import SCHEMA_VERSION
from achroma.engine.store import BUSY_TIMEOUT_MS, DB_FILE, is_busy
from achroma.errors import NotFoundError

Severity = Literal["ok", "info", "warning", "error", "repaired"]
# Severities that make the check fail (exit code 1) unless repaired.
PROBLEMS: frozenset[str] = frozenset({"warning", "error"})

# What `repair` does about a finding.
REBUILD = "rebuild"  # rebuild the collection's index from SQLite and save it
REMOVE = "remove"  # delete a stray file

DEFAULT_SAMPLE = 200
# Self-query recall below these (on a graph; exactly ranked collections must find every
# record) is a warning, then an error.
RECALL_WARNING = 0.98
RECALL_ERROR = 0.9
# Self-queries widen k (for ties at the record's own distance) up to this.
MAX_K = 1024
# How long a check waits for a collection's index-file lock (a save in progress).
LOCK_WAIT = 30.0
# Ids or messages listed in one finding.
LISTED = 5

DEFAULT_TENANT, DEFAULT_DATABASE = "default_tenant", "default_database"


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    collection: str | None  # its name (tenant/database/name outside the defaults); None: store
    severity: Severity
    message: str
    repair: str | None = None  # REBUILD or REMOVE when `repair` can fix it
    subject: str | None = None  # the collection id (REBUILD) or the file (REMOVE)

    @property
    def problem(self) -> bool:
        return self.severity in PROBLEMS


class NotAStore(Exception):
    """The path is not an achroma store this version can check (a usage error)."""


# --- progress ---


class Progress:
    """Progress of long steps; this one shows nothing."""

    def start(self, label: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def done(self) -> None:
        pass


class ProgressBar(Progress):
    """A one-line bar on `stream`, redrawn at most every `interval` seconds and erased when
    the step ends. Steps of known size show once they have run `delay` seconds."""

    def __init__(
        self, stream: TextIO, *, delay: float = 0.0, interval: float = 0.1, width: int = 30
    ) -> None:
        self.stream = stream
        self.delay, self.interval, self.width = delay, interval, width
        self._label, self._count = "", 0
        self._total: int | None = None
        self._started = self._drawn_at = 0.0
        self._shown = 0  # characters on the line now

    def start(self, label: str, total: int | None = None) -> None:
        self.done()
        self._label, self._total, self._count = label, total, 0
        self._started, self._drawn_at = time.monotonic(), 0.0
        self._draw()

    def advance(self, n: int = 1) -> None:
        self._count += n
        self._draw()

    def done(self) -> None:
        if self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0

    def _draw(self) -> None:
        now = time.monotonic()
        if self._total is not None and now - self._started < self.delay:
            return  # a step of known size shows only once it lasts (one of unknown size at once)
        finished = self._total is not None and self._count >= self._total
        if self._shown and now - self._drawn_at < self.interval and not finished:
            return
        self._drawn_at = now
        if self._total:
            share = min(1.0, self._count / self._total)
            filled = int(share * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            line = f"{self._label} [{bar}] {self._count}/{self._total} {share:4.0%}"
        else:
            line = f"{self._label} ... {self._count or ''}".rstrip()
        self.stream.write("\r" + line.ljust(self._shown))
        self.stream.flush()
        self._shown = max(self._shown, len(line))


# --- entry points ---


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
    checker = await _Checker.open(Path(path), sample, progress or Progress())
    try:
        return await checker.check_all(fts_integrity)
    finally:
        await checker.close()


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
    checker = await _Checker.open(Path(path), sample, progress or Progress())
    try:
        return await checker.repair(findings)
    finally:
        await checker.close()


def unresolved(findings: Sequence[Finding], repairs: Sequence[Finding] = ()) -> list[Finding]:
    """The problems left: those `repair` cannot fix, and those found after repairing."""
    left = [f for f in findings if f.problem and (f.repair is None or not repairs)]
    return left + [f for f in repairs if f.problem]


# --- the checks ---


@dataclass
class _Collection:
    id: str
    label: str
    dimension: int | None
    hnsw: dict[str, Any]


class _Outcome:
    HIT, MISS, DIFFERS, UNMEASURED = "hit", "miss", "differs", "unmeasured"


class _Checker:
    def __init__(
        self, path: Path, db: aiosqlite.Connection, sample: int, progress: Progress
    ) -> None:
        self.path = path
        self.db = db
        self.sample = sample
        self.progress = progress
        self.index_dir = path / INDEX_DIR

    @classmethod
    async def open(cls, path: Path, sample: int, progress: Progress) -> _Checker:
        if not path.exists():
            raise NotAStore(f"{path} does not exist")
        if not path.is_dir():
            raise NotAStore(f"{path} is not a directory")
        db_file = path / DB_FILE
        if not db_file.is_file():
            raise NotAStore(f"{path} is not an achroma store (there is no {DB_FILE} in it)")
        # Read-only: a check never writes to SQLite, and never takes its write lock.
        uri = f"{db_file.resolve().as_uri()}?mode=ro"
        try:
            db = await aiosqlite.connect(uri, uri=True, isolation_level=None)
        except sqlite3.Error as exc:
            raise NotAStore(f"cannot open {db_file}: {exc}") from exc
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return cls(path, db, sample, progress)

    async def close(self) -> None:
        self.progress.done()
        with contextlib.suppress(Exception):
            await self.db.close()

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self.db.execute_fetchall(sql, params))

    @contextlib.asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[None]:
        """One read transaction: every read inside sees the same committed state."""
        await self.db.execute("BEGIN")
        try:
            yield
        finally:
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self.db.execute("COMMIT")

    async def check_all(self, fts_integrity: bool) -> list[Finding]:
        out, readable = await self.check_sqlite()
        if not readable:
            return out
        try:
            collections = await self.collections()
            (total,), *_ = await self._all("SELECT count(*) FROM records")
        except sqlite3.Error as exc:
            return [*out, Finding(None, "error", f"listing the collections failed: {exc}")]
        counts = f"{_plural(len(collections), 'collection')}, {_plural(total, 'record')}"
        out.append(Finding(None, "ok", counts))
        for col in collections:
            out += await self.check_collection(col)
        if fts_integrity:
            out += await self.fts_integrity_check()
        out += await self._guarded(None, f"listing {INDEX_DIR}/", self.check_files(remove=False))
        return out

    # --- SQLite ---

    async def check_sqlite(self) -> tuple[list[Finding], bool]:
        """The store-level SQLite checks, and whether the database could be read at all."""
        out: list[Finding] = []
        try:
            version = int((await self._all("PRAGMA user_version"))[0][0])
            tables = {r[0] for r in await self._all("SELECT name FROM sqlite_master")}
        except sqlite3.Error as exc:
            out.append(
                Finding(
                    None,
                    "error",
                    f"{DB_FILE} cannot be read ({exc}): this is SQLite-level damage, which "
                    "`check --repair` does not repair (see docs/check.md for recovery)",
                )
            )
            return out, False
        if "collections" not in tables:
            if version == 0:
                raise NotAStore(
                    f"{self.path} is not an achroma store ({DB_FILE} has no achroma tables)"
                )
            out.append(Finding(None, "error", f"schema version {version}, but no collections"))
            return out, False
        if version > SCHEMA_VERSION:
            raise NotAStore(
                f"{self.path} has schema version {version}, newer than this achroma's "
                f"({SCHEMA_VERSION}): upgrade achroma to check it"
            )
        if version < SCHEMA_VERSION:
            out.append(
                Finding(
                    None,
                    "info",
                    f"schema version {version}, older than this achroma's ({SCHEMA_VERSION}): "
                    "it is migrated when next opened",
                )
            )
        else:
            out.append(Finding(None, "ok", f"schema version {version}"))
        out += await self._guarded(None, "PRAGMA integrity_check", self._integrity())
        out += await self._guarded(None, "PRAGMA foreign_key_check", self._foreign_keys())
        if "documents_fts" in tables:
            out += await self._guarded(None, "checking the full-text index", self._fts())
        return out, True

    async def _guarded(self, label: str | None, doing: str, checks: Any) -> list[Finding]:
        """The findings of one check; an error reading becomes a finding."""
        try:
            found: list[Finding] = await checks
        except (sqlite3.Error, OSError, ValueError, RuntimeError) as exc:
            found = [Finding(label, "error", f"{doing} failed: {type(exc).__name__}: {exc}")]
        return found

    async def _integrity(self) -> list[Finding]:
        self.progress.start("SQLite integrity_check")
        try:
            rows = [r[0] for r in await self._all("PRAGMA integrity_check")]
        finally:
            self.progress.done()
        if rows == ["ok"]:
            return [Finding(None, "ok", "SQLite integrity_check: ok")]
        return [
            Finding(
                None,
                "error",
                f"SQLite integrity_check: {_listed(rows)} (SQLite-level damage, not repaired "
                "by --repair: see docs/check.md)",
            )
        ]

    async def _foreign_keys(self) -> list[Finding]:
        rows = await self._all("PRAGMA foreign_key_check")
        if not rows:
            return [Finding(None, "ok", "no foreign key violations")]
        counts: dict[tuple[str, str], int] = {}
        for table, _rowid, parent, _fkid in rows:
            counts[(table, parent)] = counts.get((table, parent), 0) + 1
        return [
            Finding(None, "error", f"{_plural(n, 'row')} of {table} with no parent row in {parent}")
            for (table, parent), n in sorted(counts.items())
        ]

    async def _fts(self) -> list[Finding]:
        """The full-text index against the records, read-only: one docsize row per record
        with a document and no other (sampled lookups per collection check the postings)."""
        missing = (
            await self._all(
                "SELECT count(*) FROM records r WHERE r.document IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM documents_fts_docsize d WHERE d.id = r.key)"
            )
        )[0][0]
        extra = (
            await self._all(
                "SELECT count(*) FROM documents_fts_docsize d WHERE NOT EXISTS "
                "(SELECT 1 FROM records r WHERE r.key = d.id AND r.document IS NOT NULL)"
            )
        )[0][0]
        if not missing and not extra:
            return [Finding(None, "ok", "the full-text index covers every document")]
        return [
            Finding(
                None,
                "error",
                f"the full-text index lacks {_plural(missing, 'document')} and holds {extra} "
                "not in the records ($contains filters go wrong): SQLite-level damage, not "
                "repaired by --repair (see docs/check.md)",
            )
        ]

    async def fts_integrity_check(self) -> list[Finding]:
        """FTS5's own integrity-check, against the records. It is written as an INSERT, so
        it needs a writable connection and holds SQLite's write lock while it runs."""
        db = await aiosqlite.connect(self.path / DB_FILE, isolation_level=None)
        try:
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await db.execute("BEGIN IMMEDIATE")
            try:
                self.progress.start("FTS5 integrity-check")
                await db.execute(
                    "INSERT INTO documents_fts (documents_fts, rank) VALUES ('integrity-check', 1)"
                )
            finally:
                self.progress.done()
                await db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            if is_busy(exc):
                why = f"FTS5 integrity-check not run: another process held the write lock ({exc})"
                return [Finding(None, "warning", why)]
            return [
                Finding(
                    None,
                    "error",
                    f"FTS5 integrity-check: {exc} (SQLite-level damage, not repaired by "
                    "--repair: see docs/check.md)",
                )
            ]
        finally:
            await db.close()
        return [Finding(None, "ok", "FTS5 integrity-check: ok")]

    async def collections(self) -> list[_Collection]:
        rows = await self._all(
            "SELECT c.id, c.name, d.tenant, d.name, c.dimension, c.configuration "
            "FROM collections c LEFT JOIN databases d ON d.id = c.database_id "
            "ORDER BY d.tenant, d.name, c.name"
        )
        out = []
        for cid, name, tenant, database, dimension, configuration in rows:
            label = name
            if (tenant, database) != (DEFAULT_TENANT, DEFAULT_DATABASE):
                label = f"{tenant}/{database}/{name}"
            try:
                hnsw = dict(json.loads(configuration).get("hnsw") or {})
            except (TypeError, ValueError, AttributeError):
                hnsw = {}
            out.append(_Collection(cid, label, dimension, hnsw))
        return out

    # --- one collection ---

    async def check_collection(self, col: _Collection) -> list[Finding]:
        try:
            return await self._check_collection(col)
        except NotFoundError:
            return [Finding(col.label, "info", "deleted while it was being checked")]
        except sqlite3.Error as exc:
            return [Finding(col.label, "error", f"reading it failed: {exc}")]
        except Exception as exc:  # reported, so the other collections are still checked
            return [
                Finding(
                    col.label,
                    "error",
                    f"checking its index failed: {type(exc).__name__}: {exc}",
                    REBUILD,
                    col.id,
                )
            ]

    async def _check_collection(self, col: _Collection) -> list[Finding]:
        out: list[Finding] = []
        files = IndexFiles(self.index_dir, col.id)
        # The saved index is loaded before the snapshot is taken: a save by another process
        # in between is then older than the snapshot, never newer.
        saved_files = files.pointer.exists()
        index: VectorIndex | None = None
        unusable = None
        if col.dimension is not None and saved_files:
            index = VectorIndex(col.dimension, col.hnsw, files)
            if not await index.load():
                unusable = _diagnose(files, col.dimension, index.space)
                index = None
        async with self._snapshot():
            seq, dimension = await records.collection_state(self.db, col.id)
            count = await records.count(self.db, col.id)
            sound, found = await self._check_rows(col, seq, dimension, count)
            out += found
            if dimension is None:
                return out
            if dimension != col.dimension:  # its first write landed just now
                return [*out, Finding(col.label, "info", "first written while being checked")]
            if not sound:
                out.append(
                    Finding(
                        col.label,
                        "error",
                        "its index cannot be checked or rebuilt until its records are sound",
                    )
                )
                return out
            sampled = await self._sample(col.id, count)
            out += await self._check_documents(col, sampled)
            if not saved_files:
                if count:
                    out.append(
                        Finding(
                            col.label,
                            "info",
                            f"no saved index: it is built from SQLite ({count} records) when "
                            "next opened (--repair saves one now)",
                            REBUILD,
                            col.id,
                        )
                    )
                return out
            if index is None:
                out.append(
                    Finding(
                        col.label,
                        "error",
                        f"saved index unusable: {unusable} (it is rebuilt from SQLite when "
                        "next opened; --repair does it now)",
                        REBUILD,
                        col.id,
                    )
                )
                return out
            out += await self._check_index(col, index, seq, count, sampled)
        return out

    async def _check_rows(
        self, col: _Collection, seq: int, dimension: int | None, count: int
    ) -> tuple[bool, list[Finding]]:
        """The collection's rows in SQLite; False when vectors cannot be read from them."""
        out: list[Finding] = []
        sound = True
        (max_record, max_tombstone), *_ = await self._all(
            "SELECT (SELECT max(seq) FROM records WHERE collection_id = ?), "
            "(SELECT max(seq) FROM tombstones WHERE collection_id = ?)",
            (col.id, col.id),
        )
        for what, top in (("records", max_record), ("tombstones", max_tombstone)):
            if top is not None and top > seq:
                out.append(
                    Finding(
                        col.label,
                        "error",
                        f"{what} written at seq {top}, past the collection's seq {seq}: "
                        "indexes never catch up to them (SQLite-level damage, not repaired)",
                    )
                )
        if dimension is None:
            if count:
                out.append(Finding(col.label, "error", f"{count} records but no dimension"))
                sound = False
        else:
            (bad, first), *_ = await self._all(
                "SELECT count(*), min(id) FROM records "
                "WHERE collection_id = ? AND length(embedding) != ?",
                (col.id, 4 * dimension),
            )
            if bad:
                sound = False
                out.append(
                    Finding(
                        col.label,
                        "error",
                        f"{_plural(bad, 'record')} with an embedding that is not {dimension} "
                        f"float32 values (e.g. id {first!r}): SQLite-level damage, not repaired",
                    )
                )
        (orphans,), *_ = await self._all(
            "SELECT count(*) FROM record_metadata m WHERE m.collection_id = ? "
            "AND NOT EXISTS (SELECT 1 FROM records r WHERE r.key = m.key)",
            (col.id,),
        )
        if orphans:
            out.append(
                Finding(
                    col.label,
                    "error",
                    f"{_plural(orphans, 'metadata row')} of no record (filters may match records "
                    "that do not exist): SQLite-level damage, not repaired",
                )
            )
        dims = f", dimension {dimension}" if dimension is not None else ", no vectors yet"
        out.insert(0, Finding(col.label, "ok", f"{count} records, seq {seq}{dims}"))
        return sound, out

    async def _sample(self, collection_id: str, count: int) -> list[int]:
        """Keys of up to `sample` records picked at random (all of them, in key order, when
        there are no more)."""
        if self.sample <= 0 or count == 0:
            return []
        if count <= self.sample:
            rows = await self._all(
                "SELECT key FROM records WHERE collection_id = ? ORDER BY key", (collection_id,)
            )
        else:
            rows = await self._all(
                "SELECT key FROM records WHERE collection_id = ? ORDER BY random() LIMIT ?",
                (collection_id, self.sample),
            )
        return sorted(int(r[0]) for r in rows)

    async def _check_documents(self, col: _Collection, keys: list[int]) -> list[Finding]:
        """Each sampled document is found through the full-text index by a piece of it."""
        rows = await records.rows_by_key(
            self.db,
            keys,
            {"embeddings": False, "documents": True, "uris": False, "metadatas": False},
        )
        missing, checked = [], 0
        for key, row in sorted(rows.items()):
            document = row.document
            if document is None or len(document) < 3:
                continue  # the trigram index has no postings for it
            middle = max(0, len(document) // 2 - 1)
            piece = document[middle : middle + 3]
            phrase = '"' + piece.replace('"', '""') + '"'
            checked += 1
            hit = await self._all(
                "SELECT 1 FROM documents_fts WHERE documents_fts MATCH ? AND rowid = ?",
                (phrase, key),
            )
            if not hit:
                missing.append(row.id)
        if not missing:
            return []
        return [
            Finding(
                col.label,
                "error",
                f"{len(missing)} of {checked} sampled documents are missing from the "
                f"full-text index (e.g. ids {_listed(missing)}): $contains filters miss "
                "them (SQLite-level damage, not repaired: see docs/check.md)",
            )
        ]

    async def _check_index(
        self, col: _Collection, index: VectorIndex, seq: int, count: int, sampled: list[int]
    ) -> list[Finding]:
        """The loaded index against the snapshot (held by the caller)."""
        out: list[Finding] = []
        saved = index.seq
        if saved > seq:
            out.append(
                Finding(
                    col.label,
                    "error",
                    f"saved index is at seq {saved}, ahead of the collection's seq {seq}: it "
                    "was not saved from this database (it is rebuilt when next opened; "
                    "--repair does it now)",
                    REBUILD,
                    col.id,
                )
            )
            return out
        if saved < seq:
            out.append(
                Finding(
                    col.label,
                    "info",
                    f"saved index behind by {_plural(seq - saved, 'write')} (saved at seq {saved}, "
                    f"collection at seq {seq}): caught up on next open",
                )
            )
            self.progress.start(f"{col.label}: catching up {seq - saved} writes")
            try:
                removed, keys, vectors = await records.changes_since(
                    self.db, col.id, saved, index.dimension
                )
                async with index.lock.write():
                    await index.remove(removed)
                    await index.upsert(keys, vectors)
                    index.seq = seq
            finally:
                self.progress.done()
        size = len(index)
        if size != count:
            out.append(
                Finding(
                    col.label,
                    "error",
                    f"saved index holds {size} records (caught up to seq {seq}), SQLite "
                    f"{count} (it is rebuilt when next opened; --repair does it now)",
                    REBUILD,
                    col.id,
                )
            )
            return out
        at = f"at seq {saved}" if saved == seq else f"at seq {saved}, caught up to {seq},"
        state = f"saved index {at} holds all {size} records"
        if not sampled:
            out.append(Finding(col.label, "ok", f"{state}; no self-queries (--sample 0)"))
            return out
        return out + await self._self_queries(col, index, sampled, state)

    async def _self_queries(
        self, col: _Collection, index: VectorIndex, sampled: list[int], state: str
    ) -> list[Finding]:
        """Each sampled record, searched with its own stored vector, is among the results."""
        keys, vectors = await records.vectors(self.db, sampled, index.dimension)
        rows = await records.rows_by_key(
            self.db,
            keys.tolist(),
            {"embeddings": False, "documents": False, "uris": False, "metadatas": False},
        )
        outcomes: dict[str, list[str]] = {}
        self.progress.start(f"{col.label}: self-queries", len(keys))
        try:
            async with index.lock.read():
                for key, vector in zip(keys.tolist(), vectors, strict=True):
                    outcome = await _find_self(index, key, vector)
                    outcomes.setdefault(outcome, []).append(rows[key].id if key in rows else "?")
                    self.progress.advance()
        finally:
            self.progress.done()
        hits = len(outcomes.get(_Outcome.HIT, []))
        misses = outcomes.get(_Outcome.MISS, [])
        differs = outcomes.get(_Outcome.DIFFERS, [])
        unmeasured = len(outcomes.get(_Outcome.UNMEASURED, []))
        out: list[Finding] = []
        if differs:
            out.append(
                Finding(
                    col.label,
                    "error",
                    f"{_plural(len(differs), 'sampled record')} indexed with another vector "
                    f"than SQLite's (e.g. ids {_listed(differs)}): --repair rebuilds the index",
                    REBUILD,
                    col.id,
                )
            )
        exact = len(index) <= EXACT_LIMIT  # ranked exactly: every record must be found
        if index.space == "ip" and not exact:
            # Inner product is no distance: a record's own vector may rank it anywhere, and
            # a graph search need not reach it. Only what is found says something.
            if not out:
                out.append(
                    Finding(
                        col.label,
                        "ok",
                        f"{state}; self-queries found {hits} of {len(keys)} sampled records "
                        "with their stored vectors (in ip space a graph search with a "
                        "record's own vector need not find it: misses are not counted)",
                    )
                )
            return out
        measured = hits + len(misses) + len(differs)
        skipped = ""
        if unmeasured:
            skipped = f", {unmeasured} not measurable (over {MAX_K} ties at their own distance)"
        if not measured:
            return [*out, Finding(col.label, "info", f"{state}; no self-query measurable{skipped}")]
        recall = hits / measured
        summary = (
            f"self-query recall {recall:.3f} ({hits}/{measured} sampled records found{skipped})"
        )
        if misses and (exact or recall < RECALL_WARNING):
            severity: Severity = "error" if exact or recall < RECALL_ERROR else "warning"
            out.append(
                Finding(
                    col.label,
                    severity,
                    f"{summary}: not found: ids {_listed(misses)} (--repair rebuilds the index)",
                    REBUILD,
                    col.id,
                )
            )
        if not out:
            out.append(Finding(col.label, "ok", f"{state}; {summary}"))
        return out

    # --- files ---

    async def check_files(self, remove: bool) -> list[Finding]:
        """Stray files in indexes/ (`remove`: delete them, and report what was deleted)."""
        out: list[Finding] = []
        directory = self.index_dir
        if not directory.exists():
            return out
        if not directory.is_dir():
            return [Finding(None, "error", f"{INDEX_DIR} is not a directory")]
        live = {r[0] for r in await self._all("SELECT id FROM collections")}
        by_id: dict[str, list[Path]] = {}
        for entry in sorted(directory.iterdir()):
            by_id.setdefault(entry.name.split(".")[0], []).append(entry)
        for cid, entries in by_id.items():
            if cid in live:
                out += await self._live_files(cid, remove)
                continue
            for entry in entries:
                out.append(self._stray(entry, "stray file: its collection does not exist", remove))
        if not out and not remove:
            out.append(Finding(None, "ok", f"no stray files in {INDEX_DIR}/"))
        return out

    async def _live_files(self, cid: str, remove: bool) -> list[Finding]:
        """The files of an existing collection that its pointer does not name, listed (and
        removed) under its index-file lock, so that no save is half done meanwhile."""
        lock = self.index_dir / f"{cid}.lock"
        out: list[Finding] = []
        try:
            async with contextlib.AsyncExitStack() as stack:
                if remove or lock.exists():  # a check never creates a file
                    await stack.enter_async_context(FileLock(lock, timeout=LOCK_WAIT))
                files = IndexFiles(self.index_dir, cid)
                generation = _generation(files)
                kept = {files.pointer.name, lock.name}
                if generation is not None:
                    kept |= {f"{cid}.{generation}.usearch", f"{cid}.{generation}.npz"}
                for entry in sorted(self.index_dir.glob(f"{cid}.*")):
                    if entry.name in kept:
                        continue
                    if entry.name.endswith(".tmp"):
                        why = "leftover temporary file of an interrupted save"
                    elif entry.suffix in (".usearch", ".npz"):
                        why = "a generation its pointer does not name (an interrupted save)"
                    else:
                        why = "unexpected file"
                    out.append(self._stray(entry, why, remove))
        except TimeoutError:
            return [
                Finding(
                    None,
                    "info",
                    f"{INDEX_DIR}/{cid}.*: a save held {lock.name} for {LOCK_WAIT:g} s; "
                    "these files were not checked",
                )
            ]
        return out

    def _stray(self, entry: Path, why: str, remove: bool) -> Finding:
        name = f"{INDEX_DIR}/{entry.name}"
        if entry.is_dir():
            return Finding(None, "warning", f"{name}: unexpected directory (left alone)")
        if not remove:
            return Finding(None, "warning", f"{name}: {why}", REMOVE, str(entry))
        try:
            entry.unlink()
        except FileNotFoundError:
            return Finding(None, "repaired", f"{name}: gone already")
        except OSError as exc:
            return Finding(None, "error", f"{name}: could not remove it: {exc}")
        return Finding(None, "repaired", f"{name}: removed ({why})")

    # --- repairing ---

    async def repair(self, findings: Sequence[Finding]) -> list[Finding]:
        out: list[Finding] = []
        wanted = list(dict.fromkeys(f.subject for f in findings if f.repair == REBUILD))
        try:
            collections = {c.id: c for c in await self.collections()}
        except sqlite3.Error as exc:
            return [Finding(None, "error", f"listing the collections failed: {exc}")]
        rebuilt = []
        for cid in wanted:
            col = collections.get(cid or "")
            if col is None:
                continue  # deleted meanwhile: its files are strays now
            done = await self.rebuild(col)
            out.append(done)
            if done.severity == "repaired":
                rebuilt.append(col)
        if any(f.repair == REMOVE for f in findings):
            removed = await self._guarded(None, "removing stray files", self.check_files(True))
            out += [f for f in removed if f.severity != "ok"]
        for col in rebuilt:
            out += await self.check_collection(col)
        out += await self._guarded(None, f"listing {INDEX_DIR}/", self.check_files(remove=False))
        return out

    async def rebuild(self, col: _Collection) -> Finding:
        """Build the collection's index from SQLite (one snapshot) and save it, replacing
        whatever is saved (`IndexFiles.save`, under the collection's index-file lock)."""
        try:
            async with self._snapshot():
                seq, dimension = await records.collection_state(self.db, col.id)
                if dimension is None:
                    return Finding(col.label, "repaired", "no vectors: nothing to rebuild")
                count = await records.count(self.db, col.id)
                sound, _ = await self._check_rows(col, seq, dimension, count)
                if not sound:
                    return Finding(
                        col.label,
                        "error",
                        "index not rebuilt: its records are damaged (see above)",
                    )
                index = VectorIndex(dimension, col.hnsw, IndexFiles(self.index_dir, col.id))
                self.progress.start(f"rebuilding {col.label}", count)
                try:
                    async with index.lock.write():
                        await index.reset()
                        last = 0
                        while True:
                            keys, vectors = await records.vector_slice(
                                self.db, col.id, last, REBUILD_SLICE, dimension
                            )
                            if len(keys) == 0:
                                break
                            await index.upsert(keys, vectors)
                            last = int(keys[-1])
                            self.progress.advance(len(keys))
                        index.seq = seq
                finally:
                    self.progress.done()
            async with index.lock.read():
                await index.save()
        except NotFoundError:
            return Finding(col.label, "info", "deleted while being repaired")
        except Exception as exc:
            return Finding(
                col.label, "error", f"rebuilding its index failed: {type(exc).__name__}: {exc}"
            )
        return Finding(
            col.label,
            "repaired",
            f"rebuilt its index from SQLite ({len(index)} records, seq {seq}) and saved it",
        )


# --- helpers ---


async def _find_self(index: VectorIndex, key: int, vector: Vectors) -> str:
    """Search the index with a record's own vector: is the record among the results?

    k starts at 1 + the size of the record's group (records with identical vectors share a
    node) and widens while the results end in ties at the record's own distance (other
    records at that distance may rank first; in "ip" space even closer ones exist)."""
    query = vector[None, :].astype(np.float32)
    if index.space == "cosine" and not np.any(query):
        own = 0.0  # USearch puts a zero vector at distance 0 from itself
    else:
        own = float(exact_distances(index.space, query, query)[0, 0])
    tolerance = 1e-4 * max(1.0, abs(own)) + 1e-5
    size = len(index)
    k = min(1 + _group_size(index, key), size)
    limit = max(MAX_K, k)
    while True:
        found, distances = await index.search(query, k)
        row, dist = found[0], distances[0]
        at = np.flatnonzero(row == np.uint64(key))
        if at.size:
            return _Outcome.HIT if abs(float(dist[at[0]]) - own) <= tolerance else _Outcome.DIFFERS
        used = int(np.count_nonzero(row != NO_KEY))
        if used < k or used >= size or float(dist[used - 1]) > own + tolerance:
            return _Outcome.MISS  # farther records came back, or every record but this one
        if k >= limit:
            return _Outcome.UNMEASURED
        k = min(4 * k, limit, size)


def _group_size(index: VectorIndex, key: int) -> int:
    """How many records share the record's node (1 when it has the node to itself)."""
    groups = getattr(index, "_groups", None)
    group = groups.group_of(key) if groups is not None else None
    return 1 if group is None else len(group.keys)


def _generation(files: IndexFiles) -> str | None:
    try:
        meta = json.loads(files.pointer.read_text())
    except (OSError, ValueError):
        return None
    generation = meta.get("generation") if isinstance(meta, dict) else None
    return str(generation) if generation is not None else None


def _diagnose(files: IndexFiles, dimension: int, space: str) -> str:
    """Why `IndexFiles.load` refused the saved index, as far as its files tell."""
    name = f"{INDEX_DIR}/{files.pointer.name}"
    try:
        meta = json.loads(files.pointer.read_text())
    except FileNotFoundError:
        return f"{name} is missing"
    except OSError as exc:
        return f"{name} cannot be read: {exc}"
    except ValueError:
        return f"{name} is not valid JSON"
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        return f"{name} is not a format {FORMAT} index pointer"
    if meta.get("dimension") != dimension:
        return f"it was saved for dimension {meta.get('dimension')}, the collection has {dimension}"
    if meta.get("space") != space:
        return f"it was saved for space {meta.get('space')!r}, the collection uses {space!r}"
    generation = meta.get("generation")
    for suffix, size_key in (("usearch", "graph_bytes"), ("npz", "groups_bytes")):
        file = files.dir / f"{files.id}.{generation}.{suffix}"
        label = f"{INDEX_DIR}/{file.name}"
        try:
            with open(file, "rb") as f:
                head = f.read(HEAD_BYTES if suffix == "usearch" else -1)
                f.seek(0, 2)
                size = f.tell()
        except FileNotFoundError:
            return f"{label} (named by {name}) is missing"
        except OSError as exc:
            return f"{label} cannot be read: {exc}"
        if size != meta.get(size_key):
            return f"{label} is {size} bytes, {name} says {meta.get(size_key)} (truncated?)"
        crc_key = "graph_head_crc" if suffix == "usearch" else "groups_crc"
        if zlib.crc32(head) != meta.get(crc_key):
            return f"{label} does not match the checksum in {name}"
    return "USearch could not load it (or its node count differs from its pointer's)"


def _listed(items: Sequence[Any]) -> str:
    shown = ", ".join(str(i) for i in items[:LISTED])
    return shown + (f" and {len(items) - LISTED} more" if len(items) > LISTED else "")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"
