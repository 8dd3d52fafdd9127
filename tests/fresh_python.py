"""Scripts in a fresh interpreter, for the tests of `achroma.install_as_chromadb()`.

The alias changes `sys.modules` for good, so each script runs in its own interpreter, with
achroma from this checkout. After an alias script, no module of the real chromadb may have
been loaded. `real_chromadb` says where the real chromadb 1.5.9 stands:

- "visible": importable, as where both are installed; the alias must win all the same.
- "hidden": every import of it fails as if it were not installed (a meta-path finder in
  front of the path finders), so nothing the alias lacks can come from it.
- "used": the script is the reference run, on chromadb itself; nothing is checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Literal

SRC = Path(__file__).resolve().parent.parent / "src"

# Put before a script: chromadb's own modules cannot be imported. The alias, installed later,
# goes in front of this finder, so chromadb's paths that achroma has still resolve.
HIDE_REAL_CHROMADB = """
import importlib.abc as _abc
import sys as _sys

class _RealChromadbHidden(_abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in ("chromadb", "chromadb_rust_bindings"):
            raise ModuleNotFoundError(f"No module named {fullname!r} (hidden)", name=fullname)
        return None

_sys.meta_path.insert(0, _RealChromadbHidden())
"""

# Put first in an integration's script: no connection leaves the machine.
OFFLINE = """
import socket

_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex

def _loopback_only(address):
    if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
        raise OSError(f"this test runs offline: no connection to {address!r}")

def connect(self, address):
    _loopback_only(address)
    return _connect(self, address)

def connect_ex(self, address):
    _loopback_only(address)
    return _connect_ex(self, address)

socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
"""

# Put after OFFLINE in an integration's script run on achroma.
ALIAS = """
import achroma
achroma.install_as_chromadb()
"""

# Put after an alias script: an installed chromadb must never have been imported.
NO_REAL_CHROMADB = """
import sys
from pathlib import Path
for _name, _module in list(sys.modules.items()):
    _parts = Path(getattr(_module, "__file__", None) or "").parts
    _real = [i for i, part in enumerate(_parts) if part == "chromadb" and _parts[i - 1] != "achroma"]
    assert not _real, (_name, _module.__file__)
assert "chromadb_rust_bindings" not in sys.modules
"""


def run_script(
    source: str,
    real_chromadb: Literal["visible", "hidden", "used"] = "visible",
    timeout: float = 120,
) -> str:
    """Run `source` (dedented) in a fresh interpreter; fail on its error, else its stdout."""
    paths = [str(SRC), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "ANONYMIZED_TELEMETRY": "False"}
    script = textwrap.dedent(source)
    if real_chromadb == "hidden":
        script = HIDE_REAL_CHROMADB + script
    if real_chromadb != "used":
        script += NO_REAL_CHROMADB
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
