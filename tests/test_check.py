"""`achroma check [--repair]`: a healthy store passes, each kind of damage is reported (with
exit code 1), --repair fixes what it can and a second check is clean, and a path that is not
a store is a usage error (exit code 2)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import numpy as np
import pytest

import achroma
from achroma import cli
from achroma.engine import check as checking
from achroma.engine.index_files import IndexFiles

DIM = 4
SIZE = 40


def make_store(path: Path, names: tuple[str, ...] = ("docs", "notes")) -> dict[str, str]:
    """A closed store with one write of SIZE records per collection; name -> collection id."""
    rng = np.random.default_rng(7)
    client = achroma.PersistentClient(path=path)
    ids = {}
    for name in names:
        col = client.create_collection(name, embedding_function=None)
        col.add(
            ids=[f"{name}{i}" for i in range(SIZE)],
            embeddings=rng.random((SIZE, DIM)).tolist(),
            documents=[f"{name} document number {i}" for i in range(SIZE)],
        )
        ids[name] = str(col.id)
    client.close()
    return ids


def run(path: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["check", "--path", str(path), *args])
    out, err = capsys.readouterr()
    return code, out, err


def findings(path: Path) -> list[checking.Finding]:
    return anyio.run(checking.check, path)


def files_of(path: Path, collection_id: str) -> Iterator[Path]:
    return (path / "indexes").glob(f"{collection_id}.*")


def graph_file(path: Path, collection_id: str) -> Path:
    return next((path / "indexes").glob(f"{collection_id}.*.usearch"))


def assert_repaired(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """--repair fixes everything (exit 0), and a check afterwards is clean."""
    code, out, _ = run(path, "--repair", capsys=capsys)
    assert code == 0, out
    assert "repaired " in out and "summary: repaired" in out
    code, again, _ = run(path, capsys=capsys)
    assert code == 0, again
    assert "summary: healthy" in again
    return out


def test_a_healthy_store_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_store(tmp_path)
    code, out, err = run(tmp_path, capsys=capsys)
    assert code == 0, out
    assert out.count("self-query recall 1.000 (40/40 sampled records found)") == 2
    assert "2 collections, 80 records" in out
    assert out.splitlines()[-1] == "summary: healthy"
    assert err == ""  # no progress bars when stderr is not a terminal
    found = findings(tmp_path)
    assert not [f for f in found if f.problem]
    assert {f.collection for f in found} == {None, "docs", "notes"}


def test_a_deleted_graph_file_is_found_and_rebuilt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = make_store(tmp_path)
    graph = graph_file(tmp_path, ids["docs"])
    graph.unlink()
    code, out, _ = run(tmp_path, capsys=capsys)
    assert code == 1
    assert f"error    docs: saved index unusable: indexes/{graph.name}" in out
    assert "is missing" in out
    assert "summary: 1 error; --repair fixes 1 of them" in out
    [problem] = [f for f in findings(tmp_path) if f.problem]
    assert (problem.collection, problem.repair, problem.subject) == (
        "docs",
        checking.REBUILD,
        ids["docs"],
    )
    repaired = assert_repaired(tmp_path, capsys)
    assert "repaired docs: rebuilt its index from SQLite (40 records, seq 1)" in repaired


def test_a_deleted_pointer_leaves_strays_and_is_rebuilt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = make_store(tmp_path)
    (tmp_path / "indexes" / f"{ids['notes']}.json").unlink()
    code, out, _ = run(tmp_path, capsys=capsys)
    assert code == 1
    assert "info     notes: no saved index: it is built from SQLite (40 records)" in out
    assert out.count("a generation its pointer does not name") == 2
    assert_repaired(tmp_path, capsys)
    assert len(list(files_of(tmp_path, ids["notes"]))) == 4  # pointer, lock, graph, groups


def test_a_truncated_graph_file_is_found_and_rebuilt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = make_store(tmp_path)
    graph = graph_file(tmp_path, ids["notes"])
    size = graph.stat().st_size
    with open(graph, "r+b") as f:
        f.truncate(size // 2)
    code, out, _ = run(tmp_path, capsys=capsys)
    assert code == 1
    assert f"is {size // 2} bytes, indexes/{ids['notes']}.json says {size} (truncated?)" in out
    assert_repaired(tmp_path, capsys)


def test_an_index_copied_from_another_collection_is_found_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = make_store(tmp_path)
    for f in list(files_of(tmp_path, ids["notes"])):
        f.unlink()
    for f in list(files_of(tmp_path, ids["docs"])):
        shutil.copy(f, f.with_name(f.name.replace(ids["docs"], ids["notes"])))
    code, out, _ = run(tmp_path, capsys=capsys)
    assert code == 1
    # Same size, same seq: the files load and the counts agree, but the graph's nodes are
    # keys SQLite has no vectors for (a graph file holds no vectors: they come from SQLite).
    assert "error    notes: saved index has 40 nodes whose vectors SQLite no longer holds" in out
    assert "recall 1.000" in out  # docs itself is fine
    assert_repaired(tmp_path, capsys)


def test_an_index_ahead_of_its_collection_is_rebuilt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = make_store(tmp_path)
    client = achroma.PersistentClient(path=tmp_path)
    client.get_collection("docs").delete(ids=["docs0"])
    client.close()
    for f in list(files_of(tmp_path, ids["notes"])):
        f.unlink()
    for f in list(files_of(tmp_path, ids["docs"])):
        shutil.copy(f, f.with_name(f.name.replace(ids["docs"], ids["notes"])))
    code, out, _ = run(tmp_path, capsys=capsys)
    assert code == 1
    assert "error    notes: saved index is at seq 2, ahead of the collection's seq 1" in out
    assert_repaired(tmp_path, capsys)


def test_a_vector_changed_behind_the_index_is_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_store(tmp_path)
    db = sqlite3.connect(tmp_path / "achroma.sqlite3")
    with db:  # the vector moves a little, and no seq says so
        (blob,) = db.execute("SELECT embedding FROM records WHERE id = 'docs5'").fetchone()
        moved = np.frombuffer(blob, dtype=np.float32) + np.float32(0.01)
        db.execute("UPDATE records SET embedding = ? WHERE id = 'docs5'", (moved.tobytes(),))
    db.close()
    code, out, _ = run(tmp_path, capsys=capsys)
    assert code == 1
    # The graph file keeps each node's vector hash, not the vector: the node is stale.
    assert "error    docs: saved index has 1 node whose vectors SQLite no longer holds" in out
    assert_repaired(tmp_path, capsys)


def test_an_index_behind_sqlite_is_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_store(tmp_path)
    # Another client has the store open and has written since the index was saved.
    client = achroma.PersistentClient(path=tmp_path)
    try:
        col = client.get_collection("docs")
        col.add(ids=["new1", "new2"], embeddings=[[0.5] * DIM, [0.25] * DIM])
        col.delete(ids=["docs3"])
        code, out, _ = run(tmp_path, capsys=capsys)
    finally:
        client.close()
    assert code == 0, out
    assert (
        "info     docs: saved index behind by 2 writes (saved at seq 1, collection at seq 3): "
        "caught up on next open" in out
    )
    assert (
        "docs: saved index at seq 1, caught up to 3, holds all 41 records; self-query recall 1.000"
        in out
    )
    code, out, _ = run(tmp_path, capsys=capsys)  # closing saved it
    assert code == 0 and "saved index behind" not in out


def test_stray_files_are_found_and_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = make_store(tmp_path)
    indexes = tmp_path / "indexes"
    tmp = indexes / f"{ids['docs']}.0123456789abcdef.usearch.tmp"
    tmp.write_bytes(b"half a save")
    orphan = indexes / "00000000-dead-beef-0000-000000000000.json"
    orphan.write_text("{}")
    code, out, _ = run(tmp_path, capsys=capsys)
    assert code == 1
    assert f"warning  store: indexes/{tmp.name}: leftover temporary file" in out
    assert (
        f"warning  store: indexes/{orphan.name}: stray file: its collection does not exist" in out
    )
    assert "summary: 2 warnings; --repair fixes 2 of them" in out
    repaired = assert_repaired(tmp_path, capsys)
    assert f"repaired store: indexes/{tmp.name}: removed" in repaired
    assert not tmp.exists() and not orphan.exists()
    assert graph_file(tmp_path, ids["docs"]).exists()


def test_sqlite_damage_is_reported_and_not_repaired(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = make_store(tmp_path)
    db = sqlite3.connect(tmp_path / "achroma.sqlite3")
    with db:  # foreign keys are off on this connection: it can break them
        db.execute("UPDATE records SET embedding = x'0000' WHERE id = 'docs5'")
        db.execute(
            "INSERT INTO record_metadata (key, collection, name, kind, is_list, value) "
            "VALUES (999999, (SELECT number FROM collections WHERE id = ?), 'x', 's', 0, 'y')",
            (ids["notes"],),
        )
        key = db.execute("SELECT key FROM records WHERE id = 'notes7'").fetchone()[0]
        db.execute("DELETE FROM documents_fts_docsize WHERE id = ?", (key,))
    db.close()
    code, out, _ = run(tmp_path, "--repair", "--fts-integrity", capsys=capsys)
    assert code == 1
    assert "error    store: FTS5 integrity-check: database disk image is malformed" in out
    assert "docs: 1 record with an embedding that is not 4 float32 values (e.g. id 'docs5')" in out
    assert "notes: 1 metadata row of no record" in out
    assert "1 row of record_metadata with no parent row in records" in out
    assert "the full-text index lacks 1 document and holds 0 not in the records" in out
    assert "SQLite-level damage is not repaired (see docs/check.md)" in out.splitlines()[-1]
    assert "Traceback" not in out


def test_a_record_count_that_disagrees_with_the_records_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = make_store(tmp_path)
    with sqlite3.connect(tmp_path / "achroma.sqlite3") as db:
        db.execute(
            "UPDATE collections SET record_count = record_count + 2 WHERE id = ?", (ids["docs"],)
        )
    db.close()
    code, out, _ = run(tmp_path, capsys=capsys)
    assert code == 1
    (line,) = [line for line in out.splitlines() if "count() says" in line]
    assert "docs: count() says" in line and "SQLite-level damage" in line


def test_progress_bars_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = make_store(tmp_path, ("docs",))
    graph_file(tmp_path, ids["docs"]).unlink()
    monkeypatch.setattr(checking, "REBUILD_SLICE", 16)  # a rebuild of several slices
    code, out, err = run(tmp_path, "--repair", "--progress", capsys=capsys)
    assert code == 0, out
    assert "rebuilding docs [" in err and "40/40 100%" in err
    assert "docs: self-queries [" in err
    assert "\r" in err and "[" not in out


def test_index_files_problem_is_none_for_a_sound_save(tmp_path: Path) -> None:
    ids = make_store(tmp_path, ("docs",))
    files = IndexFiles(tmp_path / "indexes", ids["docs"])
    assert files.problem(DIM, "l2") is None
    assert graph_file(tmp_path, ids["docs"]).name == f"{ids['docs']}.{files.generation()}.usearch"


def test_index_files_problem_names_the_file_that_load_refuses(tmp_path: Path) -> None:
    ids = make_store(tmp_path, ("docs",))
    files = IndexFiles(tmp_path / "indexes", ids["docs"])
    groups = next((tmp_path / "indexes").glob(f"{ids['docs']}.*.npz"))
    size = groups.stat().st_size
    with open(groups, "r+b") as f:
        f.truncate(size - 1)
    assert files.problem(DIM, "l2") == (
        f"indexes/{groups.name} is {size - 1} bytes, indexes/{ids['docs']}.json says {size} "
        "(truncated?)"
    )
    assert files.load(DIM, "l2") is None


def test_index_files_problem_names_a_mismatched_collection(tmp_path: Path) -> None:
    ids = make_store(tmp_path, ("docs",))
    files = IndexFiles(tmp_path / "indexes", ids["docs"])
    assert (
        files.problem(DIM + 1, "l2")
        == f"it was saved for dimension {DIM}, the collection has {DIM + 1}"
    )
    assert files.problem(DIM, "ip") == "it was saved for space 'l2', the collection uses 'ip'"
    assert files.load(DIM, "ip") is None


def test_index_files_problem_says_the_pointer_is_missing(tmp_path: Path) -> None:
    ids = make_store(tmp_path, ("docs",))
    files = IndexFiles(tmp_path / "indexes", ids["docs"])
    files.pointer.unlink()
    assert files.problem(DIM, "l2") == f"indexes/{ids['docs']}.json is missing"
    assert files.generation() is None


def test_a_path_that_is_not_a_store_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(tmp_path / "missing", capsys=capsys)
    assert (code, out) == (2, "")
    assert err == f"achroma check: {tmp_path / 'missing'} does not exist\n"
    code, _, err = run(tmp_path, capsys=capsys)
    assert code == 2
    assert "is not an achroma store (there is no achroma.sqlite3 in it)" in err
    sqlite3.connect(tmp_path / "achroma.sqlite3").execute("CREATE TABLE t (x)").connection.close()
    code, _, err = run(tmp_path, capsys=capsys)
    assert code == 2 and "has no achroma tables" in err
    assert not (tmp_path / "indexes").exists()  # nothing was created


def test_an_unreadable_database_is_damage_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "achroma.sqlite3").write_bytes(b"not a database at all" * 100)
    code, out, _ = run(tmp_path, capsys=capsys)
    assert code == 1
    assert "error    store: achroma.sqlite3 cannot be read (file is not a database)" in out


def test_the_command_runs_as_python_m_achroma(tmp_path: Path) -> None:
    make_store(tmp_path, ("docs",))
    done = subprocess.run(
        [sys.executable, "-m", "achroma", "check", "--path", str(tmp_path), "--sample", "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "self-query recall 1.000 (5/5 sampled records found)" in done.stdout
    assert done.stdout.splitlines()[-1] == "summary: healthy"
