"""chromadb's Search API: expressions for a `Search` request and the `SearchResult` it gets.

- `key`: `Key` / `K`, field names that build filter predicates;
- `where`: `Where` filter trees (`And`, `Or`, `Eq`, ...);
- `rank`: `Rank` scoring trees (`Knn`, `Val`, arithmetic, `Rrf`);
- `group_by`: `GroupBy` with `MinK` / `MaxK`;
- `search`: `Search`, with its `Limit` and `Select`;
- `read_level`: `ReadLevel`; `result`: `SearchResult` and `SearchResultRow`.

Every part serialises with ``to_dict()`` to chromadb 1.5.9's wire JSON and reads it back
with ``from_dict()``; the engine and the HTTP client consume ``Search.to_dict()``.
"""

from achroma.core.sparse import SparseVector
from achroma.search.group_by import Aggregate, GroupBy, MaxK, MinK
from achroma.search.key import K, Key
from achroma.search.rank import (
    Abs,
    Div,
    Exp,
    Knn,
    Log,
    Max,
    Min,
    Mul,
    Rank,
    Rrf,
    Sub,
    Sum,
    Val,
)
from achroma.search.read_level import ReadLevel
from achroma.search.result import SearchResult, SearchResultRow
from achroma.search.search import Limit, Search, Select
from achroma.search.where import (
    And,
    Contains,
    Eq,
    Gt,
    Gte,
    In,
    Lt,
    Lte,
    Ne,
    Nin,
    NotContains,
    NotRegex,
    Or,
    Regex,
    SearchWhere,
    Where,
)

__all__ = [
    "Abs",
    "Aggregate",
    "And",
    "Contains",
    "Div",
    "Eq",
    "Exp",
    "GroupBy",
    "Gt",
    "Gte",
    "In",
    "K",
    "Key",
    "Knn",
    "Limit",
    "Log",
    "Lt",
    "Lte",
    "Max",
    "MaxK",
    "Min",
    "MinK",
    "Mul",
    "Ne",
    "Nin",
    "NotContains",
    "NotRegex",
    "Or",
    "Rank",
    "ReadLevel",
    "Regex",
    "Rrf",
    "Search",
    "SearchResult",
    "SearchResultRow",
    "SearchWhere",
    "Select",
    "SparseVector",
    "Sub",
    "Sum",
    "Val",
    "Where",
]
