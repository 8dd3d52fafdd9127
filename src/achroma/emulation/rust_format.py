"""Rust's formatting of values, as it shows in Chroma's error messages."""

from __future__ import annotations


def rust_debug(text: str) -> str:
    """`text` quoted as Rust's `{:?}` prints a string."""
    escapes = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}
    return (
        '"'
        + "".join(escapes.get(c, c if c.isprintable() else f"\\u{{{ord(c):x}}}") for c in text)
        + '"'
    )


def validator_length_message(field: str, minimum: int, value: str) -> str:
    """The refusal of the `validator` crate's `#[validate(length(min = ...))]` on a string
    field, as Chroma's server words it."""
    return (
        f'Validation error: {field}: Validation error: length [{{"min": Number({minimum}), '
        f'"value": String({rust_debug(value)})}}]'
    )
