"""`achroma.copy` and `achroma copy`: collections carried between chromadb directories,
achroma stores and Chroma-API servers, exactly, resumably, and checked at the end."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

import achroma
from achroma import cli
from achroma.api.collection import AsyncCollection
from achroma.progress import Progress
from achroma.transfer import (
    ChromadbDirectory,
    ChromadbMissingError,
    ConfigurationMismatchError,
    Endpoint,
    open_destination,
    open_source,
)
from http_servers import needs_server_extra, start_achroma
from transfer_data import assert_equal, chromadb_snapshot, fill_chromadb, records, snapshot

pytestmark = pytest.mark.anyio

N = 3000


@pytest.fixture(scope="module")
def chromadb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("chromadb")
    path = tmp_path_factory.mktemp("chromadb") / "chroma"
    fill_chromadb(path, N)
    return path


async def copy_between(src: str | Path, dst: str | Path, **kw: Any) -> list[Any]:
    async with (
        open_source(Endpoint(str(src))) as source,
        open_destination(Endpoint(str(dst))) as destination,
    ):
        return await achroma.copy(source, destination, **kw)


async def snapshot_of(location: str | Path) -> dict[str, Any]:
    async with open_destination(Endpoint(str(location))) as client:
        return await snapshot(client)


async def test_round_trip_from_chromadb_through_a_server_back_to_a_path_is_exact(
    chromadb_dir: Path, achroma_server: Any, tmp_path: Path
) -> None:
    expected = chromadb_snapshot(chromadb_dir)
    first, second = tmp_path / "first", tmp_path / "second"
    for src, dst in [
        (chromadb_dir, first),
        (first, achroma_server.url),
        (achroma_server.url, second),
    ]:
        reports = await copy_between(src, dst, collections=["docs", "small"])
        assert [(r.name, r.copied, r.ok) for r in reports] == [
            ("docs", N, True),
            ("small", 20, True),
        ]
    for location in (first, achroma_server.url, second):
        assert_equal(await snapshot_of(location), expected)
    assert expected["small"]["configuration"]["embedding_function"]["name"] == "default"


async def test_copy_to_chromas_own_server_and_back_is_exact(
    chromadb_dir: Path, chroma_server: Any, tmp_path: Path
) -> None:
    expected = chromadb_snapshot(chromadb_dir)
    await copy_between(chromadb_dir, chroma_server.url, collections=["docs"])
    reports = await copy_between(chroma_server.url, tmp_path / "back", collections=["docs"])
    assert reports[0].ok
    assert_equal(await snapshot_of(tmp_path / "back"), {"docs": expected["docs"]})


async def test_copy_without_names_copies_every_collection(
    chromadb_dir: Path, tmp_path: Path
) -> None:
    reports = await copy_between(chromadb_dir, tmp_path / "all")
    assert sorted(r.name for r in reports) == ["docs", "small"]


async def test_a_second_copy_adds_nothing_and_checks_equal(
    chromadb_dir: Path, tmp_path: Path
) -> None:
    await copy_between(chromadb_dir, tmp_path / "dst", collections=["docs"])
    [again] = await copy_between(chromadb_dir, tmp_path / "dst", collections=["docs"])
    assert (again.copied, again.already_there, again.destination_count) == (0, N, N)
    assert again.ok and again.sampled == 100


async def test_a_copy_failing_after_some_batches_completes_when_run_again(
    chromadb_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_add, calls = AsyncCollection.add, []

    async def failing_add(self: AsyncCollection, *args: Any, **kwargs: Any) -> None:
        calls.append(len(kwargs["ids"]))
        if len(calls) > 1:
            raise ConnectionError("destination went away")
        await real_add(self, *args, **kwargs)

    monkeypatch.setattr(AsyncCollection, "add", failing_add)
    with pytest.raises(ConnectionError):
        await copy_between(chromadb_dir, tmp_path / "dst", collections=["docs"])
    monkeypatch.setattr(AsyncCollection, "add", real_add)
    written = calls[0]
    assert 0 < written < N
    [report] = await copy_between(chromadb_dir, tmp_path / "dst", collections=["docs"])
    assert (report.copied, report.already_there, report.ok) == (N - written, written, True)
    expected = chromadb_snapshot(chromadb_dir)["docs"]
    assert_equal(await snapshot_of(tmp_path / "dst"), {"docs": expected})


class CancelAfter(Progress):
    """Cancels the copy once `n` records have been read."""

    def __init__(self, scope: anyio.CancelScope, n: int) -> None:
        self.scope, self.n, self.seen = scope, n, 0

    def advance(self, n: int = 1) -> None:
        self.seen += n
        if self.seen >= self.n:
            self.scope.cancel()


async def test_a_cancelled_copy_completes_when_run_again(
    chromadb_dir: Path, tmp_path: Path
) -> None:
    with anyio.CancelScope() as scope:
        await copy_between(
            chromadb_dir, tmp_path / "dst", collections=["docs"], progress=CancelAfter(scope, 1)
        )
    assert scope.cancelled_caught
    [report] = await copy_between(chromadb_dir, tmp_path / "dst", collections=["docs"])
    assert 0 < report.already_there < N and report.ok
    expected = chromadb_snapshot(chromadb_dir)["docs"]
    assert_equal(await snapshot_of(tmp_path / "dst"), {"docs": expected})


async def test_a_record_changed_in_the_destination_is_reported(tmp_path: Path) -> None:
    src = await achroma.AsyncPersistentClient(tmp_path / "src")
    dst = await achroma.AsyncPersistentClient(tmp_path / "dst")
    collection = await src.create_collection("docs", embedding_function=None)
    await collection.add(**records(50))
    await achroma.copy(src, dst)
    copied = await dst.get_collection("docs", embedding_function=None)
    await copied.update(ids=["id1"], metadatas=[{"i": -1}])
    await copied.add(ids=["extra"], embeddings=[[0.0] * 8])
    [report] = await achroma.copy(src, dst, sample=50)
    assert report.mismatches == [
        "count: 50 in the source, 51 in the destination",
        "'id1': metadata differ",
    ]
    await src.close()
    await dst.close()


async def test_a_destination_configured_otherwise_is_refused_unless_allowed(
    tmp_path: Path,
) -> None:
    src = await achroma.AsyncPersistentClient(tmp_path / "src")
    dst = await achroma.AsyncPersistentClient(tmp_path / "dst")
    created = await src.create_collection(
        "docs", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    await created.add(**records(10))
    await dst.create_collection("docs", embedding_function=None)
    with pytest.raises(ConfigurationMismatchError, match=r"docs .*\(hnsw.space\)"):
        await achroma.copy(src, dst)
    [report] = await achroma.copy(src, dst, allow_different_configuration=True)
    assert report.copied == 10 and report.ok
    await src.close()
    await dst.close()


async def test_a_missing_chromadb_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "chromadb", None)
    with pytest.raises(ChromadbMissingError, match=r"pip install chromadb==1\.5\.9"):
        await ChromadbDirectory.open(tmp_path)


async def test_a_source_that_is_no_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="neither an achroma store nor"):
        async with open_source(Endpoint(str(tmp_path / "nothing"))):
            pass


async def test_a_chromadb_directory_is_never_a_destination(chromadb_dir: Path) -> None:
    with pytest.raises(ValueError, match="written by chromadb"):
        async with open_destination(Endpoint(str(chromadb_dir))):
            pass


async def test_a_server_address_with_a_path_is_refused() -> None:
    with pytest.raises(ValueError, match=r"http\(s\)://host:port"):
        async with open_destination(Endpoint("http://localhost:8000/api/v2")):
            pass


def test_the_command_copies_and_prints_the_check(
    chromadb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dst = tmp_path / "dst"
    code = cli.main(["copy", str(chromadb_dir), str(dst), "--collection", "small"])
    out = capsys.readouterr().out
    assert code == 0
    assert "small: 20 records (20 copied, 0 already there" in out
    assert "checked count and 20 sampled records" in out
    assert out.endswith("summary: 1 collection, all equal\n")


def test_the_command_shows_progress_on_request(
    chromadb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["copy", str(chromadb_dir), str(tmp_path / "d"), "--progress"])
    err = capsys.readouterr().err
    assert code == 0
    assert "copy docs [" in err and f"{N}/{N} 100%" in err and "/s ETA" in err


def test_the_command_exits_2_on_a_bad_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["copy", str(tmp_path / "nothing"), str(tmp_path / "dst")])
    assert code == 2
    assert "achroma copy: " in capsys.readouterr().err


def test_the_command_rejects_a_malformed_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["copy", "http://localhost:1", str(tmp_path), "--src-header", "novalue"])
    assert code == 2
    assert "'NAME: VALUE'" in capsys.readouterr().err


def test_the_command_sends_the_token_a_server_asks_for(
    chromadb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    needs_server_extra()
    server = start_achroma(tmp_path / "served", "--token", "s3cret")
    try:
        args = ["copy", str(chromadb_dir), server.url, "--collection", "small"]
        assert cli.main(args) == 2
        assert cli.main([*args, "--dst-token", "s3cret"]) == 0
        assert cli.main([*args, "--dst-header", "X-Chroma-Token: s3cret"]) == 0
    finally:
        server.stop()
    assert "summary: 1 collection, all equal" in capsys.readouterr().out
