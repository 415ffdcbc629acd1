"""The catalog seen as a portal's media objects, for ``crm_object(s)`` in the preview.

An item's object id is its HubSpot media object id when the sync recorded one, else its
external_id (the preview has no portal to hand out numbers).
"""
from __future__ import annotations

from collections import defaultdict

from oembed_server.domain.media import MediaItem, MediaType
from oembed_server.domain.media_object_mapping import media_object_properties
from oembed_server.storage.catalog_store import CatalogStore


def preview_object_id(item: MediaItem) -> str:
    return item.hubspot_object_id or item.external_id


class CatalogMediaObjects:
    """All objects of one provider, read from the catalog once per render on first use."""

    def __init__(self, catalog: CatalogStore, public_url: str, provider_id):
        self._catalog = catalog
        self._public_url = public_url
        self._provider_id = str(provider_id)
        self._by_type: dict[MediaType, list[dict]] | None = None

    def objects(self, provider_id, media_type):
        if str(provider_id) != self._provider_id:
            return []  # another app's objects: this portal has none
        if self._by_type is None:
            self._by_type = defaultdict(list)
            for item in self._catalog.iter_all():
                # The same properties (and text values) the sync writes, plus the object id.
                properties = media_object_properties(item, self._public_url)
                self._by_type[item.media_type].append({"id": preview_object_id(item)} | properties)
        return self._by_type.get(MediaType(media_type), [])
