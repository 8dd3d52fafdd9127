"""`achroma check --repair`: rebuild the indexes that fail from SQLite and save them (through
`IndexFiles.save`, under each collection's index-file lock), remove stray files. SQLite is
never written: damage there is reported, not repaired."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from achroma.engine import records
from achroma.engine.check.findings import REBUILD, REMOVE, Finding
from achroma.engine.check.index_checks import check_collection
from achroma.engine.check.session import Collection, Session
from achroma.engine.check.sqlite_checks import check_rows
from achroma.engine.check.stray_files import find_strays, remove_strays
from achroma.engine.index import VectorIndex
from achroma.engine.index_files import IndexFiles
from achroma.errors import NotFoundError


async def repair_findings(
    session: Session, findings: Sequence[Finding], slice_size: int
) -> list[Finding]:
    """Rebuild the indexes and remove the files that `findings` name, then check again the
    rebuilt collections and the index files. `slice_size`: records read from SQLite at a time."""
    out: list[Finding] = []
    wanted = list(dict.fromkeys(f.subject for f in findings if f.repair == REBUILD))
    try:
        collections = {c.id: c for c in await session.collections()}
    except sqlite3.Error as exc:
        return [Finding(None, "error", f"listing the collections failed: {exc}")]
    rebuilt = []
    for cid in wanted:
        col = collections.get(cid or "")
        if col is None:
            continue  # deleted meanwhile: its files are strays now
        done = await rebuild(session, col, slice_size)
        out.append(done)
        if done.severity == "repaired":
            rebuilt.append(col)
    if any(f.repair == REMOVE for f in findings):
        out += await remove_strays(session)
    for col in rebuilt:
        out += await check_collection(session, col)
    out += await find_strays(session)
    return out


async def rebuild(session: Session, col: Collection, slice_size: int) -> Finding:
    """Build the collection's index from SQLite (one snapshot) and save it, replacing
    whatever is saved (`IndexFiles.save`, under the collection's index-file lock)."""
    try:
        async with session.snapshot():
            seq, dimension = await records.collection_state(session.db, col.id)
            if dimension is None:
                return Finding(col.label, "repaired", "no vectors: nothing to rebuild")
            count = await records.count_rows(session.db, col.id)
            sound, _ = await check_rows(session, col, seq, dimension, count)
            if not sound:
                return Finding(
                    col.label,
                    "error",
                    "index not rebuilt: its records are damaged (see above)",
                )
            index = VectorIndex(dimension, col.hnsw, IndexFiles(session.index_dir, col.id))
            session.progress.start(f"rebuilding {col.label}", count)
            try:
                async with index.lock.write():
                    await index.reset()
                    last = 0
                    while True:
                        keys, vectors = await records.vector_slice(
                            session.db, col.id, last, slice_size, dimension
                        )
                        if len(keys) == 0:
                            break
                        await index.upsert(keys, vectors)
                        last = int(keys[-1])
                        session.progress.advance(len(keys))
                    index.seq = seq
            finally:
                session.progress.done()
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
