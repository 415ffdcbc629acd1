"""The catalog seen as a portal's media objects, for ``crm_object(s)`` in the preview.

An item's object id is its HubSpot media object id when the sync recorded one, else a
number made from its external_id: HubSpot's object ids are numbers, and HubL's
``crm_object`` reads an id holding ``=`` as a query (``hs_title=x``), so an external id
such as ``promo=2`` must not stand in for one.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict

from oembed_server.domain.media import MediaItem, MediaType
from oembed_server.domain.media_object_mapping import media_object_properties
from oembed_server.storage.catalog_store import CatalogStore

# Stand-in ids start here, above the ids a test portal hands out, and stay within 2**53
# (a JavaScript number, as HubSpot's ids are).
_STAND_IN_BASE = 9 * 10**14


def preview_object_id(item: MediaItem) -> str:
    if item.hubspot_object_id:
        return item.hubspot_object_id
    digest = hashlib.sha256(item.external_id.encode()).digest()
    return str(_STAND_IN_BASE + int.from_bytes(digest[:6], "big"))


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
