"""Several processes on one persistent path: opening at once, writing and reading at once,
closing at once. Plus the inter-process `FileLock` they rely on.

Short by default (CI: each test a few seconds on two noisy cores). ACHROMA_LONG_TESTS=1 runs
more processes, more repetitions and longer runs. Children are `sys.executable -c` scripts
that import achroma, say "ready" and block on stdin, so the parent releases them at the same
instant by writing one line to each.
"""

from __future__ import annotations

import json
import os
import queue
import re
import sqlite3
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest

from achroma.engine.filelock import FileLock
from achroma.engine.migrations import SCHEMA_VERSION

LONG = os.environ.get("ACHROMA_LONG_TESTS") == "1"

# How long a child may take for one step before the test gives up on it.
STEP_TIMEOUT = 120.0


class Children:
    """Child processes running one script, each with a line protocol on stdin/stdout and
    its stderr in a file (so a chatty child never blocks on a full pipe)."""

    def __init__(self, script: str, argvs: list[list[str]], logs: Path) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.err_files = [logs / f"child{i}.err" for i in range(len(argvs))]
        self.procs: list[subprocess.Popen[str]] = []
        self.lines: list[queue.Queue[str | None]] = []
        for argv, err_file in zip(argvs, self.err_files, strict=True):
            with open(err_file, "w") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-c", script, *argv],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                )
            lines: queue.Queue[str | None] = queue.Queue()
            threading.Thread(target=_pump, args=(proc, lines), daemon=True).start()
            self.procs.append(proc)
            self.lines.append(lines)

    def expect(self, word: str, timeout: float = STEP_TIMEOUT) -> list[str]:
        """The next line of every child, each of which must start with `word`."""
        got = []
        for i, lines in enumerate(self.lines):
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"child {i} said nothing for {timeout} s") from None
            if line is None or not line.startswith(word):
                raise AssertionError(
                    f"child {i} said {line!r}, expected {word!r}; stderr:\n{self.stderr(i)}"
                )
            got.append(line[len(word) :].strip())
        return got

    def send_all(self, line: str) -> None:
        """One line to every child, as close together as possible."""
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(line + "\n")
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.flush()

    def finish(self, timeout: float = STEP_TIMEOUT) -> None:
        """Wait for every child to exit; each must exit 0 with nothing on stderr."""
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.close()
        for i, proc in enumerate(self.procs):
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise AssertionError(f"child {i} did not exit; stderr:\n{self.stderr(i)}") from None
        for i, proc in enumerate(self.procs):
            assert proc.returncode == 0, f"child {i} exited {proc.returncode}:\n{self.stderr(i)}"
            assert self.stderr(i) == "", f"child {i} wrote to stderr:\n{self.stderr(i)}"

    def stderr(self, i: int) -> str:
        return self.err_files[i].read_text()

    def kill(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line.rstrip("\n"))
    lines.put(None)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Any]:
    started: list[Children] = []

    def start(script: str, argvs: list[list[str]]) -> Children:
        children = Children(script, argvs, tmp_path / f"logs{len(started)}")
        started.append(children)
        return children

    yield start
    for children in started:
        children.kill()


PREAMBLE = textwrap.dedent(
    """
    import json, os, sys, time, zlib
    import numpy as np
    import achroma

    def wait_for_parent():
        print("ready", flush=True)
        return sys.stdin.readline().strip()

    def vectors(prefix, batch, version, n, dim):
        seed = zlib.crc32(f"{prefix}/{batch}/{version}".encode())
        return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    """
)


# --- FileLock ---


def test_file_lock_excludes_another_process_without_blocking_the_loop(tmp_path: Path) -> None:
    lock_file = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path\n"
            "from achroma.engine.filelock import FileLock\n"
            "with FileLock(Path(sys.argv[1])):\n"
            "    print('held', flush=True); time.sleep(0.5)\n"
            "    print('releasing', flush=True)\n",
            str(lock_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    ticks = 0

    async def main() -> float:
        nonlocal ticks

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await anyio.sleep(0.01)

        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            started = time.monotonic()
            async with FileLock(lock_file):
                waited = time.monotonic() - started
            tg.cancel_scope.cancel()
        return waited

    waited = anyio.run(main)
    assert holder.stdout.readline().strip() == "releasing"
    assert holder.wait(timeout=30) == 0
    assert 0.2 < waited < 10
    assert ticks >= 10  # the loop kept running while the lock was waited for
    # A lock only tried for a while gives up with TimeoutError, and a vanished directory is
    # never re-created.
    with FileLock(lock_file), pytest.raises(TimeoutError), FileLock(lock_file, timeout=0.05):
        pass
    with pytest.raises(FileNotFoundError):
        FileLock(tmp_path / "gone" / "x.lock").__enter__()
    assert not (tmp_path / "gone").exists()


def test_file_lock_serialises_threads_and_tasks_of_one_process(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / "x.lock")
    inside = 0
    overlaps = 0
    done = 0

    def critical() -> None:
        nonlocal inside, overlaps, done
        inside += 1
        overlaps += inside > 1
        time.sleep(0.002)
        inside -= 1
        done += 1

    def thread_worker() -> None:
        for _ in range(20):
            with lock:
                critical()

    async def task_worker() -> None:
        for _ in range(20):
            async with lock:
                critical()
                await anyio.sleep(0.001)

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(task_worker)
        with pytest.raises(RuntimeError, match="not reentrant"):
            async with lock, lock:
                pass

    threads = [threading.Thread(target=thread_worker) for _ in range(3)]
    for t in threads:
        t.start()
    anyio.run(main)
    for t in threads:
        t.join()
    assert (done, overlaps) == (120, 0)
    assert not lock.locked


# --- opening a new path at once ---

OPENER = PREAMBLE + textwrap.dedent(
    """
    me = int(sys.argv[1])
    while True:
        path = wait_for_parent()
        if not path:
            break
        client = achroma.PersistentClient(path)
        # Writes straight after the racing open (no vectors: index files are another test's).
        client.get_or_create_collection("race", embedding_function=None)
        client.create_collection(f"mine{me}", embedding_function=None)
        assert client.count_collections() >= 2
        client.close()
        print("opened", flush=True)
    """
)


def test_processes_first_opening_a_new_path_at_once(tmp_path: Path, spawn: Any) -> None:
    n_procs, reps = (8, 30) if LONG else (3, 6)
    children = spawn(OPENER, [[str(i)] for i in range(n_procs)])
    paths = []
    for rep in range(reps):
        path = tmp_path / f"new{rep}" / "chroma"  # neither directory exists yet
        children.expect("ready")
        children.send_all(str(path))
        children.expect("opened")
        paths.append(path)
    children.expect("ready")
    children.finish()
    for path in paths:
        with sqlite3.connect(path / "achroma.sqlite3") as con:
            assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert con.execute("SELECT name FROM tenants").fetchall() == [("default_tenant",)]
            assert con.execute("SELECT count(*) FROM databases").fetchone()[0] == 1
            names = {name for (name,) in con.execute("SELECT name FROM collections")}
            assert names == {"race"} | {f"mine{i}" for i in range(n_procs)}
            # Nobody left a write transaction open.
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")


def test_a_failed_open_releases_its_connection_and_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from achroma.engine import store as store_module
    from achroma.errors import InternalError

    async def broken_migrate(db: Any) -> None:
        await db.execute("BEGIN IMMEDIATE")
        await db.execute("CREATE TABLE tenants (name TEXT)")
        raise sqlite3.OperationalError("table tenants already exists")

    monkeypatch.setattr(store_module, "migrate", broken_migrate)
    threads_before = threading.active_count()
    path = tmp_path / "chroma"
    with pytest.raises(InternalError, match=re.escape(str(path))) as failed:
        anyio.run(store_module.Store.open, path)
    assert "table tenants already exists" in str(failed.value)
    deadline = time.monotonic() + 5
    while threading.active_count() > threads_before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == threads_before  # aiosqlite's thread stopped
    with FileLock(path / "achroma.lock", timeout=0):  # released
        pass
    with sqlite3.connect(path / "achroma.sqlite3", timeout=0) as con:
        con.execute("BEGIN IMMEDIATE")  # nothing holds the write lock
        con.execute("ROLLBACK")
        assert con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


def test_a_write_waits_for_another_writer_then_gives_up_with_a_chroma_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection (as another process would) holds SQLite's write lock: a write
    retries past SQLite's own busy timeout, and only after BUSY_DEADLINE fails, with an
    InternalError naming the path rather than `database is locked`."""
    from achroma.engine import store as store_module
    from achroma.errors import InternalError

    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 1)  # SQLite gives up at once
    path = tmp_path / "chroma"

    def hold_write_lock(seconds: float) -> threading.Thread:
        con = sqlite3.connect(
            path / "achroma.sqlite3", isolation_level=None, check_same_thread=False
        )
        con.execute("BEGIN IMMEDIATE")

        def release() -> None:
            time.sleep(seconds)
            con.execute("ROLLBACK")
            con.close()

        thread = threading.Thread(target=release)
        thread.start()
        return thread

    async def write(store: Any, name: str) -> None:
        async with store.transaction() as db:
            await db.execute("INSERT INTO tenants (name) VALUES (?)", (name,))

    async def main() -> None:
        store = await store_module.Store.open(path)
        try:
            holder = hold_write_lock(0.3)
            started = time.monotonic()
            await write(store, "waited")
            assert time.monotonic() - started >= 0.2
            holder.join()
            monkeypatch.setattr(store_module, "BUSY_DEADLINE", 0.2)
            holder = hold_write_lock(1.0)
            with pytest.raises(InternalError, match=re.escape(str(path))) as failed:
                await write(store, "gave up")
            assert "locked by another process" in str(failed.value)
            holder.join()
            await write(store, "after")  # nothing was left half-begun
            names = [r[0] for r in await store.read("SELECT name FROM tenants ORDER BY name")]
            assert names == ["after", "default_tenant", "waited"]
            with pytest.raises(InternalError, match="no such table"):
                await store.read("SELECT * FROM nowhere")
        finally:
            await store.close()

    anyio.run(main)


# --- writing and reading at once ---

BATCH = 20
DIM = 16

WRITER = PREAMBLE + textwrap.dedent(
    f"""
    BATCH, DIM = {BATCH}, {DIM}
    path, prefix, ack_file, duration = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    client = achroma.PersistentClient(path)
    col = client.get_collection("shared", embedding_function=None)
    wait_for_parent()
    acks = open(ack_file, "a")

    def ack(op, batch):
        # Written after the call returned: the write is acknowledged.
        acks.write(json.dumps({{"t": time.monotonic(), "op": op, "batch": batch}}) + "\\n")
        acks.flush()

    def write(method, batch, version):
        ids = [f"{{prefix}}-{{batch}}-{{i}}" for i in range(BATCH)]
        method(
            ids=ids,
            embeddings=vectors(prefix, batch, version, BATCH, DIM),
            metadatas=[{{"w": prefix, "b": batch, "v": version}}] * BATCH,
            documents=[f"{{i}} {{version}}" for i in range(BATCH)],
        )

    end = time.monotonic() + duration
    batch = 0
    while time.monotonic() < end:
        write(col.add, batch, 0)
        ack("add", batch)
        if batch % 3 == 2:
            write(col.upsert, batch - 1, 1)
            ack("upsert", batch - 1)
        if batch % 5 == 4:
            col.delete(ids=[f"{{prefix}}-{{batch - 3}}-{{i}}" for i in range(BATCH)])
            ack("delete", batch - 3)
        batch += 1
    acks.write(json.dumps({{"t": time.monotonic(), "op": "end"}}) + "\\n")
    acks.close()
    client.close()
    print("done", batch, flush=True)
    """
)

READER = PREAMBLE + textwrap.dedent(
    f"""
    BATCH, DIM = {BATCH}, {DIM}
    STATE = {{"add": 0, "upsert": 1, "delete": 2}}
    path, grace, ack_files = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    client = achroma.PersistentClient(path)
    col = client.get_collection("shared", embedding_function=None)
    wait_for_parent()
    offsets = dict.fromkeys(ack_files, 0)
    ended = set()
    # Per (writer, batch): acknowledged events not yet seen by get / by query.
    pending_get, pending_query = {{}}, {{}}
    deleted, upserted, highest_seen = set(), set(), {{}}
    delays = {{"get": [], "query": []}}
    violations = []
    loops = 0

    def read_acks():
        for name in ack_files:
            with open(name) as f:
                f.seek(offsets[name])
                while True:
                    line = f.readline()
                    if not line.endswith("\\n"):
                        break  # not completely written yet
                    offsets[name] = f.tell()
                    event = json.loads(line)
                    if event["op"] == "end":
                        ended.add(name)
                        continue
                    key = (name, event["batch"])
                    state = STATE[event["op"]]
                    if state == 2:
                        deleted.add(key)
                    if state == 1:
                        upserted.add(key)
                    for pending in (pending_get, pending_query):
                        pending.setdefault(key, []).append((state, event["t"]))

    def prefix_of(name):
        return os.path.basename(name).split(".")[0]  # w0.acks: the writer w0

    def seen(pending, key, state, now, kind):
        left = []
        for event_state, t in pending[key]:
            if event_state <= state:
                delays[kind].append(now - t)
            else:
                left.append((event_state, t))
        if left:
            pending[key] = left
        else:
            del pending[key]

    def observe_get():
        keys = list(pending_get)
        ids = [f"{{prefix_of(n)}}-{{b}}-{{i}}" for n, b in keys for i in range(BATCH)]
        got = col.get(ids=ids, include=["metadatas", "embeddings", "documents"])
        now = time.monotonic()
        rows = {{}}
        for id_, meta, emb, doc in zip(
            got["ids"], got["metadatas"], got["embeddings"], got["documents"]
        ):
            rows.setdefault(id_.rsplit("-", 1)[0], []).append((id_, meta, emb, doc))
        for key in keys:
            name, batch = key
            found = rows.get(f"{{prefix_of(name)}}-{{batch}}", [])
            if not found:
                # Gone: deleted (maybe not acknowledged yet, if we saw it before), or not
                # visible yet.
                state = 2 if key in deleted or highest_seen.get(key, -1) >= 0 else -1
            elif len(found) != BATCH:
                violations.append(f"{{key}}: {{len(found)}} of {{BATCH}} records visible")
                continue
            else:
                versions = {{meta["v"] for _, meta, _, _ in found}}
                if len(versions) != 1:
                    violations.append(f"{{key}}: mixed versions {{versions}}")
                    continue
                state = versions.pop()
                want = vectors(prefix_of(name), batch, state, BATCH, DIM)
                for id_, meta, emb, doc in found:
                    i = int(id_.rsplit("-", 1)[1])
                    if not np.array_equal(np.asarray(emb, dtype=np.float32), want[i]):
                        violations.append(f"{{id_}}: wrong embedding")
                    if doc != f"{{i}} {{state}}" or meta != {{"w": prefix_of(name), "b": batch, "v": state}}:
                        violations.append(f"{{id_}}: wrong document or metadata")
            if state < highest_seen.get(key, -1):
                violations.append(f"{{key}}: went back from {{highest_seen[key]}} to {{state}}")
            highest_seen[key] = max(state, highest_seen.get(key, -1))
            if state >= 0:
                seen(pending_get, key, state, now, "get")

    def observe_query():
        keys = list(pending_query)
        probes = [
            vectors(prefix_of(n), b, 1 if (n, b) in upserted else 0, BATCH, DIM)[0]
            for n, b in keys
        ]
        got = col.query(query_embeddings=probes, n_results=5, include=["metadatas"])
        now = time.monotonic()
        for key, ids, metas in zip(keys, got["ids"], got["metadatas"]):
            name, batch = key
            probe = f"{{prefix_of(name)}}-{{batch}}-0"
            if probe in ids:
                state = metas[ids.index(probe)]["v"]
            else:
                state = 2 if key in deleted else -1
            if state >= 0:
                seen(pending_query, key, state, now, "query")

    stop_at = None
    while True:
        read_acks()
        if pending_get:
            observe_get()
        if pending_query:
            observe_query()
        loops += 1
        if len(ended) == len(ack_files):
            stop_at = stop_at or time.monotonic() + grace
            if (not pending_get and not pending_query) or time.monotonic() > stop_at:
                break
        elif not pending_get and not pending_query:
            time.sleep(0.002)
    client.close()
    print("result", json.dumps({{
        "delays": delays, "violations": violations[:20], "loops": loops,
        "unseen_get": len(pending_get), "unseen_query": len(pending_query),
    }}), flush=True)
    """
)


def _expected_state(ack_file: Path) -> dict[int, int]:
    """Final acknowledged version per batch (-1: deleted)."""
    state: dict[int, int] = {}
    for line in ack_file.read_text().splitlines():
        event = json.loads(line)
        if event["op"] == "add":
            state[event["batch"]] = 0
        elif event["op"] == "upsert":
            state[event["batch"]] = 1
        elif event["op"] == "delete":
            state[event["batch"]] = -1
    return state


def _stats(values: list[float]) -> str:
    if not values:
        return "none"
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"n={len(ms)} p50={statistics.median(ms):.1f}ms p95={p95:.1f}ms max={ms[-1]:.1f}ms"


# An acknowledged write must be visible to every other process within this (measured and
# printed; generous for noisy CI machines).
VISIBILITY_BOUND = 10.0


def test_two_writers_and_a_reader_see_each_others_acknowledged_writes(
    tmp_path: Path, spawn: Any
) -> None:
    import achroma

    duration = 20.0 if LONG else 3.0
    path = tmp_path / "chroma"
    client = achroma.PersistentClient(path)
    client.create_collection("shared", embedding_function=None)
    client.close()
    ack_files = [tmp_path / f"w{i}.acks" for i in range(2)]
    for f in ack_files:
        f.write_text("")
    argvs = [[str(path), f"w{i}", str(f), str(duration)] for i, f in enumerate(ack_files)]
    argvs.append([str(path), str(VISIBILITY_BOUND), *map(str, ack_files)])
    writers = spawn(WRITER, argvs[:2])
    reader = spawn(READER, argvs[2:])
    writers.expect("ready")
    reader.expect("ready")
    reader.send_all("go")
    writers.send_all("go")
    batches = writers.expect("done", timeout=duration + STEP_TIMEOUT)
    (result_line,) = reader.expect("result", timeout=VISIBILITY_BOUND + STEP_TIMEOUT)
    writers.finish()
    reader.finish()
    result = json.loads(result_line)
    get_delays, query_delays = result["delays"]["get"], result["delays"]["query"]
    print(
        f"\nbatches per writer: {batches}; reader loops: {result['loops']}"
        f"\nvisibility delay, get:   {_stats(get_delays)}"
        f"\nvisibility delay, query: {_stats(query_delays)}"
    )
    assert result["violations"] == []
    assert result["unseen_get"] == 0 and result["unseen_query"] == 0
    assert get_delays and query_delays
    assert max(get_delays) < VISIBILITY_BOUND and max(query_delays) < VISIBILITY_BOUND

    # Everything acknowledged is there, exactly.
    from zlib import crc32

    client = achroma.PersistentClient(path)
    try:
        col = client.get_collection("shared", embedding_function=None)
        present = 0
        for i, ack_file in enumerate(ack_files):
            expected = _expected_state(ack_file)
            ids = [f"w{i}-{b}-{j}" for b in expected for j in range(BATCH)]
            got = col.get(ids=ids, include=["metadatas", "embeddings", "documents"])
            rows = {
                id_: (m, e, d)
                for id_, m, e, d in zip(
                    got["ids"], got["metadatas"], got["embeddings"], got["documents"], strict=True
                )
            }
            for b, version in expected.items():
                if version < 0:
                    assert not any(f"w{i}-{b}-{j}" in rows for j in range(BATCH))
                    continue
                seed = crc32(f"w{i}/{b}/{version}".encode())
                want = np.random.default_rng(seed).standard_normal((BATCH, DIM))
                for j in range(BATCH):
                    meta, emb, doc = rows[f"w{i}-{b}-{j}"]
                    assert meta == {"w": f"w{i}", "b": b, "v": version}
                    assert doc == f"{j} {version}"
                    assert np.array_equal(emb, want[j].astype(np.float32))
                present += BATCH
        assert col.count() == present
    finally:
        client.close()


# --- adding and closing at once ---

ADDER = PREAMBLE + textwrap.dedent(
    """
    me, n, dim, slice_ = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), 1000
    while True:
        path = wait_for_parent()
        if not path:
            break
        client = achroma.PersistentClient(path)
        # A lighter graph than the default (each process also indexes all the others'
        # vectors, on 2 cores); self-query recall on 24,000 such vectors is 0.999.
        hnsw = {"ef_construction": 48, "max_neighbors": 12}
        col = client.get_or_create_collection(
            "bulk", embedding_function=None, configuration={"hnsw": hnsw}
        )
        data = vectors("bulk", me, 0, n, dim)
        for start in range(0, n, slice_):
            col.add(
                ids=[f"{me}-{i}" for i in range(start, start + slice_)],
                embeddings=data[start : start + slice_],
            )
        print("added", flush=True)
        sys.stdin.readline()  # close at the same moment as the others
        client.close()
        print("closed", flush=True)
    """
)

CHECKER = PREAMBLE + textwrap.dedent(
    """
    n_procs, n, dim = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    for path in sys.argv[4:]:
        client = achroma.PersistentClient(path)
        col = client.get_collection("bulk", embedding_function=None)
        count = col.count()
        rng = np.random.default_rng(0)
        hits = total = 0
        for me in range(n_procs):
            data = vectors("bulk", me, 0, n, dim)
            sample = rng.choice(n, 100, replace=False)
            found = col.query(query_embeddings=data[sample], n_results=1, include=[])["ids"]
            hits += sum(row == [f"{me}-{i}"] for row, i in zip(found, sample))
            total += len(sample)
        client.close()
        print("checked", json.dumps({"count": count, "recall": hits / total}), flush=True)
    """
)


def test_processes_adding_and_closing_at_once(tmp_path: Path, spawn: Any) -> None:
    n_procs, n, dim = 4, 6000, 16
    reps = 10 if LONG else 3
    adders = spawn(ADDER, [[str(i), str(n), str(dim)] for i in range(n_procs)])
    paths = []
    for rep in range(reps):
        path = tmp_path / f"bulk{rep}"
        adders.expect("ready")
        adders.send_all(str(path))
        adders.expect("added")
        adders.send_all("close")
        adders.expect("closed")
        paths.append(path)
    adders.expect("ready")
    adders.finish()
    # A fresh process opens each store (a broken index file must not take pytest down).
    checker = spawn(CHECKER, [[str(n_procs), str(n), str(dim), *map(str, paths)]])
    results = [json.loads(checker.expect("checked")[0]) for _ in paths]
    checker.finish()
    for result in results:
        assert result["count"] == n_procs * n
        assert result["recall"] >= 0.99
