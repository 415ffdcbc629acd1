"""Media events (OAuth): v1 answers synchronously (for testing), v2 queues (for production)."""
from __future__ import annotations

from typing import Any

from . import answers
from .answers import receive
from .calls import ApiCall, Auth
from .client import HubSpotClient

EVENT_KINDS = ("media-played", "media-played-percent", "attention-span")
VERSIONS = (1, 2)


def send(kind: str, event: dict[str, Any], version: int = 1) -> ApiCall:
    if kind not in EVENT_KINDS:
        raise ValueError(f"event kind must be one of {', '.join(EVENT_KINDS)}, got {kind!r}")
    if version not in VERSIONS:
        raise ValueError(f"media events API version must be 1 or 2, got {version!r}")
    # Each POST records one more event, so a repeat after an unknown outcome could double it.
    return ApiCall("POST", f"/media-bridge/v{version}/events/{kind}", Auth.OAUTH, idempotent=False, json=event)


class MediaEvents:
    def __init__(self, client: HubSpotClient, version: int = 1):
        self.client = client
        self.version = version

    def send(self, kind: str, event: dict[str, Any]) -> Any:
        return receive(self.client, send(kind, event, self.version), answers.EVENT_ANSWER)
