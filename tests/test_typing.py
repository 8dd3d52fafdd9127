"""Type checkers see the whole API: the README's code and examples/ pass `mypy --strict`,
and a misspelt method is an error.

mypy runs once (in-process, with a fresh cache in a temporary directory) over examples/, the
README's python blocks and a few snippets; each test reads its report.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)

TYPO = """\
import achroma

client = achroma.EphemeralClient()
col = client.get_or_create_collection("docs", embedding_function=None)
col.qurey(query_embeddings=[[0.1, 0.2]])
"""

# A function of documents is accepted where chromadb's annotation would refuse it, and the
# results keep their types across the sync wrapper.
TYPED = """\
import achroma
from achroma import Documents, Embeddings, EmbeddingFunction


class Lengths(EmbeddingFunction[Documents]):
    def __call__(self, input: Documents) -> Embeddings:
        return []


def names(client: achroma.ClientAPI) -> list[str]:
    col = client.create_collection("docs", embedding_function=Lengths())
    ids: list[str] = col.get(where={"lang": "en"})["ids"]
    return [c.name for c in client.list_collections()] + ids


async def count(client: achroma.AsyncClient) -> int:
    async with client:
        return await (await client.get_collection("docs")).count()
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> str:
    """mypy --strict's report on examples/, the README's blocks and the snippets above."""
    snippets = tmp_path_factory.mktemp("snippets")
    for i, block in enumerate(FENCE.findall((ROOT / "README.md").read_text())):
        # Blocks assume `import achroma`; top-level await is the async examples' shorthand.
        (snippets / f"readme_{i}.py").write_text("import achroma\n" + block)
    (snippets / "typo.py").write_text(TYPO)
    (snippets / "typed.py").write_text(TYPED)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MYPYPATH", str(ROOT / "src"))
        stdout, stderr, _ = mypy_api.run(
            [
                "--strict",
                "--config-file", str(ROOT / "pyproject.toml"),
                "--cache-dir", str(tmp_path_factory.mktemp("mypy-cache")),
                "--disable-error-code", "top-level-await",
                "--no-pretty",
                str(ROOT / "examples"),
                str(snippets),
            ]
        )  # fmt: skip
    return stdout + stderr


def _errors(report: str, file: str) -> list[str]:
    return [line for line in report.splitlines() if f"{file}:" in line and "error:" in line]


def test_mypy_checked_every_file(report: str) -> None:
    readme_blocks = len(FENCE.findall((ROOT / "README.md").read_text()))
    files = len(list((ROOT / "examples").glob("*.py"))) + readme_blocks + 2
    assert f"checked {files} source files" in report, report


def test_the_examples_pass_mypy_strict(report: str) -> None:
    assert not _errors(report, "examples/"), report


def test_the_readme_code_passes_mypy_strict(report: str) -> None:
    assert not _errors(report, "readme_"), report


def test_typed_usage_passes_mypy_strict(report: str) -> None:
    assert not _errors(report, "typed.py"), report


def test_a_misspelt_method_is_a_type_error(report: str) -> None:
    [error] = _errors(report, "typo.py")
    assert 'typo.py:5: error: "Collection" has no attribute "qurey"' in error
