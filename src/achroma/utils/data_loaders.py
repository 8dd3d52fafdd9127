"""The data loaders under chromadb's module path (``achroma.data_loaders`` holds them)."""

from achroma.data_loaders import DataLoader, ImageLoader

__all__ = ["DataLoader", "ImageLoader"]
