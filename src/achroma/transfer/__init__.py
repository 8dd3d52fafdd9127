"""Moving data in and out: `copy` between clients (achroma stores, Chroma-API servers, and
directories written by chromadb), and export files (`export_collection`,
`import_collection`). The `achroma copy`, `export` and `import` commands are thin layers over
these (`achroma.transfer.commands`)."""

from achroma.transfer.chromadb_dir import ChromadbDirectory, ChromadbMissingError
from achroma.transfer.copy import (
    CollectionReport,
    ConfigurationMismatchError,
    SourceClient,
    copy,
    copy_collection,
)
from achroma.transfer.endpoints import Endpoint, open_destination, open_source
from achroma.transfer.files import ExportFile, export_collection, import_collection
from achroma.transfer.pages import SourceCollection

__all__ = [
    "ChromadbDirectory",
    "ChromadbMissingError",
    "CollectionReport",
    "ConfigurationMismatchError",
    "Endpoint",
    "ExportFile",
    "SourceClient",
    "SourceCollection",
    "copy",
    "copy_collection",
    "export_collection",
    "import_collection",
    "open_destination",
    "open_source",
]
