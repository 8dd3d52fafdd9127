"""Stray files in `indexes/`: files of collections that no longer exist, leftover `*.tmp`
files and generations no pointer names; `remove_strays` deletes them."""

from __future__ import annotations

import contextlib
from pathlib import Path

from achroma.engine.check.findings import REMOVE, Finding, guarded
from achroma.engine.check.session import Session
from achroma.engine.filelock import FileLock
from achroma.engine.index_files import IndexFiles
from achroma.engine.indexes import INDEX_DIR

# How long a check waits for a collection's index-file lock (a save in progress).
LOCK_WAIT = 30.0


async def find_strays(session: Session) -> list[Finding]:
    """The stray files in indexes/, or that all is clean (an error listing them is a finding)."""
    return await guarded(None, f"listing {INDEX_DIR}/", _strays(session, remove=False))


async def remove_strays(session: Session) -> list[Finding]:
    """Delete the stray files in indexes/: what was removed, and what could not be."""
    return await guarded(None, "removing stray files", _strays(session, remove=True))


async def _strays(session: Session, remove: bool) -> list[Finding]:
    """Stray files in indexes/ (`remove`: delete them, and report what was deleted)."""
    out: list[Finding] = []
    directory = session.index_dir
    if not directory.exists():
        return out
    if not directory.is_dir():
        return [Finding(None, "error", f"{INDEX_DIR} is not a directory")]
    live = {r[0] for r in await session.all("SELECT id FROM collections")}
    by_id: dict[str, list[Path]] = {}
    for entry in sorted(directory.iterdir()):
        by_id.setdefault(entry.name.split(".")[0], []).append(entry)
    for cid, entries in by_id.items():
        if cid in live:
            out += await _live_files(session, cid, remove)
            continue
        for entry in entries:
            out.append(_stray(entry, "stray file: its collection does not exist", remove))
    if not out and not remove:
        out.append(Finding(None, "ok", f"no stray files in {INDEX_DIR}/"))
    return out


async def _live_files(session: Session, cid: str, remove: bool) -> list[Finding]:
    """The files of an existing collection that its pointer does not name, listed (and
    removed) under its index-file lock, so that no save is half done meanwhile."""
    lock = session.index_dir / f"{cid}.lock"
    out: list[Finding] = []
    try:
        async with contextlib.AsyncExitStack() as stack:
            if remove or lock.exists():  # a check never creates a file
                await stack.enter_async_context(FileLock(lock, timeout=LOCK_WAIT))
            files = IndexFiles(session.index_dir, cid)
            generation = files.generation()
            kept = {files.pointer.name, lock.name}
            if generation is not None:
                kept |= {f"{cid}.{generation}.usearch", f"{cid}.{generation}.npz"}
            for entry in sorted(session.index_dir.glob(f"{cid}.*")):
                if entry.name in kept:
                    continue
                if entry.name.endswith(".tmp"):
                    why = "leftover temporary file of an interrupted save"
                elif entry.suffix in (".usearch", ".npz"):
                    why = "a generation its pointer does not name (an interrupted save)"
                else:
                    why = "unexpected file"
                out.append(_stray(entry, why, remove))
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


def _stray(entry: Path, why: str, remove: bool) -> Finding:
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
