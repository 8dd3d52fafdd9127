"""The documentation site: every ```python block on its pages runs, and it builds strictly.

The blocks of one page run in order in one fresh interpreter, sharing one namespace (a page
reads as one session), with an empty temporary directory as the working directory. On the line
before a block, `<!-- not-run -->` skips it (for snippets that need a server or use top-level
await) and `<!-- requires: MODULE ... -->` skips it unless every MODULE is installed (e.g. the
default embedding model). Errors point at the page and line of the Markdown file.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from subprocess import PIPE, Popen

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# server.md is the server's own page; its snippets need a running server, and the HTTP tests
# (tests/test_http_*.py) exercise what it shows.
UNRUN_PAGES = {"server.md"}

FENCE = re.compile(r"^```python\s*$")
NOT_RUN = "<!-- not-run -->"
REQUIRES = re.compile(r"^<!-- requires: ([\w. ]+) -->$")

# Runs in the child: the (path, first line, source) triples in the JSON file argv[1], in one
# namespace, so that tracebacks name the Markdown file and line.
DRIVER = """
import json, sys
namespace = {"__name__": "__main__"}
with open(sys.argv[1]) as f:
    blocks = json.load(f)
for path, line, source in blocks:
    exec(compile("\\n" * (line - 1) + source, path, "exec"), namespace)
"""


def python_blocks(page: Path) -> list[tuple[int, str, str | None]]:
    """(first line of code, code, why it is skipped or None) for each ```python block."""
    lines = page.read_text().splitlines()
    blocks: list[tuple[int, str, str | None]] = []
    i = 0
    while i < len(lines):
        if not FENCE.match(lines[i]):
            i += 1
            continue
        before = next((s.strip() for s in reversed(lines[:i]) if s.strip()), "")
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        skip = None
        if before == NOT_RUN:
            skip = "not-run"
        elif (needs := REQUIRES.match(before)) and (
            missing := [m for m in needs[1].split() if importlib.util.find_spec(m) is None]
        ):
            skip = f"needs {', '.join(missing)}"
        blocks.append((i + 2, "\n".join(lines[i + 1 : end]) + "\n", skip))
        i = end + 1
    return blocks


PAGES = sorted(
    p
    for p in DOCS.rglob("*.md")
    if p.relative_to(DOCS).as_posix() not in UNRUN_PAGES and python_blocks(p)
)


def test_the_pages_have_code_to_run() -> None:
    assert {"index.md", "getting-started.md", "filters.md"} <= {p.name for p in PAGES}


@pytest.fixture(scope="module")
def page_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[Path, Popen[str]]]:
    """Every page's blocks, started at once (one process per page), to keep the test fast."""
    paths = [str(ROOT / "src"), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    runs: dict[Path, Popen[str]] = {}
    for page in PAGES:
        runnable = [(str(page), line, code) for line, code, skip in python_blocks(page) if not skip]
        if not runnable:
            continue
        blocks = tmp_path_factory.mktemp("blocks") / f"{page.stem}.json"
        blocks.write_text(json.dumps(runnable))
        cwd = tmp_path_factory.mktemp(page.stem)  # empty: the page's working directory
        runs[page] = Popen(
            [sys.executable, "-c", DRIVER, str(blocks)],
            cwd=cwd,
            env=env,
            stdout=PIPE,
            stderr=PIPE,
            text=True,
        )
    yield runs
    for proc in runs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_page_code_runs(page: Path, page_runs: dict[Path, Popen[str]]) -> None:
    if page not in page_runs:
        pytest.skip(f"every block of {page.name} is skipped")
    _, stderr = page_runs[page].communicate(timeout=180)
    assert page_runs[page].returncode == 0, stderr


def test_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    pytest.importorskip("mkdocstrings_handlers.python")
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml")]
        + ["-d", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    # The reference is generated from the docstrings, not left empty.
    collection = (site / "reference" / "collection" / "index.html").read_text()
    assert 'id="achroma.api.collection.AsyncCollection.query"' in collection
