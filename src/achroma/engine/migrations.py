"""The SQLite schema, versioned through `PRAGMA user_version` with forward-only migrations."""

from __future__ import annotations

import sqlite3

import aiosqlite
import anyio

# MIGRATIONS[i] takes a database from user_version i to i + 1. Never edit a released step:
# append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE tenants (
        name TEXT PRIMARY KEY
    );
    CREATE TABLE databases (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        tenant TEXT NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
        UNIQUE (tenant, name)
    );
    CREATE TABLE collections (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        database_id TEXT NOT NULL REFERENCES databases(id) ON DELETE CASCADE,
        metadata TEXT,
        configuration TEXT NOT NULL,
        dimension INTEGER,
        version INTEGER NOT NULL DEFAULT 0,
        UNIQUE (database_id, name)
    );
    INSERT INTO tenants (name) VALUES ('default_tenant');
    INSERT INTO databases (id, name, tenant)
        VALUES ('00000000-0000-0000-0000-000000000000', 'default_database', 'default_tenant');
    """,
    # v2: records. `key` is the record's row and its USearch key; AUTOINCREMENT never reuses a
    # key, so key order is insertion order. `seq` numbers write batches per collection: the
    # vector index is caught up from rows and tombstones newer than the seq it has seen.
    """
    ALTER TABLE collections ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE records (
        key INTEGER PRIMARY KEY AUTOINCREMENT,
        collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        embedding BLOB NOT NULL,
        document TEXT,
        uri TEXT,
        metadata TEXT,
        UNIQUE (collection_id, id)
    );
    CREATE INDEX records_by_seq ON records (collection_id, seq);
    -- One row per metadata value (one per element for lists), for filtering.
    -- kind: 's' str, 'i' int, 'f' float, 'b' bool.
    CREATE TABLE record_metadata (
        key INTEGER NOT NULL REFERENCES records(key) ON DELETE CASCADE,
        collection_id TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        is_list INTEGER NOT NULL,
        value
    );
    CREATE INDEX record_metadata_by_value
        ON record_metadata (collection_id, name, kind, value);
    CREATE INDEX record_metadata_by_key ON record_metadata (key);
    CREATE TABLE tombstones (
        collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        key INTEGER NOT NULL,
        seq INTEGER NOT NULL
    );
    CREATE INDEX tombstones_by_seq ON tombstones (collection_id, seq);
    """,
    # v3: a trigram full-text index over documents, so `$contains` of 3+ characters is an
    # index lookup (case-sensitive, like Chroma's) instead of a scan. Triggers keep it in step.
    """
    CREATE VIRTUAL TABLE documents_fts USING fts5(
        document, content='records', content_rowid='key',
        tokenize='trigram case_sensitive 1'
    );
    CREATE TRIGGER records_fts_insert AFTER INSERT ON records
    WHEN new.document IS NOT NULL BEGIN
        INSERT INTO documents_fts (rowid, document) VALUES (new.key, new.document);
    END;
    CREATE TRIGGER records_fts_delete AFTER DELETE ON records
    WHEN old.document IS NOT NULL BEGIN
        INSERT INTO documents_fts (documents_fts, rowid, document)
            VALUES ('delete', old.key, old.document);
    END;
    CREATE TRIGGER records_fts_update AFTER UPDATE OF document ON records BEGIN
        INSERT INTO documents_fts (documents_fts, rowid, document)
            SELECT 'delete', old.key, old.document WHERE old.document IS NOT NULL;
        INSERT INTO documents_fts (rowid, document)
            SELECT new.key, new.document WHERE new.document IS NOT NULL;
    END;
    INSERT INTO documents_fts (documents_fts) VALUES ('rebuild');
    """,
    # v4: records of a collection in key (insertion) order, so get/peek with a limit reads
    # only the rows it returns instead of sorting the whole collection.
    """
    CREATE INDEX records_by_collection ON records (collection_id);
    """,
    # v5: the terms of sparse-vector metadata values, one row per (record, key, term), for
    # sparse Knn and BM25: a query reads the posting lists of its own terms only.
    """
    CREATE TABLE sparse_postings (
        key INTEGER NOT NULL REFERENCES records(key) ON DELETE CASCADE,
        collection_id TEXT NOT NULL,
        name TEXT NOT NULL,
        term INTEGER NOT NULL,
        value REAL NOT NULL
    );
    CREATE INDEX sparse_postings_by_term ON sparse_postings (collection_id, name, term);
    CREATE INDEX sparse_postings_by_key ON sparse_postings (key);
    """,
    # v6: each collection's index schema (Chroma's JSON; NULL for collections made before
    # it, which read the schema their configuration implies), and whether its documents are
    # full-text indexed (`fts`, fixed at creation by the schema). The FTS index of v3 is
    # remade over a view of the documents of collections with `fts` on (so that FTS5's
    # 'rebuild' and 'integrity-check' agree with it), and its triggers skip the others; a
    # collection's records are deleted before it, so that the delete trigger still reads
    # its flag.
    """
    ALTER TABLE collections ADD COLUMN schema TEXT;
    ALTER TABLE collections ADD COLUMN fts INTEGER NOT NULL DEFAULT 1;
    DROP TRIGGER records_fts_insert;
    DROP TRIGGER records_fts_delete;
    DROP TRIGGER records_fts_update;
    DROP TABLE documents_fts;
    CREATE VIEW documents_fts_content AS
        SELECT r.key AS key, r.document AS document FROM records r
        WHERE (SELECT fts FROM collections c WHERE c.id = r.collection_id);
    CREATE VIRTUAL TABLE documents_fts USING fts5(
        document, content='documents_fts_content', content_rowid='key',
        tokenize='trigram case_sensitive 1'
    );
    INSERT INTO documents_fts (documents_fts) VALUES ('rebuild');
    CREATE TRIGGER records_fts_insert AFTER INSERT ON records
    WHEN new.document IS NOT NULL
        AND (SELECT fts FROM collections WHERE id = new.collection_id) BEGIN
        INSERT INTO documents_fts (rowid, document) VALUES (new.key, new.document);
    END;
    CREATE TRIGGER records_fts_delete AFTER DELETE ON records
    WHEN old.document IS NOT NULL
        AND (SELECT fts FROM collections WHERE id = old.collection_id) BEGIN
        INSERT INTO documents_fts (documents_fts, rowid, document)
            VALUES ('delete', old.key, old.document);
    END;
    CREATE TRIGGER records_fts_update AFTER UPDATE OF document ON records
    WHEN (SELECT fts FROM collections WHERE id = new.collection_id) BEGIN
        INSERT INTO documents_fts (documents_fts, rowid, document)
            SELECT 'delete', old.key, old.document WHERE old.document IS NOT NULL;
        INSERT INTO documents_fts (rowid, document)
            SELECT new.key, new.document WHERE new.document IS NOT NULL;
    END;
    CREATE TRIGGER collections_delete_records BEFORE DELETE ON collections BEGIN
        DELETE FROM records WHERE collection_id = old.id;
    END;
    """,
    # v7: fork lineages. `lineage` is the id of the collection a fork's line started from
    # (NULL: the collection started its own), so `fork_count` counts the rest of the line.
    """
    ALTER TABLE collections ADD COLUMN lineage TEXT;
    CREATE INDEX collections_by_lineage ON collections (lineage);
    """,
    # v8: each collection's record count, kept by every write in its own transaction, so
    # count() reads one row instead of counting the collection (counted here once).
    """
    ALTER TABLE collections ADD COLUMN record_count INTEGER NOT NULL DEFAULT 0;
    UPDATE collections SET record_count =
        (SELECT count(*) FROM records WHERE records.collection_id = collections.id);
    """,  # v9: collections get a small integer `number`, and each metadata row names its
    # collection by it instead of by the 36-character id (about a third of the rows' bytes,
    # twice: in the table and in its index). A trigger numbers each new collection (its
    # rowid: a deleted collection's metadata rows go with its records, so a reused number
    # finds none).
    """
    ALTER TABLE collections ADD COLUMN number INTEGER;
    UPDATE collections SET number = rowid;
    CREATE UNIQUE INDEX collections_by_number ON collections (number);
    CREATE TRIGGER collections_number AFTER INSERT ON collections
    WHEN new.number IS NULL BEGIN
        UPDATE collections SET number = new.rowid WHERE rowid = new.rowid;
    END;
    CREATE TABLE record_metadata_v9 (
        key INTEGER NOT NULL REFERENCES records(key) ON DELETE CASCADE,
        collection INTEGER NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        is_list INTEGER NOT NULL,
        value
    );
    INSERT INTO record_metadata_v9 (key, collection, name, kind, is_list, value)
        SELECT m.key, c.number, m.name, m.kind, m.is_list, m.value
        FROM record_metadata m JOIN collections c ON c.id = m.collection_id
        ORDER BY m.rowid;
    DROP TABLE record_metadata;
    ALTER TABLE record_metadata_v9 RENAME TO record_metadata;
    CREATE INDEX record_metadata_by_value ON record_metadata (collection, name, kind, value);
    CREATE INDEX record_metadata_by_key ON record_metadata (key);
    """,
    # v10: the trigram full-text index keeps no positions (detail=none): about half its
    # size. `$contains` then matches every trigram of its text (an AND, not a phrase) and
    # rechecks each candidate with instr, so its results stay exact.
    """
    DROP TRIGGER records_fts_insert;
    DROP TRIGGER records_fts_delete;
    DROP TRIGGER records_fts_update;
    DROP TABLE documents_fts;
    CREATE VIRTUAL TABLE documents_fts USING fts5(
        document, content='documents_fts_content', content_rowid='key',
        tokenize='trigram case_sensitive 1', detail=none
    );
    INSERT INTO documents_fts (documents_fts) VALUES ('rebuild');
    CREATE TRIGGER records_fts_insert AFTER INSERT ON records
    WHEN new.document IS NOT NULL
        AND (SELECT fts FROM collections WHERE id = new.collection_id) BEGIN
        INSERT INTO documents_fts (rowid, document) VALUES (new.key, new.document);
    END;
    CREATE TRIGGER records_fts_delete AFTER DELETE ON records
    WHEN old.document IS NOT NULL
        AND (SELECT fts FROM collections WHERE id = old.collection_id) BEGIN
        INSERT INTO documents_fts (documents_fts, rowid, document)
            VALUES ('delete', old.key, old.document);
    END;
    CREATE TRIGGER records_fts_update AFTER UPDATE OF document ON records
    WHEN (SELECT fts FROM collections WHERE id = new.collection_id) BEGIN
        INSERT INTO documents_fts (documents_fts, rowid, document)
            SELECT 'delete', old.key, old.document WHERE old.document IS NOT NULL;
        INSERT INTO documents_fts (rowid, document)
            SELECT new.key, new.document WHERE new.document IS NOT NULL;
    END;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


async def migrate(db: aiosqlite.Connection) -> None:
    """Bring the database to SCHEMA_VERSION, one transaction per step.

    Each step reads `user_version` inside its own BEGIN IMMEDIATE, so when several
    connections (or processes) migrate at once, each step runs exactly once: whoever gets the
    write lock second sees the version the first one left. A failed step is rolled back; the
    connection is never left inside a transaction.
    """
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    if row is not None and int(row[0]) == SCHEMA_VERSION:
        # Current already (versions only grow): opening needs no write lock. Any decision
        # to migrate is made below, inside the write transaction.
        return
    while True:
        with anyio.CancelScope(shield=True):  # never left begun behind a cancelled await
            await db.execute("BEGIN IMMEDIATE")
        try:
            async with db.execute("PRAGMA user_version") as cur:
                row = await cur.fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"this store has schema version {version}, newer than this achroma "
                    f"({SCHEMA_VERSION}); upgrade achroma to open it"
                )
            if version < SCHEMA_VERSION:
                # Statement by statement: executescript would commit the transaction first.
                for statement in _statements(MIGRATIONS[version]):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {version + 1}")
            with anyio.CancelScope(shield=True):
                await db.execute("COMMIT")
        except BaseException:
            with anyio.CancelScope(shield=True):
                if db.in_transaction:
                    await db.execute("ROLLBACK")
            raise
        if version >= SCHEMA_VERSION:
            return


def _statements(script: str) -> list[str]:
    """The SQL statements of a script (a trigger body's `;` does not end its statement)."""
    statements, pending = [], ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \n\t;"):
        raise ValueError(f"incomplete SQL statement in a migration: {pending.strip()!r}")
    return statements
