"""The ASGI application: Chroma's v2 REST API over the local engine.

Built on Starlette (routing, requests, responses, lifespan) and served by uvicorn (see
`achroma.cli`). The store opens when the app starts and closes when it stops, after uvicorn has
let in-flight requests finish.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response

from achroma.config import Settings
from achroma.engine.local import LocalBackend
from achroma.server.boundary import guarded
from achroma.server.middleware import (
    DEFAULT_BODY_MIN_RATE,
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_MAX_BODY_BYTES,
    AccessLog,
    BodyDeadline,
    BodySizeLimit,
)
from achroma.server.routes import routes
from achroma.server.token_auth import TokenAuth, Tokens


@dataclass(frozen=True)
class ServerConfig:
    """What `achroma run` serves and how.

    Attributes:
        path: the persistent directory; None serves an in-memory store.
        allow_reset: whether `POST /api/v2/reset` may delete everything.
        max_body_bytes: the largest request body accepted (Chroma's limit by default).
        body_timeout: the longest pause in a request body, and the time its first bytes
            get before `body_min_rate` applies (seconds).
        body_min_rate: the average rate (bytes/s) a body must keep up after `body_timeout`.
        tokens: when given, every request but heartbeat, healthcheck, version and the
            pre-flight checks needs one of these tokens.
        cors_allow_origins: origins browsers may call the API from (Chroma's
            `chroma_server_cors_allow_origins`; ``["*"]`` is any); none by default.
    """

    path: str | Path | None = "./chroma"
    allow_reset: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    body_min_rate: int = DEFAULT_BODY_MIN_RATE
    tokens: Tokens | None = None
    cors_allow_origins: tuple[str, ...] = ()


async def _no_route(request: Request, exc: Exception) -> Response:
    # Chroma answers unknown paths and methods with an empty body (and an Allow header).
    assert isinstance(exc, HTTPException)
    return Response(status_code=exc.status_code, headers=exc.headers)


def create_app(config: ServerConfig | None = None) -> Starlette:
    """The ASGI app serving `config.path`."""
    config = config if config is not None else ServerConfig()
    settings = Settings(
        allow_reset=config.allow_reset,
        is_persistent=config.path is not None,
        persist_directory=str(config.path or "./chroma"),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        backend = await LocalBackend.open(config.path, allow_reset=config.allow_reset)
        app.state.backend = guarded(backend)
        app.state.settings = settings
        try:
            yield
        finally:
            await backend.close()

    middleware = [
        Middleware(AccessLog),
        # Outside auth and the size limit, so that their early answers close the connection.
        Middleware(BodyDeadline, timeout=config.body_timeout, min_rate=config.body_min_rate),
    ]
    if config.cors_allow_origins:
        # As Chroma's server: before auth, so that a browser's pre-flight request needs no token.
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_allow_origins),
                allow_methods=["*"],
                allow_headers=["*"],
            )
        )
    if config.tokens is not None:
        middleware.append(Middleware(TokenAuth, tokens=config.tokens))
    middleware.append(Middleware(BodySizeLimit, max_bytes=config.max_body_bytes))
    return Starlette(
        routes=routes(),
        middleware=middleware,
        exception_handlers={HTTPException: _no_route},
        lifespan=lifespan,
    )
