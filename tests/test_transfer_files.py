"""Export files (`achroma export` / `achroma import`): JSON lines, and Parquet when pyarrow is
installed, round-tripping exactly."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

import achroma
from achroma import cli
from achroma.transfer import ExportFile, export_collection, import_collection
from transfer_data import STRINGS, assert_equal, records, snapshot

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["jsonl", "parquet"])
def suffix(request: pytest.FixtureRequest) -> str:
    if request.param == "parquet":
        pytest.importorskip("pyarrow")
    return str(request.param)


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[achroma.AsyncClient]:
    client = await achroma.AsyncPersistentClient(tmp_path / "src")
    collection = await client.create_collection(
        "docs",
        embedding_function=None,
        metadata={"owner": "tests"},
        configuration={"hnsw": {"space": "ip", "ef_search": 50}},
    )
    await collection.add(**records(1200))
    yield client
    await client.close()


async def test_export_then_import_gives_the_same_collection(
    source: achroma.AsyncClient, tmp_path: Path, suffix: str
) -> None:
    file = tmp_path / f"docs.{suffix}"
    written = await export_collection(await source.get_collection("docs"), file)
    assert written == 1200
    destination = await achroma.AsyncPersistentClient(tmp_path / "dst")
    report = await import_collection(destination, file)
    assert (report.name, report.copied, report.ok) == ("docs", 1200, True)
    assert_equal(await snapshot(destination), await snapshot(source))
    await destination.close()


async def test_an_import_run_again_adds_nothing(
    source: achroma.AsyncClient, tmp_path: Path, suffix: str
) -> None:
    file = tmp_path / f"docs.{suffix}"
    await export_collection(await source.get_collection("docs"), file)
    destination = await achroma.AsyncPersistentClient(tmp_path / "dst")
    await import_collection(destination, file)
    again = await import_collection(destination, file, name="docs")
    assert (again.copied, again.already_there, again.ok) == (0, 1200, True)
    await destination.close()


async def test_an_import_can_rename_the_collection(
    source: achroma.AsyncClient, tmp_path: Path
) -> None:
    file = tmp_path / "docs.jsonl"
    await export_collection(await source.get_collection("docs"), file)
    destination = await achroma.AsyncPersistentClient(tmp_path / "dst")
    await import_collection(destination, file, name="renamed")
    assert await (await destination.get_collection("renamed", embedding_function=None)).count()
    await destination.close()


async def test_json_lines_start_with_a_header_then_one_record_per_line(
    source: achroma.AsyncClient, tmp_path: Path
) -> None:
    file = tmp_path / "docs.jsonl"
    await export_collection(await source.get_collection("docs"), file)
    lines = file.read_bytes().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "achroma-export" and header["version"] == 1
    assert (header["collection"], header["dimension"], header["count"]) == ("docs", 8, 1200)
    assert header["metadata"] == {"owner": "tests"}
    assert header["configuration"]["hnsw"]["space"] == "ip"
    assert len(lines) == 1201
    assert all(line.isascii() for line in lines)  # NUL and every code point escaped
    first = json.loads(lines[1])
    vector = np.frombuffer(base64.b64decode(first["embedding"]), "<f4")
    expected = records(1)["embeddings"][0]
    assert vector.tobytes() == expected.tobytes()  # -0.0 and the subnormal included


async def test_strings_keep_nul_and_every_code_point(tmp_path: Path, suffix: str) -> None:
    client = await achroma.AsyncPersistentClient(tmp_path / "src")
    collection = await client.create_collection("texts", embedding_function=None)
    odd = [*STRINGS, "\U0010ffff", 'tab\tquote"back\\slash', "é" * 1000]
    await collection.add(
        ids=[f"\x00{s}" for s in odd],
        embeddings=np.ones((len(odd), 2), np.float32),
        documents=odd,
        metadatas=[{"s": s or "x"} for s in odd],
        uris=[f"u:{s}" for s in odd],
    )
    file = tmp_path / f"texts.{suffix}"
    await export_collection(collection, file)
    destination = await achroma.AsyncPersistentClient(tmp_path / "dst")
    await import_collection(destination, file)
    assert_equal(await snapshot(destination), await snapshot(client))
    await client.close()
    await destination.close()


async def test_an_empty_collection_exports_and_imports(tmp_path: Path, suffix: str) -> None:
    client = await achroma.AsyncPersistentClient(tmp_path / "src")
    collection = await client.create_collection("empty", embedding_function=None)
    file = tmp_path / f"empty.{suffix}"
    assert await export_collection(collection, file) == 0
    destination = await achroma.AsyncPersistentClient(tmp_path / "dst")
    report = await import_collection(destination, file)
    assert (report.destination_count, report.ok) == (0, True)
    await client.close()
    await destination.close()


async def test_a_file_that_is_no_export_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "other.jsonl"
    file.write_text('{"id": "a"}\n')
    with pytest.raises(ValueError, match="Not an achroma export file"):
        ExportFile.open(file)


async def test_a_failed_export_leaves_no_file(
    source: achroma.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collection = await source.get_collection("docs")
    calls = []
    real_get = type(collection).get

    async def failing_get(self: object, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) > 1:
            raise ConnectionError("source went away")
        return await real_get(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(type(collection), "get", failing_get)
    with pytest.raises(ConnectionError):
        await export_collection(collection, tmp_path / "docs.jsonl")
    assert list(tmp_path.glob("docs.jsonl*")) == []


def test_the_commands_export_and_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    client = achroma.PersistentClient(tmp_path / "src")
    client.create_collection("docs", embedding_function=None).add(**records(30))
    client.close()
    file = tmp_path / "docs.jsonl"
    assert cli.main(["export", str(tmp_path / "src"), "docs", str(file)]) == 0
    assert "30 records of docs" in capsys.readouterr().out
    assert cli.main(["import", str(tmp_path / "dst"), str(file)]) == 0
    out = capsys.readouterr().out
    assert "docs: 30 records (30 copied" in out and "all equal" in out


def test_the_export_command_exits_2_for_a_missing_collection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    achroma.PersistentClient(tmp_path / "src").close()
    code = cli.main(["export", str(tmp_path / "src"), "nope", str(tmp_path / "f.jsonl")])
    assert code == 2
    assert "achroma export: " in capsys.readouterr().err


async def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("just some notes\n")
    with pytest.raises(ValueError, match="Not an achroma export file"):
        ExportFile.open(file)
