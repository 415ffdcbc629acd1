"""Media events (OAuth, scope media_bridge.write) under a chosen API version: ``v1`` answers
synchronously (for testing), ``v2`` queues (HubSpot's guide: for production), a dated version
such as ``2026-03`` is the published specs' successor of v1. The bodies are the same in all.
Refuses unknown event kinds and malformed versions before anything is sent."""
from __future__ import annotations

from typing import Any

from oembed_server.hubspot import response_shapes
from oembed_server.hubspot.api_call import ApiCall, Auth, segment
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.client_config import (
    DEFAULT_MEDIA_EVENTS_VERSION,
    MEDIA_EVENTS_VERSIONS,
    HubSpotConfigError,
    parse_api_version,
)
from oembed_server.hubspot.response_shapes import receive

EVENT_KINDS = ("media-played", "media-played-percent", "attention-span")


def events_version(version: str | int) -> str:
    """``v1``, ``v2`` or a dated version; the numbers 1 and 2 stand for v1 and v2."""
    text = f"v{version}" if isinstance(version, int) and not isinstance(version, bool) else str(version)
    try:
        return parse_api_version(text, "the media events API version", MEDIA_EVENTS_VERSIONS)
    except HubSpotConfigError as exc:
        raise ValueError(str(exc)) from None


def send(kind: str, event: dict[str, Any], version: str | int = DEFAULT_MEDIA_EVENTS_VERSION) -> ApiCall:
    if kind not in EVENT_KINDS:
        raise ValueError(f"event kind must be one of {', '.join(EVENT_KINDS)}, got {kind!r}")
    path = f"/media-bridge/{segment(events_version(version))}/events/{kind}"
    # Each POST records one more event, so a repeat after an unknown outcome could double it.
    return ApiCall("POST", path, Auth.OAUTH, idempotent=False, json=event)


class MediaEvents:
    def __init__(self, client: HubSpotClient, version: str | int | None = None):
        self.client = client
        self.version = events_version(client.config.media_events_version if version is None else version)

    def send(self, kind: str, event: dict[str, Any]) -> Any:
        return receive(self.client, send(kind, event, self.version), response_shapes.EVENT_ANSWER)
