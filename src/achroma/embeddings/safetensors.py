"""Read a ``.safetensors`` file as numpy arrays without torch or the safetensors package.

The format is an 8-byte little-endian header length, a JSON header mapping each tensor
name to its dtype, shape and byte range, then the raw little-endian arrays.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

_DTYPES: dict[str, str] = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}


def load_safetensors(path: str | Path) -> dict[str, npt.NDArray[Any]]:
    """Map every tensor of the file to a read-only, memory-mapped numpy array.

    BF16 tensors are widened to float32 (a copy), since numpy has no bfloat16.
    """
    path = Path(path)
    with path.open("rb") as file:
        (header_size,) = struct.unpack("<Q", file.read(8))
        header: dict[str, Any] = json.loads(file.read(header_size))
    header.pop("__metadata__", None)
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_size)
    tensors: dict[str, npt.NDArray[Any]] = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        if not 0 <= start <= end <= data.size:
            raise ValueError(f"Tensor {name!r} lies outside the data of {path}")
        raw = data[start:end]
        dtype = info["dtype"]
        if dtype == "BF16":
            array = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
        elif dtype in _DTYPES:
            array = raw.view(_DTYPES[dtype])
        else:
            raise ValueError(f"Tensor {name!r} has unsupported dtype {dtype!r} in {path}")
        tensors[name] = array.reshape(info["shape"])
    return tensors
