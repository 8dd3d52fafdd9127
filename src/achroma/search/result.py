"""Placeholder until the expression API lands (replaced by the helper's module)."""

from __future__ import annotations

from typing import Any


class SearchResult(dict[str, Any]):
    pass
