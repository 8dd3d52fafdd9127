"""Servers for the HTTP tests: `achroma run` and Chroma's `chroma run`, each a subprocess on
127.0.0.1 at a free port, started once per test module and stopped by the fixture.

Loaded as a pytest plugin from conftest.py. Fixtures skip cleanly when the server extra (for
achroma) or chromadb's `chroma` command (for Chroma) is missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

START_TIMEOUT_SECS = 60.0
STOP_TIMEOUT_SECS = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A running server process and where to reach it."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    path: Path
    log: Path
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api(self) -> str:
        return self.url + "/api/v2"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop gracefully (SIGTERM by default), killing it if it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(STOP_TIMEOUT_SECS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM if the test process dies without stopping it."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _start(name: str, command: Sequence[str], port: int, path: Path, log: Path) -> Server:
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_die_with_parent,
        )
    server = Server(name, process, port, path, log)
    deadline = time.monotonic() + START_TIMEOUT_SECS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(server.api + "/heartbeat", timeout=1.0).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} did not start in {START_TIMEOUT_SECS}s:\n{server.output()}")


def start_achroma(path: Path, *args: str, port: int | None = None) -> Server:
    """`python -m achroma run` on `path` (extra `args` such as "--allow-reset")."""
    port = port or free_port()
    command = [sys.executable, "-m", "achroma", "run", "--path", str(path)]
    command += ["--host", "127.0.0.1", "--port", str(port), *args]
    return _start("achroma", command, port, path, path.with_suffix(".log"))


def chroma_command() -> str | None:
    beside = Path(sys.executable).with_name("chroma")
    return str(beside) if beside.exists() else shutil.which("chroma")


def start_chroma(path: Path, allow_reset: bool = True) -> Server:
    """Chroma's Rust server (`chroma run` from chromadb), configured by a file since its
    command line has no reset switch."""
    command = chroma_command()
    assert command is not None
    port = free_port()
    config = path.with_suffix(".yaml")
    config.write_text(
        f"persist_path: {path}\nport: {port}\nlisten_address: 127.0.0.1\n"
        f"allow_reset: {'true' if allow_reset else 'false'}\n"
    )
    return _start("chroma", [command, "run", str(config)], port, path, path.with_suffix(".log"))


def needs_server_extra() -> None:
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")


def needs_chroma() -> None:
    pytest.importorskip("chromadb")
    if chroma_command() is None:
        pytest.skip("chromadb's `chroma` command is not installed")


@pytest.fixture(scope="module")
def achroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`achroma run --allow-reset`, once per test module."""
    needs_server_extra()
    server = start_achroma(tmp_path_factory.mktemp("achroma") / "data", "--allow-reset")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Chroma's `chroma run` with reset allowed, once per test module."""
    needs_chroma()
    server = start_chroma(tmp_path_factory.mktemp("chroma") / "data")
    yield server
    server.stop()
