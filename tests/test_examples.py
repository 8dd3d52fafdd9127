"""Every example runs, as a user would run it, from a fresh working directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_example_runs(example: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(example)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_quickstart_finds_the_relevant_documents(tmp_path: Path) -> None:
    example = Path(__file__).parent.parent / "examples" / "quickstart.py"
    out = subprocess.run(
        [sys.executable, str(example)], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert "holds 5 documents" in out
    assert out.index("usearch") < out.index("database crash safety") < out.index("  wal")
    assert (tmp_path / "chroma" / "achroma.sqlite3").exists()
