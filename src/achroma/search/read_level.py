"""`ReadLevel`: how much of the write-ahead log a search reads, as chromadb names it."""

from __future__ import annotations

from enum import Enum


class ReadLevel(str, Enum):
    """Which writes a search sees.

    chromadb's distributed server keeps recent writes in a log until they are compacted into
    the index; these values choose whether a search reads that log. The values are the
    wire form of ``read_level``.
    """

    INDEX_AND_WAL = "index_and_wal"
    """Index and log: every committed write is visible (the default)."""
    INDEX_ONLY = "index_only"
    """The compacted index only: recent writes may be missing."""
    INDEX_AND_BOUNDED_WAL = "index_and_bounded_wal"
    """The index and a server-configured number of log entries."""
