"""`Key` (alias `K`): a field name that builds filter predicates, with the special fields.

``K.ID``, ``K.DOCUMENT``, ``K.EMBEDDING``, ``K.METADATA`` and ``K.SCORE`` name a record's own
fields (``#id``, ...); any other name is a metadata field. Comparisons build `Where` nodes::

    (K("cat") == "a") & (K("n") > 5) & K.DOCUMENT.contains("foo")
"""

from __future__ import annotations

from typing import Any, ClassVar

from achroma.search.where import (
    Contains,
    Eq,
    Gt,
    Gte,
    In,
    LiteralValue,
    Lt,
    Lte,
    Ne,
    Nin,
    NotContains,
    NotRegex,
    Regex,
    check_document_operand,
)


class Key:
    """A field of a record: ``#id``, ``#document``, ``#embedding``, ``#metadata``, ``#score``,
    or a metadata key.

    As in chromadb, ``==`` and ``!=`` build predicates rather than compare, so a `Key` is
    always truthy under ``==``; compare `name` to test which field a key is.
    """

    ID: ClassVar[Key]
    DOCUMENT: ClassVar[Key]
    EMBEDDING: ClassVar[Key]
    METADATA: ClassVar[Key]
    SCORE: ClassVar[Key]

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Key({self.name!r})"

    def __hash__(self) -> int:
        return hash(self.name)

    def __eq__(self, value: Any) -> Eq:  # type: ignore[override]
        return Eq(self.name, value)

    def __ne__(self, value: Any) -> Ne:  # type: ignore[override]
        return Ne(self.name, value)

    def __gt__(self, value: Any) -> Gt:
        return Gt(self.name, value)

    def __ge__(self, value: Any) -> Gte:
        return Gte(self.name, value)

    def __lt__(self, value: Any) -> Lt:
        return Lt(self.name, value)

    def __le__(self, value: Any) -> Lte:
        return Lte(self.name, value)

    def is_in(self, values: list[Any]) -> In:
        """The field's value is one of `values`."""
        return In(self.name, values)

    def not_in(self, values: list[Any]) -> Nin:
        """The field's value is none of `values`."""
        return Nin(self.name, values)

    def regex(self, pattern: str) -> Regex:
        """The field (in practice ``K.DOCUMENT``) matches `pattern`."""
        return Regex(self.name, pattern)

    def not_regex(self, pattern: str) -> NotRegex:
        """The field does not match `pattern`."""
        return NotRegex(self.name, pattern)

    def contains(self, value: LiteralValue) -> Contains:
        """On ``K.DOCUMENT`` a substring test (`value` must be a str); else array membership."""
        check_document_operand("$contains", self.name, value)
        return Contains(self.name, value)

    def not_contains(self, value: LiteralValue) -> NotContains:
        """The negation of `contains`."""
        check_document_operand("$not_contains", self.name, value)
        return NotContains(self.name, value)


Key.ID = Key("#id")
Key.DOCUMENT = Key("#document")
Key.EMBEDDING = Key("#embedding")
Key.METADATA = Key("#metadata")
Key.SCORE = Key("#score")

K = Key


def key_name(key: Key | str) -> str:
    """The wire name of a key given as a `Key` or a str."""
    return key.name if isinstance(key, Key) else key
