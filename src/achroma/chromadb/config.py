"""chromadb's ``chromadb.config``: the settings and the default tenant and database names."""

from achroma.config import Settings, configure, get_settings
from achroma.core.defaults import DEFAULT_DATABASE, DEFAULT_TENANT

__all__ = ["DEFAULT_DATABASE", "DEFAULT_TENANT", "Settings", "configure", "get_settings"]
