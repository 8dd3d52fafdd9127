"""`Cmek`: a customer-managed encryption key, as a collection schema names it.

achroma stores data locally and encrypts nothing; the key is kept and sent so that a schema
made for Chroma Cloud round-trips unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

_GCP_PATTERN = re.compile(r"^projects/.+/locations/.+/keyRings/.+/cryptoKeys/.+$")


class CmekProvider(str, Enum):
    """The cloud whose key management service holds the key (only GCP, as in chromadb)."""

    GCP = "gcp"


@dataclass
class Cmek:
    """A provider and its key's resource name.

    Example::

        Cmek.gcp("projects/p/locations/l/keyRings/r/cryptoKeys/k").to_dict()
        # {"gcp": "projects/p/locations/l/keyRings/r/cryptoKeys/k"}
    """

    provider: CmekProvider
    resource: str

    @classmethod
    def gcp(cls, resource: str) -> Cmek:
        """A Google Cloud KMS key: ``projects/{p}/locations/{l}/keyRings/{r}/cryptoKeys/{k}``."""
        return cls(provider=CmekProvider.GCP, resource=resource)

    def validate_pattern(self) -> bool:
        """Whether the resource name has the provider's format (the key is not looked up)."""
        return self.provider == CmekProvider.GCP and bool(_GCP_PATTERN.match(self.resource))

    def to_dict(self) -> dict[str, Any]:
        """The wire form, ``{provider: resource}``."""
        if self.provider == CmekProvider.GCP:
            return {"gcp": self.resource}
        raise ValueError(f"Unknown CMEK provider: {self.provider}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cmek:
        """The key `to_dict` gave."""
        if "gcp" in data:
            resource = data["gcp"]
            if not isinstance(resource, str):
                raise ValueError(f"CMEK gcp resource must be a string, got: {type(resource)}")
            return cls.gcp(resource)
        raise ValueError(f"Unsupported or missing CMEK provider in data: {data}")
