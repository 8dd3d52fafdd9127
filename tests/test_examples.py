"""Every example runs, as a user would run it, from a fresh working directory.

Each example runs once per test session (in its own directory); the tests read its output.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).parent.parent / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))


def _run(example: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / f"{example}.py")],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


Ran = Callable[[str], tuple[subprocess.CompletedProcess[str], Path]]


@pytest.fixture(scope="session")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    """`ran(name)`: the finished run of examples/<name>.py and the directory it ran in."""
    runs: dict[str, tuple[subprocess.CompletedProcess[str], Path]] = {}

    def get(example: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        if example not in runs:
            cwd = tmp_path_factory.mktemp(example)
            runs[example] = (_run(example, cwd), cwd)
        return runs[example]

    return get


# Modules an example needs beyond achroma's own dependencies (all in the dev extra).
NEEDS = {
    "fastapi_app": ["fastapi"],
    "server_and_http_clients": ["uvicorn", "starlette"],
    "llamaindex_rag": ["llama_index.core", "llama_index.vector_stores.chroma"],
    "langchain_rag": ["langchain_core", "langchain_chroma"],
}


def _stdout(ran: Ran, example: str) -> str:
    for module in NEEDS.get(example, []):
        pytest.importorskip(module)
    done, _ = ran(example)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_example_runs(example: Path, ran: Ran) -> None:
    assert _stdout(ran, example.stem).strip()


def test_quickstart_finds_the_relevant_documents(ran: Ran) -> None:
    out = _stdout(ran, "quickstart")
    assert "holds 5 documents" in out
    assert out.index("usearch") < out.index("database crash safety") < out.index("  wal")
    assert (ran("quickstart")[1] / "chroma" / "achroma.sqlite3").exists()


def _hit_ids(out: str, header: str) -> list[str]:
    """The ids listed (one per indented line) under the line starting with `header`."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header)) + 1
    ids = []
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        ids.append(line.split()[0])
    return ids


def test_fastapi_app_adds_and_searches_through_its_endpoints(ran: Ran) -> None:
    out = _stdout(ran, "fastapi_app")
    assert "POST /documents -> 201 {'count': 5}" in out
    assert _hit_ids(out, "GET /search {'q': 'how do I make bread'") == ["bread", "pasta"]
    assert _hit_ids(out, "GET /search {'q': 'what causes ocean tides'")[0] == "tide"
    assert _hit_ids(out, "GET /search {'q': 'astronomy', 'n': 1, 'topic'") == ["orbit"]
    assert "GET /search n=0 -> 422" in out
    assert "POST /documents (one id twice) -> 400 Expected IDs to be unique" in out
    # The lifespan opened the store in ./chroma and closed it: the index was saved.
    assert list((ran("fastapi_app")[1] / "chroma" / "indexes").glob("*.usearch"))


def test_anyio_example_suite_passes_quietly(ran: Ran) -> None:
    out = _stdout(ran, "testing_with_anyio")
    assert re.search(r"^6 passed in ", out, re.MULTILINE), out
    assert "warning" not in out


def test_server_example_serves_both_clients_then_stops(ran: Ran) -> None:
    out = _stdout(ran, "server_and_http_clients")
    assert "HttpClient: added 6 documents to 'notes'" in out
    answers = dict(re.findall(r"AsyncHttpClient: '(.+)' -> (.+)", out))
    assert set(answers["a hot caffeinated drink"].split(", ")) == {"espresso", "green-tea"}
    assert set(answers["how mountains and valleys form"].split(", ")) == {"glacier", "volcano"}
    assert set(answers["musical instruments"].split(", ")) == {"violin", "drums"}
    assert out.rstrip().endswith("achroma run: stopped")
    match = re.search(r"serving (\S+) on port (\d+)", out)
    assert match is not None
    assert not Path(match[1]).exists()
    with pytest.raises(ConnectionRefusedError), socket.socket() as sock:
        sock.connect(("127.0.0.1", int(match[2])))


def _sources(out: str) -> dict[str, list[str]]:
    found = re.findall(r"^Q: (.+)\n\s+sources: (.*)$", out, re.MULTILINE)
    return {question: sources.split(", ") for question, sources in found}


def test_rag_search_retrieves_from_the_right_articles(ran: Ran) -> None:
    out = _stdout(ran, "rag_search")
    assert "indexed 45 chunks from 15 files" in out
    sources = _sources(out)
    assert sources["How do bees survive the cold months?"][0] == "beekeeping.txt#1"
    assert sources["Why does the sea level rise and fall twice a day?"][0] == "tides.txt#0"
    assert sources["How often should I oil my bike chain?"] == ["bicycle.txt#0"]
    assert sources["What makes the aurora green or red?"][0].startswith("aurora.txt#")
    assert all(
        s.startswith("octopuses.txt#") for s in sources["How does an octopus change colour?"]
    )


def test_rag_search_indexes_idempotently(ran: Ran) -> None:
    first_out = _stdout(ran, "rag_search")
    again = _run("rag_search", ran("rag_search")[1])
    assert again.returncode == 0, again.stderr
    assert "indexed 45 chunks from 15 files" in again.stdout
    assert _sources(again.stdout) == _sources(first_out)


def test_llamaindex_example_retrieves_from_the_right_articles(ran: Ran) -> None:
    out = _stdout(ran, "llamaindex_rag")
    assert "indexed 11 chunks from 5 articles" in out
    sources = {
        question: re.findall(r"^   \[(\S+) ", answer, re.MULTILINE)
        for question, answer in re.findall(r"^Q: (.+)\n((?:   .*\n)+)", out, re.MULTILINE)
    }
    assert sources["How do bees survive the cold months?"] == ["beekeeping.txt"] * 2
    assert sources["Why does the sea level rise and fall twice a day?"] == ["tides.txt"] * 2
    assert sources["How often should I oil my bike chain?"][0] == "bicycle.txt"
    assert "coffee.txt only: Coffee beans" in out


def test_langchain_example_retrieves_from_the_right_articles(ran: Ran) -> None:
    out = _stdout(ran, "langchain_rag")
    assert "indexed 15 paragraphs from 5 articles" in out
    hits = {
        question: re.findall(r"^   \[(\S+)\] ", answer, re.MULTILINE)
        for question, answer in re.findall(r"^Q: (.+)\n((?:   .*\n)+)", out, re.MULTILINE)
    }
    assert hits["How do bees survive the cold months?"][0] == "beekeeping.txt#1"
    assert hits["Why does the sea level rise and fall twice a day?"] == [
        "tides.txt#0",
        "tides.txt#1",
    ]
    assert hits["How often should I oil my bike chain?"][0] == "bicycle.txt#0"
    assert "coffee.txt only: Coffee beans" in out
    assert "best for bees: beekeeping.txt#1 relevance 0.7" in out
    assert "asimilarity_search agrees: True" in out


def test_hybrid_search_fuses_meaning_and_keywords(ran: Ran) -> None:
    out = _stdout(ran, "hybrid_search")
    assert "indexed 45 paragraphs" in out
    rankings = {
        question: dict(re.findall(r"^   (\w+): +(.*)$", block, re.MULTILINE))
        for question, block in re.findall(r"^Q: (.+)\n((?:   .*\n?)+)", out, re.MULTILINE)
    }
    expected = {
        "Which chess opening answers 1.e4 with c5?": "chess#",
        "When is the difference between high and low tide largest?": "tides#",
        "How do I keep a sourdough starter alive?": "sourdough#",
    }
    for question, article in expected.items():
        found = {
            name: ids.split(", ") for name, ids in rankings[question].items() if name != "best"
        }
        assert all(ids[0].startswith(article) for ids in found.values()), found
        # The fused winner is at the top of both lists it fuses.
        assert found["hybrid"][0] in found["dense"][:2] and found["hybrid"][0] in found["bm25"][:2]
