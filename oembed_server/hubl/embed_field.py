"""The value HubSpot stores for an Embed field, as HubL sees it in ``module.FIELD``.

``media_bridge``: ``{source_type, media_bridge_object: {id, provider_id, media_type,
oembed_url, oembed_response, source_type, size_type, width, height, max_width,
max_height}, size_type, width, height, max_width, max_height}``;
``oembed``: ``{source_type, oembed_url, oembed_response, size_type, ...}``.

HubSpot's documentation shows the sizing on the field value, but HubSpot's own example
modules read ``size_type``, ``width``, ``max_width`` ... and ``source_type`` from
``media_bridge_object`` too; which of the two HubSpot fills is not documented, so the
value carries both, with the same numbers.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

SOURCE_TYPES = ("media_bridge", "oembed")
SIZE_TYPES = ("auto", "exact", "auto_full_width", "auto_custom_max")


@dataclasses.dataclass(frozen=True)
class EmbedSize:
    size_type: str = "auto"
    width: int | None = None
    height: int | None = None
    max_width: int | None = None
    max_height: int | None = None


def embed_field_value(
    source_type: str,
    *,
    oembed_url: str,
    oembed_response: Mapping,
    size: EmbedSize,
    object_id=None,
    provider_id=None,
    media_type: str | None = None,
) -> dict:
    if source_type not in SOURCE_TYPES:
        raise ValueError(f"source_type must be one of {SOURCE_TYPES}, got {source_type!r}")
    if size.size_type not in SIZE_TYPES:
        raise ValueError(f"size_type must be one of {SIZE_TYPES}, got {size.size_type!r}")
    # Without explicit sizes the editor keeps the oEmbed answer's own ("original") size.
    sizing = {
        "size_type": size.size_type,
        "width": size.width or oembed_response.get("width"),
        "height": size.height or oembed_response.get("height"),
        "max_width": size.max_width,
        "max_height": size.max_height,
    }
    if source_type == "oembed":
        return {"source_type": "oembed", "oembed_url": oembed_url,
                "oembed_response": dict(oembed_response)} | sizing
    return {
        "source_type": "media_bridge",
        "media_bridge_object": {
            "id": object_id,
            "provider_id": provider_id,
            "media_type": media_type,
            "oembed_url": oembed_url,
            "oembed_response": dict(oembed_response),
            "source_type": "media_bridge",
        } | sizing,
    } | sizing
