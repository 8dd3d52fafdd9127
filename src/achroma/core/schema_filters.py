"""The refusal of a read or delete that needs an index its collection's schema turned off, as
chromadb 1.5.9's frontend refuses it, over the parsed requests (`core.schema_rules` holds
the rules over filter JSON):

- a metadata filter on a key and operand type whose inverted index is disabled;
- a document filter (`where_document`, a Search's ``#document`` leaf) with FTS disabled;
- a sparse `Knn` on a key without an enabled sparse vector index.

Leaves are checked in the order they are written, so the error names the first one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from achroma.core.filters import (
    Comparison,
    Contains,
    DocumentMatch,
    Junction,
    Membership,
)
from achroma.core.requests import RecordFilter
from achroma.core.schema_rules import (
    Json,
    filter_check,
    fts_check,
    sparse_index_key,
    sparse_knn_check,
    value_type_of,
)
from achroma.core.search_plan import SearchRequest


def _leaves(node: Any) -> Iterator[Any]:
    if isinstance(node, Junction):
        for clause in node.clauses:
            yield from _leaves(clause)
    else:
        yield node


def _check_node(schema: Json, node: Any) -> None:
    for leaf in _leaves(node):
        if isinstance(leaf, DocumentMatch):
            fts_check(schema)
            continue
        if isinstance(leaf, Comparison | Contains):
            operand: Any = leaf.value
        elif isinstance(leaf, Membership):
            operand = list(leaf.values)
        else:  # an `#id` test needs no index
            continue
        value_type = value_type_of(operand)
        if value_type is not None:
            filter_check(schema, leaf.key, value_type)


def check_record_filter(schema: Json, selection: RecordFilter) -> None:
    """Refuse `selection` (`InvalidArgumentError`, chromadb's message) if it filters on a
    disabled index: `where` first, then `where_document`, then a Search's mixed filter."""
    if selection.where is not None:
        _check_node(schema, selection.where)
    if selection.where_document is not None:
        fts_check(schema)
    if selection.mixed is not None:
        _check_node(schema, selection.mixed)


def check_search(schema: Json, request: SearchRequest) -> None:
    """Refuse a Search batch that filters on a disabled index or ranks by a sparse `Knn` on
    a key without an enabled sparse vector index (dense `Knn`s are always allowed)."""
    for plan in request.searches:
        check_record_filter(schema, plan.filter)
        for knn in plan.knns():
            if knn.sparse:
                sparse_knn_check(schema, knn.key)


def bm25_keys(schema: Json) -> set[str]:
    """The sparse keys whose queries are scored with BM25's IDF: the collection's sparse
    index key, when its config says ``bm25``."""
    found = sparse_index_key(schema)
    if found is None or not found[1].get("bm25"):
        return set()
    return {found[0]}
