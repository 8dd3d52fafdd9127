"""Settings, read like Chroma's: keyword arguments, then environment variables, then `.env`.

achroma never sends telemetry. `anonymized_telemetry` is accepted so that code written for
Chroma keeps working, and it is ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

# Chroma's names (and achroma's own) for what a setting selects. Every other
# `chroma_api_impl` is the local engine.
HTTP_IMPLS = frozenset(
    {
        "achroma.http",
        "chromadb.api.fastapi.FastAPI",
        "chromadb.api.async_fastapi.AsyncFastAPI",
    }
)
# `chroma_client_auth_provider`
CLIENT_TOKEN_PROVIDERS = frozenset(
    {"chromadb.auth.token_authn.TokenAuthClientProvider", "achroma.token", "token"}
)
CLIENT_BASIC_PROVIDERS = frozenset(
    {"chromadb.auth.basic_authn.BasicAuthClientProvider", "achroma.basic", "basic"}
)
# `chroma_server_authn_provider`
SERVER_TOKEN_PROVIDERS = frozenset(
    {"chromadb.auth.token_authn.TokenAuthenticationServerProvider", "achroma.token", "token"}
)


class Settings(BaseSettings):
    """achroma settings, with Chroma's names and defaults.

    Every field can be set by an environment variable of the same name (case-insensitive,
    e.g. ``ALLOW_RESET=true``) or in a `.env` file in the working directory.
    """

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    environment: str = ""
    chroma_api_impl: str = "chromadb.api.rust.RustBindingsAPI"

    chroma_server_host: str | None = None
    chroma_server_headers: dict[str, str] | None = None
    chroma_server_http_port: int | None = None
    chroma_server_ssl_enabled: bool | None = False
    chroma_server_ssl_verify: bool | str | None = None
    chroma_server_api_default_path: str | None = "/api/v2"
    chroma_server_cors_allow_origins: list[str] = []
    chroma_http_keepalive_secs: float | None = 40.0
    chroma_http_max_connections: int | None = None
    chroma_http_max_keepalive_connections: int | None = None

    is_persistent: bool = False
    persist_directory: str = "./chroma"

    allow_reset: bool = False

    chroma_auth_token_transport_header: str | None = None
    chroma_client_auth_provider: str | None = None
    chroma_client_auth_credentials: str | None = None
    chroma_server_authn_provider: str | None = None
    chroma_server_authn_credentials: str | None = None
    chroma_server_authn_credentials_file: str | None = None
    chroma_overwrite_singleton_tenant_database_access_from_auth: bool = False

    # Accepted for compatibility; achroma sends no telemetry whatever this says.
    anonymized_telemetry: bool = True

    def uses_http(self) -> bool:
        """True when these settings select the HTTP backend rather than the local engine."""
        return self.chroma_api_impl in HTTP_IMPLS


_global_settings: Settings | None = None


def get_settings() -> Settings:
    """Return the process-wide settings, as changed by :func:`configure`."""
    global _global_settings
    if _global_settings is None:
        _global_settings = Settings()
    return _global_settings


def configure(**kwargs: Any) -> None:
    """Override the process-wide settings used by clients created without `settings`."""
    global _global_settings
    _global_settings = Settings(**{**get_settings().model_dump(exclude_unset=True), **kwargs})
