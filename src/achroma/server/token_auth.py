"""Static token authentication, with tokens optionally bound to a tenant and its databases.

Tokens arrive as Chroma's clients send them: `X-Chroma-Token: <token>` or
`Authorization: Bearer <token>`. The users file has the format of Chroma's token provider::

    users:
      - id: alice
        tokens: [alice-token]
        tenant: acme            # optional: "*" (the default) is every tenant
        databases: [main]       # optional: ["*"] (the default) is every database

A single token given alone (`--token`) is an unbound user, as in Chroma. A user bound to a
tenant may do everything inside it; one bound to some of its databases may read the tenant
and use those databases, but not make or remove databases (`needs` says what each endpoint
needs, `allowed` whether a user has it; docs/server.md has the table).
"""

from __future__ import annotations

import enum
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
_TENANTS = "/api/v2/tenants/"
_CRN = re.compile(r"^/api/v2/collections/(?P<tenant>[^/:]+):(?P<database>[^/:]+):[^/:]+$")


@dataclass(frozen=True)
class User:
    """Who a token stands for, and what it may reach."""

    id: str
    tenant: str = ANY
    databases: tuple[str, ...] = (ANY,)

    @property
    def all_databases(self) -> bool:
        return ANY in self.databases

    @property
    def unbound(self) -> bool:
        return self.tenant == ANY and self.all_databases

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


class Need(enum.Enum):
    """What a request needs of its token (docs/server.md has the table by endpoint)."""

    ANY_TOKEN = enum.auto()  # who am I
    SERVER = enum.auto()  # an unbound token: tenants, reset
    TENANT = enum.auto()  # the tenant: read it, list databases (a bound token: its own)
    TENANT_ADMIN = enum.auto()  # all of the tenant's databases: create, delete, change
    DATABASE = enum.auto()  # the database: read it, its collections and records


def needs(method: str, path: str) -> tuple[Need, str | None, str | None]:
    """What a request needs of its token, and the tenant and database it reaches.

    A path this table does not name (beyond the API, a malformed CRN) needs an unbound token.
    """
    path = path.rstrip("/")
    if path == "/api/v2/auth/identity":
        return Need.ANY_TOKEN, None, None
    if path.startswith(_TENANTS):
        tenant, *rest = path[len(_TENANTS) :].split("/")
        if not tenant or "" in rest:
            return Need.SERVER, None, None
        if rest[:1] == ["databases"] and len(rest) > 1:
            database = rest[1]
            if method == "DELETE" and len(rest) == 2:
                return Need.TENANT_ADMIN, tenant, database
            return Need.DATABASE, tenant, database
        if method == "GET" and rest in ([], ["databases"]):
            return Need.TENANT, tenant, None
        return Need.TENANT_ADMIN, tenant, None
    found = _CRN.match(path)
    if found is not None:
        return Need.DATABASE, found["tenant"], found["database"]
    return Need.SERVER, None, None


def allowed(user: User, need: Need, tenant: str | None, database: str | None) -> bool:
    """Whether `user` may make a request with these `needs`."""
    if need is Need.ANY_TOKEN or user.unbound:
        return True
    if need is Need.SERVER or user.tenant not in (ANY, tenant):
        return False
    if need is Need.TENANT:
        return True
    if need is Need.TENANT_ADMIN:
        return user.all_databases
    return user.all_databases or database in user.databases


class TokenAuth:
    """Refuse requests without a known token (401) or beyond what the token may reach (403,
    by `needs` and `allowed`); the authenticated `User` is left in the request state as
    `user`."""

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
        if not allowed(user, *needs(scope["method"], scope["path"])):
            await send_error(send, 403, "AuthError", "Forbidden")
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)
