"""What a handler may use: the portal's HubSpot client, the catalog and the app's settings."""
from __future__ import annotations

import dataclasses

from oembed_server.domain.media import MediaItem
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.settings import Settings
from oembed_server.storage.catalog_store import CatalogStore


@dataclasses.dataclass(frozen=True)
class JobContext:
    client: HubSpotClient
    catalog: CatalogStore
    settings: Settings
    # OEMBED_SECRET_KEY when it comes from the environment; None for a per-process key,
    # which cannot sign links that must keep working after this process ends.
    stable_secret_key: str | None
    # The catalog records one media object id per item: the configured portal's. A portal
    # installed by OAuth has its own ids, so for it the recorded ones are not used.
    catalog_object_ids: bool = True
    # One context serves one batch: a catalog item looked up once serves all its events.
    _items: dict[str, MediaItem | None] = dataclasses.field(default_factory=dict, repr=False)

    def media_item(self, external_id: str) -> MediaItem | None:
        if external_id not in self._items:
            item = self.catalog.get(external_id)
            if item is not None and item.hubspot_object_id and not self.catalog_object_ids:
                item = dataclasses.replace(item, hubspot_object_id=None)
            self._items[external_id] = item
        return self._items[external_id]


@dataclasses.dataclass(frozen=True)
class LocalContext:
    """What a handler of local work (no HubSpot call) may use."""
    catalog: CatalogStore
    settings: Settings
