"""Names every layer agrees on."""

DEFAULT_TENANT = "default_tenant"
DEFAULT_DATABASE = "default_database"
