"""A batch of records to write, as every layer passes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass
class RecordBatch:
    """Parallel columns of one write. `embeddings` is a float32 (n, d) array or None (update
    without new vectors); the other columns are None when not given."""

    ids: list[str]
    embeddings: npt.NDArray[np.float32] | None
    metadatas: list[dict[str, Any] | None] | None
    documents: list[str | None] | None
    uris: list[str | None] | None

    def __len__(self) -> int:
        return len(self.ids)
