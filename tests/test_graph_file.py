"""The saved graph holds no live vectors (format 3, `graph_file`): they come back from SQLite
on open. Reopened indexes answer exactly as before; format 2 files (vectors included) of
earlier versions still open; nodes whose records changed after the save never survive."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import shutil
import sqlite3
import uuid
import zlib
from pathlib import Path

import anyio
import numpy as np
import pytest

import achroma
from achroma.engine import graph_file, reads
from achroma.engine import index as index_module
from achroma.engine.graph_file import GraphFile, VectorSource
from achroma.engine.index import VectorIndex
from achroma.engine.index_files import HEAD_BYTES, IndexFiles

pytestmark = pytest.mark.anyio

DIM = 16
N = 3000  # over EXACT_LIMIT: searched through the graph


def data(n: int, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


def source_of(ks: np.ndarray, vs: np.ndarray) -> VectorSource:
    async def read(after_key: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
        chosen = np.flatnonzero(ks > after_key)[:limit]
        return ks[chosen], vs[chosen]

    return read


async def filled(files: IndexFiles, ks: np.ndarray, vs: np.ndarray) -> VectorIndex:
    index = VectorIndex(DIM, {"space": "cosine"}, files)
    async with index.lock.write():
        await index.upsert(ks, vs)
        index.seq = 1
    return index


async def results(index: VectorIndex, queries: np.ndarray) -> tuple[list[list[int]], np.ndarray]:
    async with index.lock.read():
        found, distances = await index.search(queries, 10)
    return found.tolist(), distances


async def test_a_saved_graph_holds_no_live_vectors_and_reloads_identically(tmp_path: Path) -> None:
    ks, vs = np.arange(1, N + 1, dtype=np.uint64), data(N)
    files = IndexFiles(tmp_path, "c")
    index = await filled(files, ks, vs)
    async with index.lock.write():  # removed nodes stay in the graph: their rows are kept
        await index.remove(ks[:100])
    async with index.lock.read():
        await index.save()
    graph = next(tmp_path.glob("c.*.usearch"))
    # USearch's file, less the live vectors, plus a 4-byte hash a slot and the kept rows' slots
    live_vectors = (N - 100) * DIM * 4
    full = index._graph.serialized_length
    assert graph.stat().st_size == full - live_vectors + 4 * N + 8 * 100 + 32 - 8
    parsed = GraphFile(graph.read_bytes())
    assert len(parsed.kept) == 100
    assert json.loads(files.pointer.read_text())["format"] == 3
    loaded = VectorIndex(DIM, {"space": "cosine"}, files)
    assert await loaded.load(source_of(ks[100:], vs[100:]))
    assert not loaded.stale_left()
    queries = data(50, seed=9)
    before, after = await results(index, queries), await results(loaded, queries)
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1])


async def test_a_loaded_graph_is_viewed_until_its_first_write(tmp_path: Path) -> None:
    ks, vs = np.arange(1, N + 1, dtype=np.uint64), data(N)
    files = IndexFiles(tmp_path, "c")
    index = await filled(files, ks, vs)
    async with index.lock.read():
        await index.save()
    loaded = VectorIndex(DIM, {"space": "cosine"}, files)
    assert await loaded.load(source_of(ks, vs))
    viewed = loaded._graph
    gc.collect()
    assert viewed in index_module._BACKING  # the buffer it reads lives as long as it does
    queries = data(50, seed=9)
    assert (await results(loaded, queries))[0] == (await results(index, queries))[0]
    new = data(1, seed=21)
    async with loaded.lock.write():
        await loaded.remove(ks[:10])
        await loaded.upsert(np.asarray([N + 1], dtype=np.uint64), new)
    assert loaded._graph is not viewed
    del viewed
    gc.collect()
    found, distances = await results(loaded, np.vstack([new, vs[:10]]))
    assert found[0][0] == N + 1 and distances[0][0] < 1e-5
    assert not {k for row in found for k in row} & set(range(1, 11))


def save_format_2(files: IndexFiles, index: VectorIndex) -> None:
    """Save as achroma did before graph files (USearch's own file, vectors included)."""
    files.dir.mkdir(exist_ok=True)
    generation = uuid.uuid4().hex[:16]
    graph = files.dir / f"{files.id}.{generation}.usearch"
    index._graph.save(str(graph))
    head = graph.read_bytes()[:HEAD_BYTES]
    buffer = io.BytesIO()
    np.savez(buffer, **index._groups.to_arrays())
    raw = buffer.getvalue()
    (files.dir / f"{files.id}.{generation}.npz").write_bytes(raw)
    pointer = {
        "seq": index.seq,
        "dimension": index.dimension,
        "space": index.space,
        "churn": index.churn,
        "format": 2,
        "generation": generation,
        "nodes": index.nodes,
        "graph_bytes": graph.stat().st_size,
        "graph_head_crc": zlib.crc32(head),
        "groups_bytes": len(raw),
        "groups_crc": zlib.crc32(raw),
    }
    files.pointer.write_text(json.dumps(pointer))


async def test_a_format_2_index_still_opens_and_is_saved_as_format_3(tmp_path: Path) -> None:
    ks, vs = np.arange(1, N + 1, dtype=np.uint64), data(N)
    files = IndexFiles(tmp_path, "c")
    index = await filled(files, ks, vs)
    save_format_2(files, index)

    def no_sqlite(*_: object) -> object:
        raise AssertionError("a format 2 file holds its vectors")

    loaded = VectorIndex(DIM, {"space": "cosine"}, files)
    assert await loaded.load(no_sqlite)  # type: ignore[arg-type]
    queries = data(50, seed=9)
    before, after = await results(index, queries), await results(loaded, queries)
    assert before[0] == after[0]
    async with loaded.lock.write():
        await loaded.upsert(np.asarray([N + 1], dtype=np.uint64), data(1, seed=5))
        loaded.seq = 2
    async with loaded.lock.read():
        await loaded.save()
    assert json.loads(files.pointer.read_text())["format"] == 3
    assert len(list(tmp_path.glob("c.*.usearch"))) == 1


async def test_a_vector_that_is_not_the_one_saved_is_never_served(tmp_path: Path) -> None:
    ks, vs = np.arange(1, N + 1, dtype=np.uint64), data(N)
    files = IndexFiles(tmp_path, "c")
    index = await filled(files, ks, vs)
    async with index.lock.read():
        await index.save()
    changed = vs.copy()
    changed[7] += np.float32(0.5)  # with no seq saying so
    loaded = VectorIndex(DIM, {"space": "cosine"}, files)
    assert await loaded.load(source_of(ks, changed))
    assert loaded.stale_left()  # the owner rebuilds it


async def test_assembling_in_many_slices_checks_every_row(tmp_path: Path) -> None:
    ks, vs = np.arange(1, N + 1, dtype=np.uint64), data(N)
    vs[5, :3] = 0.0
    files = IndexFiles(tmp_path, "c")
    index = await filled(files, ks, vs)
    async with index.lock.read():
        await index.save()
    stored = vs.copy()
    stored[5, :3] = -0.0  # equal to the graph's 0.0: not a change
    changed = [7, 1000, 2999]  # in the first slice, a later one and the last
    stored[changed] += np.float32(0.5)
    added = np.arange(N + 1, N + 301, dtype=np.uint64)  # records the graph never had
    source = source_of(np.concatenate([ks, added]), np.vstack([stored, data(300, seed=4)]))
    saved = files.load(DIM, "cosine")
    assert saved is not None and saved.stripped is not None
    assembled = await saved.stripped.assemble(source, 170)
    assert sorted(saved.stripped.missing.tolist()) == [int(ks[i]) for i in changed]
    whole = np.frombuffer(bytes(index._graph.save()), dtype=np.uint8)
    rows = whole[8 : 8 + N * DIM * 4].reshape(N, DIM * 4).copy()
    rows[np.isin(saved.stripped.keys, ks[changed])] = 0  # left zero: stale
    np.testing.assert_array_equal(assembled[8 : 8 + N * DIM * 4].reshape(N, -1), rows)


async def test_a_failed_read_fails_the_assembly(tmp_path: Path) -> None:
    ks, vs = np.arange(1, N + 1, dtype=np.uint64), data(N)
    files = IndexFiles(tmp_path, "c")
    index = await filled(files, ks, vs)
    async with index.lock.read():
        await index.save()
    inner = source_of(ks, vs)

    async def failing(after_key: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
        if after_key >= 1000:
            raise RuntimeError("the read failed")
        return await inner(after_key, limit)

    saved = files.load(DIM, "cosine")
    assert saved is not None and saved.stripped is not None
    with pytest.raises(RuntimeError, match="the read failed"):
        await saved.stripped.assemble(failing, 500)
    loaded = VectorIndex(DIM, {"space": "cosine"}, files)
    assert not await loaded.load(failing)  # the owner rebuilds it from SQLite


async def test_an_assembly_that_stops_leaves_no_read_running(tmp_path: Path) -> None:
    ks, vs = np.arange(1, N + 1, dtype=np.uint64), data(N)
    files = IndexFiles(tmp_path, "c")
    index = await filled(files, ks, vs)
    async with index.lock.read():
        await index.save()
    inner, reads_started = source_of(ks, vs), []

    async def slow(after_key: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
        reads_started.append(asyncio.current_task())
        if after_key >= 1000:
            await anyio.sleep(60)
        keys, vectors = await inner(after_key, limit)
        return keys, vectors.astype(np.float64) if after_key == 500 else vectors

    saved = files.load(DIM, "cosine")
    assert saved is not None and saved.stripped is not None
    # Placing the slice after key 500 fails while the next one is being read.
    with pytest.raises(graph_file.GraphFileError), anyio.fail_after(30):
        await saved.stripped.assemble(slow, 500)
    assert len(reads_started) == 3
    with anyio.move_on_after(0.5) as scope:  # cancelled while it waits for a read
        await saved.stripped.assemble(lambda _, limit: slow(1000, limit), 500)
    assert scope.cancelled_caught
    assert all(task is not None and task.done() for task in reads_started)


def _nearest_ids(path: Path, queries: np.ndarray) -> tuple[list[list[str]], list[list[float]]]:
    client = achroma.PersistentClient(path=path)
    try:
        col = client.get_collection("col")
        got = col.query(query_embeddings=queries, n_results=10, include=["distances"])
        return got["ids"], got["distances"]  # type: ignore[return-value]
    finally:
        client.close()


def test_a_collection_reopens_with_identical_query_results(tmp_path: Path) -> None:
    vs = data(N)
    client = achroma.PersistentClient(path=tmp_path)
    col = client.create_collection("col", embedding_function=None)
    ids = [f"r{i}" for i in range(N)]
    for start in range(0, N, 1000):
        col.add(ids=ids[start : start + 1000], embeddings=vs[start : start + 1000])
    col.delete(ids=ids[:50])
    col.update(ids=ids[50:60], embeddings=data(10, seed=11))
    queries = data(30, seed=9)
    before = col.query(query_embeddings=queries, n_results=10, include=["distances"])
    client.close()
    ids_after, distances_after = _nearest_ids(tmp_path, queries)
    assert ids_after == before["ids"]
    assert distances_after == before["distances"]
    ids_again, _ = _nearest_ids(tmp_path, queries)  # reopened from the save of that open
    assert ids_again == before["ids"]


def test_a_graph_saved_before_deletes_and_updates_is_caught_up(tmp_path: Path) -> None:
    vs = data(N)
    ids = [f"r{i}" for i in range(N)]
    client = achroma.PersistentClient(path=tmp_path)
    col = client.create_collection("col", embedding_function=None)
    col.add(ids=ids, embeddings=vs)
    client.close()
    saved = tmp_path / "saved"
    shutil.copytree(tmp_path / "indexes", saved)
    moved = data(20, seed=12)
    client = achroma.PersistentClient(path=tmp_path)
    col = client.get_collection("col")
    col.delete(ids=ids[:20])
    col.update(ids=ids[20:40], embeddings=moved)
    client.close()
    # As if the process died before saving after those writes.
    shutil.rmtree(tmp_path / "indexes")
    shutil.copytree(saved, tmp_path / "indexes")
    found, distances = _nearest_ids(tmp_path, np.vstack([moved, vs[:20]]))
    assert [row[0] for row in found[:20]] == ids[20:40]
    assert all(d[0] < 1e-5 for d in distances[:20])
    assert not {i for row in found for i in row} & set(ids[:20])


def _row_a_record(
    conn: sqlite3.Connection, cid: str, after: int, limit: int, dim: int, seq: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    rows = conn.execute(
        "SELECT key, embedding FROM records WHERE key > ? AND collection_id = ? AND seq <= ? "
        "ORDER BY key LIMIT ?",
        (after, cid, 2**63 - 1 if seq is None else seq, limit),
    ).fetchall()
    vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(-1, dim)
    return np.asarray([r[0] for r in rows], dtype=np.uint64), vectors


def test_a_packed_slice_reads_what_a_row_a_record_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = achroma.PersistentClient(path=tmp_path)
    cols = [client.create_collection(name, embedding_function=None) for name in ("one", "two")]
    for start in range(0, 600, 100):  # the collections' keys interleave
        for col in cols:
            ids = [f"r{i}" for i in range(start, start + 100)]
            col.add(ids=ids, embeddings=data(100, seed=start + len(col.name)))
    cols[0].update(ids=[f"r{i}" for i in range(0, 600, 7)], embeddings=data(86, seed=8))
    cols[0].delete(ids=[f"r{i}" for i in range(3, 600, 11)])
    client.close()
    conn = sqlite3.connect(tmp_path / "achroma.sqlite3")
    try:
        for (cid,) in conn.execute("SELECT id FROM collections").fetchall():
            for after_key, limit, up_to_seq in [(0, 10_000, None), (0, 1, None), (250, 97, 3)]:
                args = (cid, after_key, limit, DIM, up_to_seq)
                keys, vectors = reads.vector_slice(conn, *args)
                want_keys, want_vectors = _row_a_record(conn, *args)
                assert len(want_keys) and keys.tolist() == want_keys.tolist()
                np.testing.assert_array_equal(vectors, want_vectors)
        assert len(reads.vector_slice(conn, cid, 10**9, 5, DIM)[0]) == 0
        monkeypatch.setattr(reads, "_PACKED_SLICE_BYTES", 64 * DIM * 4)
        keys, _ = reads.vector_slice(conn, cid, 0, 10_000, DIM)
        assert keys.tolist() == _row_a_record(conn, cid, 0, 64, DIM)[0].tolist()
    finally:
        conn.close()


def test_slot_keys_reads_the_keys_usearch_wrote() -> None:
    from usearch.index import Index

    graph = Index(ndim=DIM, metric="cos", dtype="f32")
    graph.add(np.arange(10, 10 + N, dtype=np.uint64), data(N))
    graph.remove(np.arange(10, 20, dtype=np.uint64))
    raw = bytes(graph.save())
    rows, row_bytes = np.frombuffer(raw[:8], dtype=np.uint32)
    keys = graph_file.slot_keys(raw, 8 + int(rows) * int(row_bytes), int(rows))
    assert int((keys == graph_file.FREE_KEY).sum()) == 10  # slots of a parallel add: any order
    assert sorted(keys[keys != graph_file.FREE_KEY].tolist()) == list(range(20, 10 + N))
