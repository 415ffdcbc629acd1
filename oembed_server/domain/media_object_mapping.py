"""Catalog item -> HubSpot media object properties, and what differs from what HubSpot
holds. Pure functions: no I/O, tested directly."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from oembed_server.domain.media import MediaItem, MediaType, Visibility, media_page_url

ID_PROPERTY = "hs_external_id"
# Every property the sync owns, in HubSpot's names.
SYNCED_PROPERTIES = ("hs_title", "hs_oembed_url", "hs_duration", "hs_file_url", "hs_thumbnail_url",
                     "hs_poster_url", "hs_external_id", "hs_folder_path", "hs_details_page_link")
# HubSpot's guide lists hs_duration only for VIDEO and AUDIO objects.
_TIMED = frozenset({MediaType.VIDEO, MediaType.AUDIO})
_NUMERIC = frozenset({"hs_duration"})


def is_sent_to_hubspot(item: MediaItem) -> bool:
    """Private media never leave the catalog: a media object would put their title and
    file URL in every portal user's hands. Unlisted media are sent, because editors must
    be able to embed them; they stay off the public index only."""
    return item.visibility is not Visibility.PRIVATE


def required_properties(media_type: MediaType) -> tuple[str, ...]:
    if media_type is MediaType.IMAGE:
        return ("hs_title", "hs_oembed_url", "hs_file_url")
    return ("hs_title", "hs_oembed_url")


def media_object_properties(item: MediaItem, public_url: str,
                            allowed: Iterable[str] | None = None) -> dict[str, str]:
    """Every synced property as HubSpot stores it (text), "" for an absent value so an
    update can clear it. ``allowed`` narrows to the properties the object type has."""
    values = {
        "hs_title": item.title,
        "hs_oembed_url": media_page_url(public_url, item.external_id),
        "hs_duration": item.duration_ms if item.media_type in _TIMED else None,
        "hs_file_url": item.file_url,
        "hs_thumbnail_url": item.thumbnail_url,
        "hs_poster_url": item.poster_url,
        "hs_external_id": item.external_id,
        "hs_folder_path": item.folder_path,
        "hs_details_page_link": item.details_page_link,
    }
    if item.media_type not in _TIMED:
        del values["hs_duration"]
    allowed_set = set(allowed) if allowed is not None else None
    return {name: "" if value is None else str(value) for name, value in values.items()
            if allowed_set is None or name in allowed_set}


def creation_properties(desired: Mapping[str, str]) -> dict[str, str]:
    """What a create sends: empty values say nothing on a new object."""
    return {name: value for name, value in desired.items() if value != ""}


def changed_properties(desired: Mapping[str, str], current: Mapping[str, str | None]) -> dict[str, str]:
    """The properties to send so HubSpot matches ``desired``; empty when nothing changed."""
    return {name: value for name, value in desired.items() if not _same(name, value, current.get(name))}


def _same(name: str, wanted: str, held: str | None) -> bool:
    held = "" if held is None else str(held)
    if wanted == held:
        return True
    if name in _NUMERIC and wanted and held:
        # HubSpot may hand a number back as "8003.0".
        try:
            return float(wanted) == float(held)
        except ValueError:
            return False
    return False


def item_problems(item: MediaItem) -> list[str]:
    """Why HubSpot would refuse this item, before anything is sent."""
    desired = media_object_properties(item, "http://x")
    missing = [name for name in required_properties(item.media_type) if not desired.get(name)]
    return [f"{item.external_id}: {item.media_type.value} media need {', '.join(missing)}"] if missing else []
