"""`SearchResult`: the column-major answer to a batch of searches, and its rows."""

from __future__ import annotations

from typing import Any, TypedDict


class _RowId(TypedDict):
    id: str


class SearchResultRow(_RowId, total=False):
    """One result: always its `id`; each other field only when selected and not None."""

    document: str
    embedding: list[float]
    metadata: dict[str, Any]
    score: float


class SearchResult(dict[str, Any]):
    """The answer to ``collection.search([s1, s2, ...])``: one entry per search, in order.

    Keys (chromadb's wire form):

    - ``ids``: ``list[list[str]]``, always;
    - ``documents``, ``embeddings``, ``metadatas``, ``scores``: per search, a list with one
      value (or None) per result when the search selected that field, else None;
    - ``select``: per search, the selected keys as the server sorted them.

    Example::

        result = await collection.search([Search().rank(Knn(query=q)).select(K.SCORE)])
        for row in result.rows()[0]:
            print(row["id"], row.get("score"))
    """

    def rows(self) -> list[list[SearchResultRow]]:
        """The results row by row: for each search, one `SearchResultRow` per result."""
        all_ids: list[list[str]] = self.get("ids", [])
        # A column is None where no search selected it, its entry None where one search did not.
        columns = [self.get(name) or [None] * len(all_ids) for name in _COLUMNS]
        result: list[list[SearchResultRow]] = []
        # Short columns truncate (strict=False), as in chromadb's rows().
        for ids, *entries in zip(all_ids, *columns, strict=False):
            filled = [entry or [None] * len(ids) for entry in entries]
            result.append([_row(*values) for values in zip(ids, *filled, strict=False)])
        return result


_COLUMNS = ("documents", "embeddings", "metadatas", "scores")


def _row(id_: str, document: Any, embedding: Any, metadata: Any, score: Any) -> SearchResultRow:
    row = SearchResultRow(id=id_)
    if document is not None:
        row["document"] = document
    if embedding is not None:
        row["embedding"] = embedding
    if metadata is not None:
        row["metadata"] = metadata
    if score is not None:
        row["score"] = score
    return row
