"""Nothing acknowledged is lost: kill -9 during writes, and stale, missing or corrupt index
files, all recover from SQLite on the next open."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import achroma

DIM = 8

WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import achroma

    client = achroma.PersistentClient(sys.argv[1])
    col = client.get_or_create_collection("crash", embedding_function=None)
    rng = np.random.default_rng(0)
    batch = 0
    while True:
        ids = [f"{batch}-{i}" for i in range(50)]
        col.add(ids=ids, embeddings=rng.standard_normal((50, DIM)),
                metadatas=[{"batch": batch}] * 50)
        print(batch, flush=True)  # acknowledged: add() returned
        batch += 1
    """
).replace("DIM", str(DIM))


def test_acknowledged_adds_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    acknowledged = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < 30 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acknowledged.append(int(line))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(acknowledged) >= 30, "the writer did not get going"

    client = achroma.PersistentClient(path)
    try:
        col = client.get_collection("crash", embedding_function=None)
        ids = [f"{b}-{i}" for b in acknowledged for i in range(50)]
        got = col.get(ids=ids, include=["embeddings"])
        assert len(got["ids"]) == len(ids)
        # The index caught up: every stored vector finds itself.
        probe = got["embeddings"][-5:]
        result = col.query(query_embeddings=probe, n_results=1)
        assert [r[0] for r in result["ids"]] == got["ids"][-5:]
        assert col.count() >= len(ids)
    finally:
        client.close()


def _fill(path: Path, ids: list[str], seed: int) -> np.ndarray:
    client = achroma.PersistentClient(path)
    col = client.get_or_create_collection("idx", embedding_function=None)
    vectors = np.random.default_rng(seed).standard_normal((len(ids), DIM)).astype(np.float32)
    col.add(ids=ids, embeddings=vectors)
    client.close()
    return vectors


def _nearest(path: Path, vectors: np.ndarray) -> list[str]:
    client = achroma.PersistentClient(path)
    try:
        col = client.get_collection("idx", embedding_function=None)
        return [r[0] for r in col.query(query_embeddings=vectors, n_results=1)["ids"]]
    finally:
        client.close()


def _index_files(path: Path) -> list[Path]:
    return sorted((path / "indexes").iterdir())


def test_index_is_saved_on_close(tmp_path: Path) -> None:
    _fill(tmp_path, ["a", "b"], 0)
    names = sorted(f.suffix for f in _index_files(tmp_path))
    assert names == [".json", ".lock", ".npz", ".usearch"]


def test_each_save_writes_a_new_generation_and_removes_the_old(tmp_path: Path) -> None:
    _fill(tmp_path, ["a", "b"], 0)
    first = {f.name for f in _index_files(tmp_path)}
    _fill(tmp_path, ["c"], 1)
    second = {f.name for f in _index_files(tmp_path)}
    assert len(second) == 4
    assert len(first & second) == 2  # the pointer and the lock; the graph files are new


def test_stale_index_file_is_caught_up_from_sqlite(tmp_path: Path) -> None:
    first = _fill(tmp_path, ["a", "b", "c"], 0)
    saved = tmp_path / "saved"
    shutil.copytree(tmp_path / "indexes", saved)
    second = _fill(tmp_path, ["d", "e"], 1)
    # As if the process died before saving the index after the second batch.
    shutil.rmtree(tmp_path / "indexes")
    shutil.copytree(saved, tmp_path / "indexes")
    assert _nearest(tmp_path, np.vstack([first, second])) == ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize(
    "damage", ["delete", "corrupt", "truncate", "flip header byte", "groups", "pointer"]
)
def test_missing_or_corrupt_index_is_rebuilt(tmp_path: Path, damage: str) -> None:
    vectors = _fill(tmp_path, ["a", "b", "c", "d"], 2)
    index_file = next(f for f in _index_files(tmp_path) if f.suffix == ".usearch")
    if damage == "delete":
        index_file.unlink()
    elif damage == "corrupt":
        index_file.write_bytes(b"not an index" * 100)
    elif damage == "truncate":
        index_file.write_bytes(index_file.read_bytes()[:64])
    elif damage == "flip header byte":
        data = bytearray(index_file.read_bytes())
        data[40] ^= 0xFF
        index_file.write_bytes(bytes(data))
    elif damage == "groups":
        next(f for f in _index_files(tmp_path) if f.suffix == ".npz").write_bytes(b"x")
    else:
        next(f for f in _index_files(tmp_path) if f.suffix == ".json").write_text("{")
    # In a child process: a damaged file that got memory-mapped could crash it.
    code = textwrap.dedent(
        f"""
        import numpy as np, achroma
        client = achroma.PersistentClient({str(tmp_path)!r})
        col = client.get_collection("idx", embedding_function=None)
        vectors = np.asarray({vectors.tolist()!r}, dtype=np.float32)
        print([r[0] for r in col.query(query_embeddings=vectors, n_results=1)["ids"]])
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['a', 'b', 'c', 'd']"


def test_deleted_records_never_come_back_from_an_old_index(tmp_path: Path) -> None:
    vectors = _fill(tmp_path, ["a", "b", "c"], 3)
    saved = tmp_path / "saved"
    shutil.copytree(tmp_path / "indexes", saved)
    client = achroma.PersistentClient(tmp_path)
    client.get_collection("idx", embedding_function=None).delete(ids=["a"])
    client.close()
    shutil.rmtree(tmp_path / "indexes")
    shutil.copytree(saved, tmp_path / "indexes")
    assert _nearest(tmp_path, vectors[:1]) != ["a"]


def test_deleting_a_collection_removes_its_index_files(tmp_path: Path) -> None:
    _fill(tmp_path, ["a"], 4)
    client = achroma.PersistentClient(tmp_path)
    client.delete_collection("idx")
    client.close()
    assert _index_files(tmp_path) == []


def test_index_is_saved_during_a_long_stream_of_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from achroma.engine import index

    monkeypatch.setattr(index, "SAVE_AFTER", 100)
    client = achroma.PersistentClient(tmp_path)
    col = client.create_collection("idx", embedding_function=None)
    rng = np.random.default_rng(5)
    for batch in range(4):
        col.add(ids=[f"{batch}-{i}" for i in range(60)], embeddings=rng.standard_normal((60, DIM)))
    # Saved before close: a crash now would only replay the last few batches.
    assert any(f.suffix == ".usearch" for f in _index_files(tmp_path))
    client.close()


def test_a_growing_index_is_saved_each_time_it_doubles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash replays at most about half of the index from SQLite, however long the stream
    of adds (the saved generation is never left behind at the first save)."""
    from achroma.engine import index
    from achroma.engine.index_files import IndexFiles

    monkeypatch.setattr(index, "SAVE_AFTER", 100)
    client = achroma.PersistentClient(tmp_path)
    col = client.create_collection("idx", embedding_function=None)
    rng = np.random.default_rng(6)
    saved = []
    for batch in range(1, 21):
        col.add(ids=[f"{batch}-{i}" for i in range(60)], embeddings=rng.standard_normal((60, DIM)))
        col.count()
        files = IndexFiles(tmp_path / "indexes", str(col.id))
        saved.append(files.saved_seq())
    client.close()
    # 60 vectors a batch: saved at 120, 240, 480 and 960 vectors (batches 2, 4, 8 and 16)
    assert saved[-1] >= 10, saved
    assert sorted(set(saved)) == [0, 2, 4, 8, 16], saved


def test_a_failed_index_update_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Index updates run after the write is acknowledged; if one fails, the index is
    re-opened from SQLite on next use and the acknowledged records are all found."""
    from achroma.engine.index import VectorIndex

    client = achroma.PersistentClient(tmp_path / "chroma")
    try:
        col = client.create_collection("pipelined", embedding_function=None)
        rng = np.random.default_rng(3)
        first = rng.standard_normal((20, DIM)).astype(np.float32)
        col.add(ids=[f"a{i}" for i in range(20)], embeddings=first)
        col.query(query_embeddings=first[:1], n_results=1)  # the index is open

        real_upsert = VectorIndex.upsert
        calls = {"n": 0}

        async def failing_once(self: VectorIndex, keys: np.ndarray, vectors: np.ndarray) -> None:
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("disk on fire")
            await real_upsert(self, keys, vectors)

        monkeypatch.setattr(VectorIndex, "upsert", failing_once)
        second = rng.standard_normal((20, DIM)).astype(np.float32) + 10
        col.add(ids=[f"b{i}" for i in range(20)], embeddings=second)  # acknowledged
        found = col.query(query_embeddings=second, n_results=1, include=[])["ids"]
        assert [row[0] for row in found] == [f"b{i}" for i in range(20)]
        assert calls["n"] >= 2
        assert "index update failed" in caplog.text
    finally:
        client.close()


CHURNER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import achroma

    client = achroma.PersistentClient(sys.argv[1])
    col = client.get_or_create_collection("counted", embedding_function=None)
    rng = np.random.default_rng(int(sys.argv[2]))
    batch = 0
    while True:
        tag = f"{sys.argv[2]}-{batch}"
        col.add(ids=[f"{tag}-{i}" for i in range(40)], embeddings=rng.standard_normal((40, DIM)))
        col.upsert(  # 10 replaced, 10 new
            ids=[f"{tag}-{i}" for i in range(30, 50)], embeddings=rng.standard_normal((20, DIM))
        )
        col.delete(ids=[f"{tag}-{i}" for i in range(0, 50, 3)])  # some of them, and missing
        print(batch, flush=True)
        batch += 1
    """
).replace("DIM", str(DIM))


def test_count_is_exact_after_sigkill_at_any_point(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    for round_ in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", CHURNER, str(path), str(round_)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline(), "the writer did not get going"
        time.sleep(0.01 + 0.03 * round_)  # somewhere inside a write
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        with sqlite3.connect(path / "achroma.sqlite3") as con:
            (rows,) = con.execute("SELECT count(*) FROM records").fetchone()
        client = achroma.PersistentClient(path)
        try:
            col = client.get_collection("counted", embedding_function=None)
            assert col.count() == rows == len(col.get(include=[])["ids"])
        finally:
            client.close()
