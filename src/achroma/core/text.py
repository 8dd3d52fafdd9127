"""What a string must be to be stored or sent: UTF-8, which a lone surrogate is not."""

from __future__ import annotations


def check_utf8(text: str) -> None:
    """Raise `UnicodeEncodeError` (a ValueError, as chromadb's binding raises) when `text`
    holds a lone surrogate."""
    if not text.isascii():
        text.encode()


def is_utf8(text: str) -> bool:
    try:
        check_utf8(text)
    except UnicodeEncodeError:
        return False
    return True
