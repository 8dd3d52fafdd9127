"""Client-side auth: the headers Chroma's auth providers send, and the tenant and database a
token's identity implies."""

from __future__ import annotations

import base64

from achroma.config import CLIENT_BASIC_PROVIDERS, CLIENT_TOKEN_PROVIDERS, Settings
from achroma.core.defaults import DEFAULT_DATABASE, DEFAULT_TENANT
from achroma.core.models import UserIdentity
from achroma.errors import ChromaAuthError

ANY = "*"


def auth_headers(settings: Settings) -> dict[str, str]:
    """Headers for the client auth provider named in the settings (token or basic)."""
    provider = settings.chroma_client_auth_provider
    credentials = settings.chroma_client_auth_credentials
    if not provider or credentials is None:
        return {}
    if provider in CLIENT_TOKEN_PROVIDERS:
        header = (settings.chroma_auth_token_transport_header or "Authorization").lower()
        if header == "authorization":
            return {"Authorization": f"Bearer {credentials}"}
        return {"X-Chroma-Token": credentials}
    if provider in CLIENT_BASIC_PROVIDERS:
        return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
    raise ValueError(f"Unknown client auth provider: {provider}")


def scope_from_identity(
    identity: UserIdentity, tenant: str | None, database: str | None
) -> tuple[str, str]:
    """The tenant and database a client works in when its token reaches exactly one of each
    (chromadb's `chroma_overwrite_singleton_tenant_database_access_from_auth`): the token's,
    unless the caller named others, which is an error."""
    token_tenant = identity.tenant if identity.tenant and identity.tenant != ANY else None
    databases = set(identity.databases or ())
    token_database = databases.pop() if len(databases) == 1 and ANY not in databases else None
    if tenant and tenant != DEFAULT_TENANT and token_tenant and token_tenant != tenant:
        raise ChromaAuthError(
            f"Tenant {tenant} does not match {token_tenant} from the server. "
            "Are you sure the tenant is correct?"
        )
    if database and database != DEFAULT_DATABASE and token_database and token_database != database:
        raise ChromaAuthError(
            f"Database {database} does not match {token_database} from the server. "
            "Are you sure the database is correct?"
        )
    if (not tenant or tenant == DEFAULT_TENANT) and token_tenant:
        tenant = token_tenant
    if (not database or database == DEFAULT_DATABASE) and token_database:
        database = token_database
    return tenant or DEFAULT_TENANT, database or DEFAULT_DATABASE
