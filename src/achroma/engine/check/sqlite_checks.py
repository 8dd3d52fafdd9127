"""The store-level SQLite checks of `achroma check` (integrity, foreign keys, schema version,
the full-text index) and the checks of one collection's rows.

SQLite damage is reported, never repaired: `repair` does not write to SQLite.
"""

from __future__ import annotations

import sqlite3

import aiosqlite

from achroma.engine import records
from achroma.engine.check.findings import Finding, NotAStore, guarded, listed, plural
from achroma.engine.check.session import Collection, Session
from achroma.engine.migrations import SCHEMA_VERSION
from achroma.engine.store import BUSY_TIMEOUT_MS, DB_FILE, is_busy


async def check_sqlite(session: Session) -> tuple[list[Finding], bool]:
    """The store-level SQLite checks, and whether the database could be read at all."""
    out: list[Finding] = []
    try:
        version = int((await session.all("PRAGMA user_version"))[0][0])
        tables = {r[0] for r in await session.all("SELECT name FROM sqlite_master")}
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
                f"{session.path} is not an achroma store ({DB_FILE} has no achroma tables)"
            )
        out.append(Finding(None, "error", f"schema version {version}, but no collections"))
        return out, False
    if version > SCHEMA_VERSION:
        raise NotAStore(
            f"{session.path} has schema version {version}, newer than this achroma's "
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
    out += await guarded(None, "PRAGMA integrity_check", _integrity(session))
    out += await guarded(None, "PRAGMA foreign_key_check", _foreign_keys(session))
    if "documents_fts" in tables:
        out += await guarded(None, "checking the full-text index", _fts(session))
    return out, True


async def _integrity(session: Session) -> list[Finding]:
    session.progress.start("SQLite integrity_check")
    try:
        rows = [r[0] for r in await session.all("PRAGMA integrity_check")]
    finally:
        session.progress.done()
    if rows == ["ok"]:
        return [Finding(None, "ok", "SQLite integrity_check: ok")]
    return [
        Finding(
            None,
            "error",
            f"SQLite integrity_check: {listed(rows)} (SQLite-level damage, not repaired "
            "by --repair: see docs/check.md)",
        )
    ]


async def _foreign_keys(session: Session) -> list[Finding]:
    rows = await session.all("PRAGMA foreign_key_check")
    if not rows:
        return [Finding(None, "ok", "no foreign key violations")]
    counts: dict[tuple[str, str], int] = {}
    for table, _rowid, parent, _fkid in rows:
        counts[(table, parent)] = counts.get((table, parent), 0) + 1
    return [
        Finding(None, "error", f"{plural(n, 'row')} of {table} with no parent row in {parent}")
        for (table, parent), n in sorted(counts.items())
    ]


async def _fts_indexed(session: Session) -> str:
    """SQL true for a record `r` whose collection's documents are full-text indexed (a
    schema may turn that off; stores older than schemas index every collection's)."""
    columns = {row[1] for row in await session.all("PRAGMA table_info(collections)")}
    if "fts" not in columns:
        return "1"
    return "(SELECT fts FROM collections c WHERE c.id = r.collection_id)"


async def _fts(session: Session) -> list[Finding]:
    """The full-text index against the records, read-only: one docsize row per record
    with a document (in a collection that indexes them) and no other (sampled lookups per
    collection check the postings)."""
    indexed = await _fts_indexed(session)
    missing = (
        await session.all(
            f"SELECT count(*) FROM records r WHERE r.document IS NOT NULL AND {indexed} "
            "AND NOT EXISTS (SELECT 1 FROM documents_fts_docsize d WHERE d.id = r.key)"
        )
    )[0][0]
    extra = (
        await session.all(
            "SELECT count(*) FROM documents_fts_docsize d WHERE NOT EXISTS "
            "(SELECT 1 FROM records r WHERE r.key = d.id AND r.document IS NOT NULL "
            f"AND {indexed})"
        )
    )[0][0]
    if not missing and not extra:
        return [Finding(None, "ok", "the full-text index covers every document")]
    return [
        Finding(
            None,
            "error",
            f"the full-text index lacks {plural(missing, 'document')} and holds {extra} "
            "not in the records ($contains filters go wrong): SQLite-level damage, not "
            "repaired by --repair (see docs/check.md)",
        )
    ]


async def fts_integrity_check(session: Session) -> list[Finding]:
    """FTS5's own integrity-check, against the records. It is written as an INSERT, so
    it needs a writable connection and holds SQLite's write lock while it runs."""
    db = await aiosqlite.connect(session.path / DB_FILE, isolation_level=None)
    try:
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await db.execute("BEGIN IMMEDIATE")
        try:
            session.progress.start("FTS5 integrity-check")
            await db.execute(
                "INSERT INTO documents_fts (documents_fts, rank) VALUES ('integrity-check', 1)"
            )
        finally:
            session.progress.done()
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


async def check_rows(
    session: Session, col: Collection, seq: int, dimension: int | None, count: int
) -> tuple[bool, list[Finding]]:
    """The collection's rows in SQLite; False when vectors cannot be read from them."""
    out: list[Finding] = []
    sound = True
    (max_record, max_tombstone), *_ = await session.all(
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
        (bad, first), *_ = await session.all(
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
                    f"{plural(bad, 'record')} with an embedding that is not {dimension} "
                    f"float32 values (e.g. id {first!r}): SQLite-level damage, not repaired",
                )
            )
    (kept,), *_ = await session.all("SELECT record_count FROM collections WHERE id = ?", (col.id,))
    if kept != count:
        out.append(
            Finding(
                col.label,
                "error",
                f"count() says {kept} records, the collection holds {count}: "
                "SQLite-level damage, not repaired",
            )
        )
    (orphans,), *_ = await session.all(
        "SELECT count(*) FROM record_metadata m "
        "WHERE m.collection = (SELECT number FROM collections WHERE id = ?) "
        "AND NOT EXISTS (SELECT 1 FROM records r WHERE r.key = m.key)",
        (col.id,),
    )
    if orphans:
        out.append(
            Finding(
                col.label,
                "error",
                f"{plural(orphans, 'metadata row')} of no record (filters may match records "
                "that do not exist): SQLite-level damage, not repaired",
            )
        )
    dims = f", dimension {dimension}" if dimension is not None else ", no vectors yet"
    out.insert(0, Finding(col.label, "ok", f"{count} records, seq {seq}{dims}"))
    return sound, out


async def check_documents(session: Session, col: Collection, keys: list[int]) -> list[Finding]:
    """Each sampled document is found through the full-text index by a piece of it (in a
    collection whose schema leaves full-text search on)."""
    if await _fts_indexed(session) != "1":
        on = await session.all("SELECT fts FROM collections WHERE id = ?", (col.id,))
        if on and not on[0][0]:
            return []
    rows = await records.rows_by_key(
        session.db,
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
        hit = await session.all(
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
            f"full-text index (e.g. ids {listed(missing)}): $contains filters miss "
            "them (SQLite-level damage, not repaired: see docs/check.md)",
        )
    ]
