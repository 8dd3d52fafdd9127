"""Embeddings from an OpenAI-compatible HTTP service (``POST {api_base}/embeddings``), over
httpx, with the constructor and configuration of chromadb's ``OpenAIEmbeddingFunction``.

Any server speaking that API works: OpenAI, Azure OpenAI, vLLM, LiteLLM, Ollama's ``/v1``.
"""

from __future__ import annotations

import base64
import os
import warnings
from typing import Any

import httpx
import numpy as np

from achroma.embeddings.protocol import (
    AsyncEmbeddingFunction,
    Documents,
    Embedding,
    EmbeddingFunction,
    Embeddings,
    Space,
)
from achroma.errors import ChromaError

DEFAULT_API_BASE = "https://api.openai.com/v1"
# OpenAI accepts at most 2048 inputs per request; larger calls are split.
MAX_INPUTS_PER_REQUEST = 2048


class EmbeddingServiceError(ChromaError):
    """The embedding service answered with an error or with something unreadable."""

    code = 502
    wire_name = "EmbeddingServiceError"


class _OpenAISettings:
    """Configuration, request building and response parsing shared by the sync and async
    functions; only the HTTP call differs between them."""

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "text-embedding-ada-002",
        organization_id: str | None = None,
        api_base: str | None = None,
        api_type: str | None = None,
        api_version: str | None = None,
        deployment_id: str | None = None,
        default_headers: dict[str, str] | None = None,
        dimensions: int | None = None,
        api_key_env_var: str = "CHROMA_OPENAI_API_KEY",
        timeout: float = 60.0,
    ) -> None:
        """Args mirror chromadb's: the key is read from `api_key_env_var` (or
        ``OPENAI_API_KEY`` when set) so that it is not persisted with the collection;
        `api_base` points at any OpenAI-compatible service; `api_type="azure"` needs
        `api_version` and `deployment_id`. `timeout` is in seconds, per request."""
        if api_key is not None:
            warnings.warn(
                "Direct api_key configuration will not be persisted. "
                "Please use environment variables via api_key_env_var for persistent storage.",
                DeprecationWarning,
                stacklevel=3,
            )
        self.api_key_env_var = (
            "OPENAI_API_KEY" if os.getenv("OPENAI_API_KEY") is not None else api_key_env_var
        )
        self.api_key = api_key or os.getenv(self.api_key_env_var)
        if not self.api_key:
            raise ValueError(f"The {self.api_key_env_var} environment variable is not set.")
        if api_type == "azure":
            for field, value in (
                ("api_version", api_version),
                ("deployment_id", deployment_id),
                ("api_base", api_base),
            ):
                if value is None:
                    raise ValueError(f"{field} must be specified for Azure OpenAI")
        self.model_name = model_name
        self.organization_id = organization_id
        self.api_base = api_base
        self.api_type = api_type
        self.api_version = api_version
        self.deployment_id = deployment_id
        self.default_headers = default_headers
        self.dimensions = dimensions
        self.timeout = timeout

    @staticmethod
    def name() -> str:
        return "openai"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "l2", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {
            "api_key_env_var": self.api_key_env_var,
            "model_name": self.model_name,
            "organization_id": self.organization_id,
            "api_base": self.api_base,
            "api_type": self.api_type,
            "api_version": self.api_version,
            "deployment_id": self.deployment_id,
            "default_headers": self.default_headers,
            "dimensions": self.dimensions,
        }

    @classmethod
    def build_from_config(cls, config: dict[str, Any]) -> Any:
        if config.get("api_key_env_var") is None or config.get("model_name") is None:
            raise ValueError("The OpenAI config needs api_key_env_var and model_name")
        return cls(**{k: v for k, v in config.items() if k in _CONFIG_KEYS})

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        if "model_name" in new_config:
            raise ValueError(
                "The model name cannot be changed after the embedding function has been "
                "initialized."
            )

    def _url(self) -> str:
        if self.api_type == "azure":
            return (
                f"{str(self.api_base).rstrip('/')}/openai/deployments/{self.deployment_id}"
                f"/embeddings?api-version={self.api_version}"
            )
        return f"{(self.api_base or DEFAULT_API_BASE).rstrip('/')}/embeddings"

    def _headers(self) -> dict[str, str]:
        headers = dict(self.default_headers or {})
        if self.api_type == "azure":
            headers["api-key"] = str(self.api_key)
        else:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.organization_id is not None:
            headers["OpenAI-Organization"] = self.organization_id
        return headers

    def _bodies(self, input: Documents) -> list[dict[str, Any]]:
        texts = list(input)
        bodies = []
        for start in range(0, len(texts), MAX_INPUTS_PER_REQUEST):
            body: dict[str, Any] = {
                "model": self.model_name,
                "input": texts[start : start + MAX_INPUTS_PER_REQUEST],
            }
            if self.dimensions is not None and "text-embedding-3" in self.model_name:
                body["dimensions"] = self.dimensions
            bodies.append(body)
        return bodies

    def _parse(self, response: httpx.Response, expected: int) -> Embeddings:
        if response.is_error:
            raise EmbeddingServiceError(
                f"POST {response.request.url} returned {response.status_code}: "
                f"{response.text[:500]}"
            )
        try:
            items = sorted(response.json()["data"], key=lambda item: item.get("index", 0))
            vectors: Embeddings = [_vector(item["embedding"]) for item in items]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingServiceError(
                f"Unreadable embeddings response from {response.request.url}: {exc!r}"
            ) from exc
        if len(vectors) != expected:
            raise EmbeddingServiceError(
                f"Expected {expected} embeddings from {response.request.url}, got {len(vectors)}"
            )
        return vectors


_CONFIG_KEYS = frozenset(
    (
        "api_key_env_var",
        "model_name",
        "organization_id",
        "api_base",
        "api_type",
        "api_version",
        "deployment_id",
        "default_headers",
        "dimensions",
    )
)


def _vector(value: Any) -> Embedding:
    if isinstance(value, str):  # encoding_format="base64": little-endian float32 bytes
        return np.frombuffer(base64.b64decode(value), dtype="<f4").astype(np.float32)
    return np.asarray(value, dtype=np.float32)


class OpenAIEmbeddingFunction(_OpenAISettings, EmbeddingFunction[Documents]):
    """Embeddings from an OpenAI-compatible service, blocking (collections call it from a
    worker thread). Example::

        ef = OpenAIEmbeddingFunction(
            model_name="text-embedding-3-small", api_base="http://127.0.0.1:8000/v1"
        )
    """

    _client: httpx.Client | None = None

    def __call__(self, input: Documents) -> Embeddings:
        if not input:
            return []
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout)
        vectors: Embeddings = []
        for body in self._bodies(input):
            response = self._client.post(self._url(), json=body, headers=self._headers())
            vectors.extend(self._parse(response, len(body["input"])))
        return vectors


class AsyncOpenAIEmbeddingFunction(_OpenAISettings, AsyncEmbeddingFunction[Documents]):
    """The same service awaited on the event loop (httpx.AsyncClient); it records itself
    as ``openai``, so a collection reopened later rebuilds the sync function."""

    async def __call__(self, input: Documents) -> Embeddings:
        if not input:
            return []
        vectors: Embeddings = []
        # A client per call: an AsyncClient is bound to the event loop that first used it.
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            for body in self._bodies(input):
                response = await client.post(self._url(), json=body, headers=self._headers())
                vectors.extend(self._parse(response, len(body["input"])))
        return vectors
