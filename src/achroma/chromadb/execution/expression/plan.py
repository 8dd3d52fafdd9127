"""chromadb's ``chromadb.execution.expression.plan``: `Search` (its engine's plans aside)."""

from achroma.search import Search

__all__ = ["Search"]
