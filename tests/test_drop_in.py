"""`achroma.install_as_chromadb()`: chromadb's module paths, served by achroma.

Each test runs in a fresh interpreter (the alias changes `sys.modules` for good) that has the
real chromadb 1.5.9 on its path, and checks at the end that no module of it was loaded: the
alias wins even where chromadb is installed.
"""

from __future__ import annotations

from typing import Any

import pytest

from achroma.utils.batch_utils import create_batches
from fresh_python import run_script

# What the integrations and their tests import from chromadb: langchain-chroma 1.1.0
# (langchain_chroma/vectorstores.py and tests/integration_tests/test_vectorstores.py) and
# llama-index-vector-stores-chroma 0.6.0 (base.py and tests/test_chromadb.py), with the
# names the issue lists. langchain-chroma's tests' `chromadb.api.rust.RustBindingsAPI` is
# chromadb's engine, which achroma is not.
IMPORTED: dict[str, list[str]] = {
    "chromadb": [
        "AdminClient",
        "AsyncClientAPI",
        "AsyncHttpClient",
        "Client",
        "ClientAPI",
        "ClientCreator",
        "CloudClient",
        "Collection",
        "DEFAULT_DATABASE",
        "DEFAULT_TENANT",
        "EphemeralClient",
        "HttpClient",
        "K",
        "Key",
        "Knn",
        "PersistentClient",
        "QueryResult",
        "ReadLevel",
        "Rrf",
        "Search",
        "Settings",
        "SparseVector",
        "__version__",
        "api",
        "config",
        "errors",
        "utils",
    ],
    "chromadb.config": ["DEFAULT_DATABASE", "DEFAULT_TENANT", "Settings"],
    "chromadb.api": [
        "AdminAPI",
        "AsyncClientAPI",
        "ClientAPI",
        "Collection",
        "CreateCollectionConfiguration",
        "UpdateCollectionConfiguration",
        "Where",
        "WhereDocument",
    ],
    "chromadb.api.client": ["AdminClient", "Client", "SharedSystemClient"],
    "chromadb.api.async_client": ["AsyncAdminClient", "AsyncClient"],
    "chromadb.api.collection_configuration": [
        "CollectionConfiguration",
        "CreateCollectionConfiguration",
        "CreateHNSWConfiguration",
        "UpdateCollectionConfiguration",
    ],
    "chromadb.api.models.Collection": ["Collection"],
    "chromadb.api.models.AsyncCollection": ["AsyncCollection"],
    "chromadb.api.types": [
        "Documents",
        "Embeddable",
        "EmbeddingFunction",
        "Embeddings",
        "GetResult",
        "IDs",
        "Include",
        "Metadata",
        "Metadatas",
        "QueryResult",
        "ReadLevel",
        "SearchResult",
        "SparseEmbeddingFunction",
        "SparseVector",
        "SparseVectors",
        "Where",
        "WhereDocument",
    ],
    "chromadb.base_types": ["SparseVector"],
    "chromadb.execution.expression": [
        "And",
        "GroupBy",
        "K",
        "Key",
        "Knn",
        "Limit",
        "MinK",
        "Rrf",
        "Search",
        "SearchWhere",
        "Select",
        "Val",
        "Where",
    ],
    "chromadb.execution.expression.operator": ["Key", "Knn", "Rank", "Rrf", "Where"],
    "chromadb.execution.expression.plan": ["Search"],
    "chromadb.errors": [
        "ChromaError",
        "DuplicateIDError",
        "InvalidArgumentError",
        "InvalidDimensionException",
        "NotFoundError",
    ],
    "chromadb.utils.batch_utils": ["create_batches"],
    "chromadb.utils.embedding_functions": [
        "Bm25EmbeddingFunction",
        "ChromaBm25EmbeddingFunction",
        "DefaultEmbeddingFunction",
        "EmbeddingFunction",
        "ONNXMiniLM_L6_V2",
        "OpenAIEmbeddingFunction",
        "SentenceTransformerEmbeddingFunction",
        "register_sparse_embedding_function",
        "sparse_known_embedding_functions",
    ],
    "chromadb.utils.embedding_functions.chroma_bm25_embedding_function": [
        "ChromaBm25EmbeddingFunction",
    ],
    "chromadb.utils.embedding_functions.bm25_embedding_function": ["Bm25EmbeddingFunction"],
    "chromadb.utils.data_loaders": ["ImageLoader"],
}


def test_every_name_integrations_import_resolves_through_the_alias() -> None:
    run_script(
        f"""
        import importlib
        import achroma
        achroma.install_as_chromadb()
        for module, names in {IMPORTED!r}.items():
            loaded = importlib.import_module(module)
            assert loaded.__name__.startswith("achroma"), (module, loaded)
            missing = [name for name in names if not hasattr(loaded, name)]
            assert not missing, (module, missing)
        """
    )


def test_the_alias_reports_chromadbs_version_and_achroma_keeps_its_own() -> None:
    run_script(
        """
        import achroma
        from achroma._version import __version__ as own
        achroma.install_as_chromadb()
        import chromadb
        assert chromadb.__version__ == "1.5.9", chromadb.__version__
        assert achroma.__version__ == own
        """
    )


def test_alias_paths_are_achromas_modules_and_classes() -> None:
    run_script(
        """
        import achroma
        achroma.install_as_chromadb()
        import chromadb
        import chromadb.api.types, chromadb.errors, chromadb.utils.embedding_functions
        from chromadb.api.models.Collection import Collection
        from chromadb.api.models.AsyncCollection import AsyncCollection
        assert chromadb.api.types is achroma.api.types
        assert chromadb.errors is achroma.errors
        assert chromadb.utils is achroma.utils
        assert Collection is chromadb.Collection is achroma.Collection
        assert AsyncCollection is achroma.AsyncCollection
        assert chromadb.errors.NotFoundError is achroma.NotFoundError
        """
    )


def test_clients_and_collections_are_instances_of_chromadbs_classes() -> None:
    run_script(
        """
        import achroma
        achroma.install_as_chromadb()
        import chromadb
        from chromadb.api.client import SharedSystemClient
        from chromadb.api.models.Collection import Collection

        SharedSystemClient.clear_system_cache()
        client = chromadb.Client(chromadb.config.Settings())
        assert isinstance(client, chromadb.ClientCreator)
        assert isinstance(client, chromadb.ClientAPI)
        assert isinstance(client, SharedSystemClient)
        collection = client.create_collection("docs", embedding_function=None)
        assert isinstance(collection, chromadb.Collection)
        assert isinstance(collection, Collection)
        assert client.get_collection("docs").name == "docs"
        assert (client.tenant, client.database) == (
            chromadb.DEFAULT_TENANT, chromadb.DEFAULT_DATABASE
        )
        """
    )


def test_a_chromadb_path_achroma_lacks_is_missing_not_loaded_from_chromadb() -> None:
    run_script(
        """
        import achroma
        achroma.install_as_chromadb()
        for name in ["chromadb.api.fastapi", "chromadb.utils.fastapi", "chromadb.telemetry"]:
            try:
                __import__(name)
            except ModuleNotFoundError as error:
                assert error.name == name, (error.name, name)
            else:
                raise AssertionError(f"{name} was imported")
        """
    )


def test_install_replaces_a_chromadb_imported_before_and_is_idempotent() -> None:
    pytest.importorskip("chromadb")
    run_script(
        """
        import sys
        import chromadb
        assert not chromadb.__name__.startswith("achroma")
        import achroma
        achroma.install_as_chromadb()
        achroma.install_as_chromadb()
        import chromadb
        from chromadb.api.models.Collection import Collection
        assert chromadb.__name__ == "achroma.chromadb"
        assert Collection is achroma.Collection
        assert sum(type(f).__name__ == "_ChromadbAlias" for f in sys.meta_path) == 1
        # The real chromadb was imported here on purpose: forget it before the final check.
        for name in [n for n in sys.modules if n.split(".")[0].startswith("chromadb")]:
            if not sys.modules[name].__name__.startswith("achroma"):
                del sys.modules[name]
        """
    )


def test_install_overrides_a_blocked_chromadb_entry() -> None:
    run_script(
        """
        import sys
        sys.modules["chromadb"] = None  # how a test hides an installed package
        import achroma
        achroma.install_as_chromadb()
        import chromadb
        assert chromadb.__name__ == "achroma.chromadb"
        """
    )


class _Sized:
    def __init__(self, size: int) -> None:
        self.size = size

    def get_max_batch_size(self) -> int:
        return self.size


@pytest.mark.parametrize("size", [1, 2, 3, 5])
@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"embeddings": [[1.0], [2.0], [3.0]]},
        {"metadatas": [{"a": 1}, None, {"b": 2}], "documents": ["x", "y", "z"]},
        {"metadatas": [], "documents": []},
    ],
)
def test_create_batches_splits_as_chromadb_does(size: int, fields: dict[str, Any]) -> None:
    chromadb_batch_utils = pytest.importorskip("chromadb.utils.batch_utils")
    ids = ["a", "b", "c"]
    expected = chromadb_batch_utils.create_batches(_Sized(size), ids, **fields)
    assert create_batches(_Sized(size), ids, **fields) == expected
