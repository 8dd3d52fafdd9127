"""The generated sync classes (`achroma/sync_api.py`) match the async classes they mirror."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

GENERATOR = Path(__file__).resolve().parent.parent / "tools" / "generate_sync_api.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_sync_api", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_sync_api_is_up_to_date() -> None:
    generator = _generator()
    assert generator.TARGET.read_text() == generator.render(), (
        "src/achroma/sync_api.py is stale: run python tools/generate_sync_api.py"
    )


def test_check_mode_fails_on_a_stale_file_and_writing_mends_it(tmp_path: Path) -> None:
    generator = _generator()
    stale = tmp_path / "sync_api.py"
    stale.write_text(generator.TARGET.read_text().replace("def count(", "def counts(", 1))
    generator.TARGET = stale
    assert generator.main(["--check"]) == 1
    assert generator.main([]) == 0
    assert generator.main(["--check"]) == 0
