"""What a handler may use: the portal's HubSpot client, the catalog and the app's settings."""
from __future__ import annotations

import dataclasses

from ...catalog_store import CatalogStore
from ...config import Settings
from ...hubspot.client import HubSpotClient


@dataclasses.dataclass(frozen=True)
class JobContext:
    client: HubSpotClient
    catalog: CatalogStore
    settings: Settings
    # OEMBED_SECRET_KEY when it comes from the environment; None for a per-process key,
    # which cannot sign links that must keep working after this process ends.
    stable_secret_key: str | None
