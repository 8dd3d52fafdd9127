"""Record batches: validation and normalisation of add/upsert/update/get/query input.

Messages follow chromadb 1.5.9 (` in <op>.` is appended by `AsyncCollection`). All checks run
before anything is written, so a bad batch writes nothing.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sized
from typing import Any

import numpy as np
import numpy.typing as npt

from achroma.api.validation import validate_metadata
from achroma.core.models import Include
from achroma.core.text import check_utf8, is_utf8
from achroma.errors import DuplicateIDError, InvalidArgumentError

INCLUDE_VALUES = ("documents", "embeddings", "metadatas", "distances", "uris", "data")
RESERVED_DOCUMENT_KEY = "chroma:document"


def normalize_ids(
    ids: Any, nonempty_message: str | None = None, allow_empty_id: bool = False
) -> list[str]:
    """Accept one id or a list of ids; check they are strings, unique and (unless
    `allow_empty_id`, as chromadb's get and delete do) not empty."""
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list):
        raise ValueError(f"Expected IDs to be a list, got {type(ids).__name__} as IDs")
    if not ids and nonempty_message is not None:
        raise ValueError(nonempty_message)
    for i in ids:
        if not isinstance(i, str):
            raise ValueError(f"Expected ID to be a str, got {i}")
        if i == "" and not allow_empty_id:
            raise InvalidArgumentError("Empty ID, ID must have at least one character")
    if len(set(ids)) != len(ids):
        dups = [i for i, n in Counter(ids).items() if n > 1]
        if len(dups) >= 10:
            shown = ", ".join(dups[:5])
            raise DuplicateIDError(
                f"Expected IDs to be unique, found {len(dups)} duplicated IDs: {shown}, ..., ..."
            )
        raise DuplicateIDError(f"Expected IDs to be unique, found duplicates of: {', '.join(dups)}")
    return list(ids)


def normalize_query_ids(ids: Any) -> list[str] | None:
    """`query(ids=...)`: one id or a list; duplicates and an empty list are allowed."""
    if ids is None:
        return None
    ids = [ids] if isinstance(ids, str) else ids
    if not isinstance(ids, list):
        raise ValueError(f"Expected IDs to be a list, got {type(ids).__name__} as IDs")
    for i in ids:
        if not isinstance(i, str):
            raise ValueError(f"Expected ID to be a str, got {i}")
    return list(ids)


_EMBEDDING_SHAPES = (
    "Expected embeddings to be a list of floats or ints, a list of lists, a numpy array, "
    "or a list of numpy arrays, got {}"
)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(
        x, (bool, np.bool_)
    )


def normalize_embeddings(embeddings: Any) -> npt.NDArray[np.float32]:
    """One vector or many, as lists or numpy arrays, into a float32 (n, d) array."""
    if isinstance(embeddings, np.ndarray):
        if embeddings.ndim == 1:
            embeddings = embeddings[None, :]
        if embeddings.ndim != 2 or embeddings.dtype.kind not in "iuf":
            raise ValueError(_EMBEDDING_SHAPES.format(embeddings))
        if embeddings.shape[0] == 0:
            raise ValueError("Expected Embeddings to be non-empty list or numpy array, got []")
        out = np.ascontiguousarray(embeddings, dtype=np.float32)
    else:
        if not isinstance(embeddings, list) or not embeddings:
            raise ValueError(
                f"Expected Embeddings to be non-empty list or numpy array, got {embeddings}"
            )
        if all(_is_number(x) for x in embeddings):
            rows: list[Any] = [embeddings]
        else:
            rows = embeddings
        for row in rows:
            ok = (isinstance(row, np.ndarray) and row.ndim == 1 and row.dtype.kind in "iuf") or (
                isinstance(row, list) and all(_is_number(x) for x in row)
            )
            if not ok:
                raise ValueError(_EMBEDDING_SHAPES.format(embeddings))
        dims = {len(row) for row in rows}
        if 0 in dims:
            raise InvalidArgumentError("Expected each embedding to have at least one dimension")
        if len(dims) > 1:
            raise InvalidArgumentError("Inconsistent dimensions in provided embeddings")
        out = np.asarray(rows, dtype=np.float32)
    if out.shape[1] == 0:
        raise InvalidArgumentError("Expected each embedding to have at least one dimension")
    return out


def _as_list(value: Any, single: type | tuple[type, ...]) -> Any:
    return [value] if isinstance(value, single) else value


def check_lengths(**columns: Sized | None) -> None:
    """Every given column is non-empty and all are equally long (columns in chromadb's order)."""
    given = {name: len(col) for name, col in columns.items() if col is not None}
    empty = [name for name, n in given.items() if n == 0]
    if empty:
        raise ValueError(f"Non-empty lists are required for {empty}")
    if len(set(given.values())) > 1:
        parts = ", ".join(f"{k}: {v}" for k, v in given.items())
        raise ValueError(f"Unequal lengths for fields: {parts}")


def normalize_metadatas(metadatas: Any, op: str) -> list[Any] | None:
    """One metadata dict or a list of them (None items allowed), checked by Chroma's rules.
    None values are accepted here; `add` rejects them separately (`reject_none_values`)."""
    if metadatas is None:
        return None
    metadatas = _as_list(metadatas, dict)
    if not isinstance(metadatas, list):
        raise ValueError(f"Expected metadatas to be a list, got {metadatas}")
    plain = [_is_plain(m) for m in metadatas]
    for m, simple in zip(metadatas, plain, strict=True):
        if m is None or simple:
            continue
        if not isinstance(m, dict):
            raise AttributeError(f"'{type(m).__name__}' object has no attribute 'items'")
        if not m:
            raise ValueError("Expected metadata to be a non-empty dict, got 0 metadata attributes")
        if RESERVED_DOCUMENT_KEY in m:
            raise ValueError(
                f"Expected metadata to not contain the reserved key {RESERVED_DOCUMENT_KEY}"
            )
        validate_metadata(m, op, allow_none_values=True)
    for index, (m, simple) in enumerate(zip(metadatas, plain, strict=True)):
        for key in () if simple else m or ():
            if key == "" or key.startswith(("#", "$")):
                raise InvalidArgumentError(
                    f"Validation error: metadatas: Invalid metadata at index {index}"
                )
    pairs = zip(metadatas, plain, strict=True)
    return [dict(m) if simple else clean_metadata(m) for m, simple in pairs]


def _is_plain(m: Any) -> bool:
    """Whether a metadata passes every check of `normalize_metadatas` and is left as it is
    by `clean_metadata`: a non-empty dict of ordinary keys and finite str, bool, int64 and
    float scalars (the common case, checked in one pass; others take the full checks)."""
    if type(m) is not dict or not m or RESERVED_DOCUMENT_KEY in m:
        return False
    for key, value in m.items():
        if type(key) is not str or not key or key[0] in "#$":
            return False
        kind = type(value)
        if kind is str or kind is bool:
            continue
        if kind is int:
            if not _INT64[0] <= value <= _INT64[1]:
                return False
        elif kind is not float or not math.isfinite(value):
            return False
    return True


def reject_none_values(metadatas: list[Any] | None) -> None:
    """`add` cannot store None metadata values (update and upsert read them as removals)."""
    for m in metadatas or ():
        if m is not None and None in m.values():  # (validated values compare safely)
            raise TypeError("argument 'metadatas': Cannot convert Python object to MetadataValue")


_INT64 = (-(2**63), 2**63 - 1)


def clean_metadata(m: dict[str, Any] | None) -> dict[str, Any] | None:
    """Drop NaN/inf scalars and store ints beyond 64 bits as floats, as Chroma does; reject
    non-finite numbers inside lists."""
    if m is None:
        return None
    out: dict[str, Any] = {}
    for k, v in m.items():
        if isinstance(v, float) and not math.isfinite(v):
            continue
        if isinstance(v, int) and not isinstance(v, bool) and not _INT64[0] <= v <= _INT64[1]:
            v = float(v)
        if isinstance(v, list) and any(isinstance(x, float) and not math.isfinite(x) for x in v):
            raise InvalidArgumentError(
                f"Expected metadata list value for key '{k}' to contain only finite numbers"
            )
        out[k] = v
    return out


def normalize_documents(documents: Any, allow_none: bool) -> list[str | None] | None:
    if documents is None:
        return None
    documents = _as_list(documents, str)
    if not isinstance(documents, list):
        raise ValueError(f"Expected documents to be a list, got {documents}")
    for d in documents:
        if d is None and allow_none:
            continue
        if not isinstance(d, str):
            raise ValueError(f"Expected document to be a str, got {d}")
    return list(documents)


def normalize_uris(uris: Any) -> list[Any] | None:
    """One URI or a list. Items are type-checked late, by `check_uris`, as chromadb does."""
    if uris is None:
        return None
    uris = _as_list(uris, str)
    if not isinstance(uris, list):
        raise ValueError(f"Expected URIs to be a list, got {uris}")
    return list(uris)


def check_uris(uris: list[Any] | None) -> None:
    """chromadb checks URI types only when the request is sent, after embedding, and raises
    TypeError there."""
    for u in uris or ():
        if u is not None and not isinstance(u, str):
            raise TypeError(
                f"argument 'uris': '{type(u).__name__}' object cannot be converted to 'PyString'"
            )


def check_encodable(
    ids: list[str] | None,
    metadatas: list[Any] | None = None,
    documents: list[str | None] | None = None,
    uris: list[Any] | None = None,
) -> None:
    """Refuse strings UTF-8 cannot hold (lone surrogates) where chromadb's binding does,
    when the request is sent: nothing is written."""
    for i in ids or ():
        check_utf8(i)
    for m in metadatas or ():
        for key, value in (m or {}).items():
            check_utf8(key)
            if type(value) is str:
                if not value.isascii() and not is_utf8(value):
                    raise TypeError(
                        "argument 'metadatas': Cannot convert Python object to MetadataValue"
                    )
                continue
            values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, str) and not is_utf8(v):
                    raise TypeError(
                        "argument 'metadatas': Cannot convert Python object to MetadataValue"
                    )
    for text in (*(documents or ()), *(uris or ())):
        if isinstance(text, str):
            check_utf8(text)


def is_image(target: Any) -> bool:
    """An image is a numpy array of two or more dimensions (chromadb's rule)."""
    return isinstance(target, np.ndarray) and target.ndim >= 2


def normalize_images(images: Any) -> list[Any] | None:
    """One image (a numpy array) or a list of them; checked by `validate_images`."""
    if images is None:
        return None
    return images if isinstance(images, list) else [images]


def validate_images(images: list[Any] | None) -> None:
    for image in images or ():
        if not is_image(image):
            raise ValueError(f"Expected image to be a numpy array, got {image}")


def check_embeddings_finite(embeddings: npt.NDArray[np.float32]) -> None:
    if not np.isfinite(embeddings).all():
        raise InvalidArgumentError(
            "Validation error: embeddings: Embeddings must not contain NaN or Infinity values"
        )


def validate_include(include: Any, allow_distances: bool) -> list[Include]:
    if not isinstance(include, list):
        raise ValueError(f"Expected include to be a list, got {include}")
    for item in include:
        if item not in INCLUDE_VALUES:
            raise ValueError(
                "Expected include item to be one of documents, embeddings, metadatas, "
                f"distances, uris, data, got {item}"
            )
        if item == "distances" and not allow_distances:
            raise ValueError(f"Include item cannot be one of distances, got {item}")
    return list(include)


def validate_n_results(n_results: Any) -> int:
    if isinstance(n_results, bool):
        return int(n_results)
    if not isinstance(n_results, int):
        raise ValueError(f"Expected requested number of results to be a int, got {n_results}")
    if n_results <= 0:
        raise TypeError(f"Number of requested results {n_results}, cannot be negative, or zero.")
    return n_results


def check_u32(*values: int | None) -> None:
    """chromadb's binding takes `n_results`, `limit` and `offset` as u32s (when the request
    is sent), and refuses larger ones in these words."""
    for value in values:
        if value is None:
            continue
        if value >= 2**63:
            raise OverflowError("Python int too large to convert to C long")
        if value >= 2**32:
            raise OverflowError("out of range integral type conversion attempted")


def validate_get_limit_offset(limit: Any, offset: Any) -> None:
    for name, value in (("limit", limit), ("offset", offset)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(
                f"argument '{name}': '{type(value).__name__}' object cannot be interpreted "
                "as an integer"
            )
        if value < 0:
            raise OverflowError("out of range integral type conversion attempted")
