"""Static token authentication, with tokens optionally bound to a tenant and its databases.

Tokens arrive as Chroma's clients send them: `X-Chroma-Token: <token>` or
`Authorization: Bearer <token>`. The users file has the format of Chroma's token provider::

    users:
      - id: alice
        tokens: [alice-token]
        tenant: acme            # optional: "*" (the default) is every tenant
        databases: [main]       # optional: ["*"] (the default) is every database

A single token given alone (`--token`) is an unbound user, as in Chroma.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from achroma.http import wire
from achroma.server.errors import send_error

ANY = "*"
PUBLIC_PATHS = frozenset(
    {"/api/v2/heartbeat", "/api/v2/healthcheck", "/api/v2/version", "/api/v2/pre-flight-checks"}
)
_TOKEN_CHARS = frozenset(string.digits + string.ascii_letters + string.punctuation)
_SCOPED = re.compile(r"^/api/v2/tenants/(?P<tenant>[^/]+)(?:/databases/(?P<database>[^/]+))?")
_CRN = re.compile(r"^/api/v2/collections/(?P<tenant>[^/:]+):(?P<database>[^/:]+):")


@dataclass(frozen=True)
class User:
    """Who a token stands for, and what it may reach."""

    id: str
    tenant: str = ANY
    databases: tuple[str, ...] = (ANY,)

    def may_use(self, tenant: str | None, database: str | None) -> bool:
        if tenant is not None and self.tenant not in (ANY, tenant):
            return False
        return database is None or ANY in self.databases or database in self.databases

    def identity(self) -> dict[str, Any]:
        return {"user_id": self.id, "tenant": self.tenant, "databases": list(self.databases)}


@dataclass(frozen=True)
class Tokens:
    """The accepted tokens and their users."""

    users: Mapping[str, User] = field(default_factory=dict)

    @classmethod
    def single(cls, token: str) -> Tokens:
        _check(token)
        return cls({token: User("anonymous")})

    @classmethod
    def from_users(cls, users: Iterable[Mapping[str, Any]]) -> Tokens:
        """From the `users` list of Chroma's token provider file."""
        found: dict[str, User] = {}
        for entry in users:
            if "tokens" not in entry:
                raise ValueError("User missing tokens")
            user = User(
                id=str(entry.get("id", "")),
                tenant=str(entry.get("tenant") or ANY),
                databases=tuple(str(d) for d in entry.get("databases") or [ANY]),
            )
            for token in entry["tokens"]:
                _check(token)
                if found.get(token, user) != user:
                    raise ValueError(f"Token {token} already in use by user {found[token].id}")
                found[token] = user
        return cls(found)

    @classmethod
    def from_file(cls, path: str | Path) -> Tokens:
        """Chroma's YAML users file (PyYAML needed), or the same structure as JSON."""
        text = Path(path).read_text()
        try:
            data = wire.loads(text)
        except ValueError:
            import yaml  # type: ignore[import-untyped]

            data = yaml.safe_load(text)
        if isinstance(data, dict) and "users" in data:
            return cls.from_users(data["users"])
        raise ValueError(f"{path}: expected a top-level `users` list")


def _check(token: str) -> None:
    if not token or not set(token) <= _TOKEN_CHARS:
        raise ValueError("Invalid token. Must contain only ASCII letters, digits, and punctuation.")


def token_of(headers: Mapping[bytes, bytes]) -> str | None:
    """The token of a request, from either header Chroma's clients use."""
    token = headers.get(b"x-chroma-token")
    if token is None:
        authorization = headers.get(b"authorization", b"")
        if not authorization.startswith(b"Bearer "):
            return None
        token = authorization[len(b"Bearer ") :]
    return token.decode("latin-1").strip()


def _target(path: str) -> tuple[str | None, str | None, bool]:
    """The tenant and database a request reaches, and whether it needs an unbound token."""
    if path == "/api/v2/reset" or (path.rstrip("/") == "/api/v2/tenants"):
        return None, None, True
    found = _SCOPED.match(path) or _CRN.match(path)
    if found is None:
        return None, None, False
    return found["tenant"], found.groupdict().get("database"), False


class TokenAuth:
    """Refuse requests without a known token (401) or beyond the token's tenant (403); the
    authenticated `User` is left in the request state as `user`."""

    def __init__(self, app: ASGIApp, tokens: Tokens) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        token = token_of(dict(scope["headers"]))
        if token is None:
            await send_error(send, 401, "AuthorizationError", "Unauthorized: no token was sent")
            return
        user = self.tokens.users.get(token)
        if user is None:
            await send_error(send, 403, "AuthError", "Forbidden")
            return
        tenant, database, needs_unbound = _target(scope["path"])
        if (needs_unbound and user.tenant != ANY) or not user.may_use(tenant, database):
            await send_error(send, 403, "AuthError", "Forbidden")
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)
