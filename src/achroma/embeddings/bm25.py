"""`ChromaBm25EmbeddingFunction`: chromadb 1.5.9's BM25 document vectors, computed locally.

Each distinct stem of a document gets the BM25 term-frequency weight
``tf·(k+1) / (tf + k·(1 - b + b·len/avg_doc_length))``; the inverse document frequency is
not part of the vector (a collection applies it at query time). Vectors are identical to
chromadb's: same indices, same floating-point values, same labels.

Example::

    from achroma.embeddings import ChromaBm25EmbeddingFunction

    bm25 = ChromaBm25EmbeddingFunction(include_tokens=True)
    [vector] = bm25(["The cats sat on the mats"])
    vector.labels  # ['mat', 'sat', 'cat']: stems, in index order
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, TypedDict

from achroma.core.sparse import SparseVector
from achroma.embeddings.bm25_tokens import DEFAULT_ENGLISH_STOPWORDS, Bm25Tokenizer, token_id
from achroma.embeddings.protocol import Documents, SparseEmbeddingFunction, SparseVectors

NAME: Final = "chroma_bm25"

DEFAULT_K: Final = 1.2
DEFAULT_B: Final = 0.75
DEFAULT_AVG_DOC_LENGTH: Final = 256.0
DEFAULT_TOKEN_MAX_LENGTH: Final = 40
DEFAULT_CHROMA_BM25_STOPWORDS: Final[list[str]] = list(DEFAULT_ENGLISH_STOPWORDS)


class ChromaBm25Config(TypedDict, total=False):
    """What ``get_config`` returns (``stopwords`` only when given)."""

    k: float
    b: float
    avg_doc_length: float
    token_max_length: int
    stopwords: list[str]
    include_tokens: bool


# The JSON types chromadb's config schema (schemas/embedding_functions/chroma_bm25.json)
# allows for each key; "number" is any int or float but not a bool.
_CONFIG_TYPES: Final = {
    "k": "number",
    "b": "number",
    "avg_doc_length": "number",
    "token_max_length": "number",
    "stopwords": "array",
    "include_tokens": "boolean",
}


class ChromaBm25EmbeddingFunction(SparseEmbeddingFunction[Documents]):
    """BM25 sparse vectors of documents; chromadb's ``chroma_bm25`` function.

    Args:
        k: Term-frequency saturation.
        b: How much a document's length discounts its term frequencies.
        avg_doc_length: The document length (in tokens) that is not discounted.
        token_max_length: Longer words (before stemming) are dropped.
        stopwords: Words to drop (compared lowercased); None for chromadb's English list.
        include_tokens: Give each vector its stems as ``labels``.
    """

    def __init__(
        self,
        k: float = DEFAULT_K,
        b: float = DEFAULT_B,
        avg_doc_length: float = DEFAULT_AVG_DOC_LENGTH,
        token_max_length: int = DEFAULT_TOKEN_MAX_LENGTH,
        stopwords: Iterable[str] | None = None,
        include_tokens: bool = False,
    ) -> None:
        self.k = float(k)
        self.b = float(b)
        self.avg_doc_length = float(avg_doc_length)
        self.token_max_length = int(token_max_length)
        self.include_tokens = bool(include_tokens)
        self.stopwords = None if stopwords is None else [str(word) for word in stopwords]
        self._tokenizer = Bm25Tokenizer(
            DEFAULT_CHROMA_BM25_STOPWORDS if self.stopwords is None else self.stopwords,
            self.token_max_length,
        )

    def __call__(self, input: Documents) -> SparseVectors:
        return [self._encode(document) for document in input]

    def embed_query(self, input: Documents) -> SparseVectors:
        """Query vectors are document vectors (BM25 weighs the query side by idf only)."""
        return self.__call__(input)

    def _encode(self, text: str) -> SparseVector:
        stems = self._tokenizer.tokenize(text)
        if not stems:
            return SparseVector(indices=[], values=[])
        counts: dict[int, int] = {}
        labels: dict[int, str] = {}
        for stemmed in stems:
            index = token_id(stemmed)
            counts[index] = counts.get(index, 0) + 1
            # On a hash collision the first stem seen names the index, as in chromadb.
            labels.setdefault(index, stemmed)
        indices = sorted(counts)
        # The same expression, in the same order, as chromadb's: equal floats, not just close.
        norm = self.k * (1 - self.b + (self.b * float(len(stems))) / self.avg_doc_length)
        scale = self.k + 1
        values = [float(counts[i]) * scale / (float(counts[i]) + norm) for i in indices]
        return SparseVector(
            indices=indices,
            values=values,
            labels=[labels[i] for i in indices] if self.include_tokens else None,
        )

    @staticmethod
    def name() -> str:
        return NAME

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaBm25EmbeddingFunction:
        return ChromaBm25EmbeddingFunction(
            k=config.get("k", DEFAULT_K),
            b=config.get("b", DEFAULT_B),
            avg_doc_length=config.get("avg_doc_length", DEFAULT_AVG_DOC_LENGTH),
            token_max_length=config.get("token_max_length", DEFAULT_TOKEN_MAX_LENGTH),
            stopwords=config.get("stopwords"),
            include_tokens=config.get("include_tokens", False),
        )

    def get_config(self) -> dict[str, Any]:
        config: ChromaBm25Config = {
            "k": self.k,
            "b": self.b,
            "avg_doc_length": self.avg_doc_length,
            "token_max_length": self.token_max_length,
            "include_tokens": self.include_tokens,
        }
        if self.stopwords is not None:
            config["stopwords"] = list(self.stopwords)
        return dict(config)

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        for key in new_config:
            if key not in _CONFIG_TYPES:
                raise ValueError(f"Updating '{key}' is not supported for {NAME}")

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        """Raise ValueError unless `config` fits chromadb's ``chroma_bm25`` config schema."""
        for key, value in config.items():
            kind = _CONFIG_TYPES.get(key)
            if kind is None:
                _invalid(f"Additional properties are not allowed ({key!r} was unexpected)")
            elif not _is_json(value, kind):
                _invalid(f"{value!r} is not of type {kind!r}", key)
            elif kind == "array":
                for i, word in enumerate(value):
                    if not isinstance(word, str):
                        _invalid(f"{word!r} is not of type 'string'", f"{key}/{i}")


def _is_json(value: object, kind: str) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _invalid(message: str, path: str = "") -> None:
    text = f"Config validation failed for schema '{NAME}': {message}"
    raise ValueError(f"{text} at path '{path}'" if path else text)
