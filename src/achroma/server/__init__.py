"""achroma's server: Chroma's v2 REST API over the local engine (needs the `server` extra)."""

from achroma.server.app import ServerConfig, create_app

__all__ = ["ServerConfig", "create_app"]
