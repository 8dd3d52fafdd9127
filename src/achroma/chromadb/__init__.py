"""chromadb's top-level namespace, as `achroma.install_as_chromadb()` serves it.

achroma's own names, chromadb's extra ones (``ClientCreator``, ``DEFAULT_TENANT``, ...), and
the version of chromadb whose API achroma implements as ``__version__``.
"""

from __future__ import annotations

from typing import Any

import achroma
from achroma.api.client import AsyncAdminAPI as AsyncAdminClientCreator
from achroma.api.client import AsyncClient as AsyncClientCreator
from achroma.chromadb import api, config
from achroma.sync_api import AdminAPI as AdminClientCreator
from achroma.sync_api import ClientAPI as ClientCreator

# Integrations compare this to pick their code paths; achroma speaks 1.5.9's API.
__version__ = "1.5.9"

_ACHROMA_NAMES = [name for name in achroma.__all__ if name != "__version__"]

__all__ = [
    *_ACHROMA_NAMES,
    "AdminClientCreator",
    "AsyncAdminClientCreator",
    "AsyncClientCreator",
    "ClientCreator",
    "api",
    "config",
    "errors",
]


def __getattr__(name: str) -> Any:
    if name in _ACHROMA_NAMES or name == "errors":
        return getattr(achroma, name)
    raise AttributeError(f"module 'chromadb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
