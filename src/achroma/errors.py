"""Chroma's exception hierarchy, with the same class names, HTTP codes and wire names.

Errors for bad input (`InvalidArgumentError`, `DuplicateIDError`, `InvalidDimensionException`)
also subclass `ValueError`, so code catching either Chroma's class or `ValueError` works.
`AlreadyExistsError` is achroma's own: an `InternalError` by name, as chromadb raises it, whose
type tells the server to answer Chroma's 409.
"""

from __future__ import annotations


class ChromaError(Exception):
    """Base of every error achroma raises on purpose."""

    code: int = 400
    wire_name: str = "ChromaError"
    # The `chroma-trace-id` a server sent with this error (over HTTP), as chromadb keeps it.
    trace_id: str | None = None

    def message(self) -> str:
        return ", ".join(str(a) for a in self.args)

    @classmethod
    def name(cls) -> str:
        return cls.wire_name


class InvalidDimensionException(ChromaError, ValueError):
    wire_name = "InvalidDimension"


class IDAlreadyExistsError(ChromaError):
    code = 409
    wire_name = "IDAlreadyExists"


class ChromaAuthError(ChromaError):
    code = 403
    wire_name = "AuthError"


class DuplicateIDError(ChromaError, ValueError):
    wire_name = "DuplicateID"


class InvalidArgumentError(ChromaError, ValueError):
    wire_name = "InvalidArgumentError"


class InvalidUUIDError(ChromaError, ValueError):
    wire_name = "InvalidUUID"


class InvalidHTTPVersion(ChromaError):
    wire_name = "InvalidHTTPVersion"


class AuthorizationError(ChromaError):
    code = 401
    wire_name = "AuthorizationError"


class NotFoundError(ChromaError):
    code = 404
    wire_name = "NotFoundError"


class UniqueConstraintError(ChromaError):
    code = 409
    wire_name = "UniqueConstraintError"


class BatchSizeExceededError(ChromaError):
    code = 413
    wire_name = "BatchSizeExceededError"


class VersionMismatchError(ChromaError):
    code = 500
    wire_name = "VersionMismatchError"


class InternalError(ChromaError):
    code = 500
    wire_name = "InternalError"


class AlreadyExistsError(InternalError):
    """A tenant, database or collection of that name exists already."""


# chromadb raises a plain `InternalError` here; users (and `type(e).__name__`) see that name.
# The qualified name stays the real one, so that pickling finds the class.
AlreadyExistsError.__name__ = "InternalError"


class RateLimitError(ChromaError):
    code = 429
    wire_name = "RateLimitError"


class QuotaError(ChromaError):
    wire_name = "QuotaError"


class ClientClosedError(ChromaError, RuntimeError):
    """Raised when a closed client or one of its collections is used."""

    wire_name = "ClientClosedError"


ERROR_TYPES: dict[str, type[ChromaError]] = {
    cls.wire_name: cls
    for cls in (
        InvalidDimensionException,
        InvalidArgumentError,
        IDAlreadyExistsError,
        DuplicateIDError,
        InvalidUUIDError,
        InvalidHTTPVersion,
        AuthorizationError,
        NotFoundError,
        BatchSizeExceededError,
        VersionMismatchError,
        RateLimitError,
        ChromaAuthError,
        UniqueConstraintError,
        QuotaError,
        InternalError,
        ChromaError,
    )
}
