"""`install_as_chromadb()`: make ``import chromadb`` resolve to achroma.

A meta-path finder answers for ``chromadb`` and every ``chromadb.*`` module path, each from
the achroma module that holds it (``_HOMES``): chromadb's top-level namespace and the
modules whose contents differ from achroma's live in `achroma.chromadb`; those whose contents
are already chromadb's (``chromadb.errors``, ``chromadb.api.types``, ``chromadb.utils``) are
achroma's own modules, so their classes are the very ones achroma raises and returns.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

# The longest matching prefix wins: chromadb.api.types is achroma.api.types, chromadb.api.client
# is achroma.chromadb.api.client.
_HOMES = {
    "chromadb": "achroma.chromadb",
    "chromadb.api.types": "achroma.api.types",
    "chromadb.errors": "achroma.errors",
    "chromadb.utils": "achroma.utils",
}


def _home(fullname: str) -> str | None:
    """The achroma module behind the chromadb module path `fullname` (None: not chromadb's)."""
    for prefix in sorted(_HOMES, key=len, reverse=True):
        if fullname == prefix or fullname.startswith(prefix + "."):
            return _HOMES[prefix] + fullname[len(prefix) :]
    return None


class _ChromadbAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``chromadb.*`` in achroma; the import then returns achroma's module itself."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        home = _home(fullname)
        if home is None or importlib.util.find_spec(home) is None:
            # A chromadb path achroma lacks then fails as missing: the parent alias's __path__
            # is achroma's folder, so no other finder reaches an installed chromadb.
            return None
        return ModuleSpec(fullname, self)

    def exec_module(self, module: ModuleType) -> None:
        # The import system returns whatever sys.modules holds under the name once this
        # returns, so the alias is achroma's module object, not a copy.
        home = _home(module.__name__)
        assert home is not None
        sys.modules[module.__name__] = importlib.import_module(home)


_FINDER = _ChromadbAlias()


def install_as_chromadb() -> None:
    """Make ``import chromadb`` and chromadb's submodule paths resolve to achroma.

    After one call, ``import chromadb``, ``from chromadb.api.models.Collection import
    Collection``, ``from chromadb.utils.batch_utils import create_batches`` and the other
    paths that integrations such as LangChain and LlamaIndex import give achroma's classes,
    whether or not chromadb is installed: an installed chromadb is never imported. Modules of
    a chromadb imported before the call are dropped from `sys.modules` (objects already taken
    from them stay chromadb's), so call it first, as with ``pymysql.install_as_MySQLdb()``.

    ``chromadb.__version__`` is the chromadb version whose API achroma implements, so version
    checks in integrations take that version's paths; `achroma.__version__` stays achroma's.
    Calling it again changes nothing.

    Example::

        import achroma

        achroma.install_as_chromadb()

        import chromadb  # achroma

        client = chromadb.EphemeralClient()
    """
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    for name, home in [(n, _home(n)) for n in list(sys.modules)]:
        module = sys.modules[name]
        if home is not None and (module is None or module is not sys.modules.get(home)):
            del sys.modules[name]
    importlib.import_module("chromadb")
