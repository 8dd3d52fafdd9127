"""The one async interface every transport implements (local engine, HTTP client)."""

from achroma.backend.base import Backend

__all__ = ["Backend"]
