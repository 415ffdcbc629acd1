"""Media Bridge app settings (developer account credentials, see Auth.DEVELOPER): object
definitions, schemas, properties and oEmbed domains, under the configured API version
(``v1`` or a dated one such as ``2026-03``; the paths are otherwise the same)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from oembed_server.hubspot import response_shapes
from oembed_server.hubspot.api_call import ApiCall, Auth, segment
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.client_config import DEFAULT_MEDIA_BRIDGE_VERSION
from oembed_server.hubspot.response_shapes import receive

MEDIA_TYPES = ("VIDEO", "AUDIO", "DOCUMENT", "IMAGE", "OTHER")


def _settings(app_id: int, version: str) -> str:
    return f"/media-bridge/{segment(version)}/{segment(app_id)}"


def check_media_types(media_types: Iterable[str]) -> list[str]:
    types = [t.strip().upper() for t in media_types if t.strip()]
    unknown = [t for t in types if t not in MEDIA_TYPES]
    if unknown or not types:
        raise ValueError(f"media types must be among {', '.join(MEDIA_TYPES)}; got {', '.join(unknown) or 'none'}")
    return list(dict.fromkeys(types))


# --- request builders ----------------------------------------------------------------------
def get_object_definition(app_id: int, media_type: str, version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> ApiCall:
    return ApiCall("GET", f"{_settings(app_id, version)}/settings/object-definitions/{segment(media_type)}",
                   Auth.DEVELOPER, idempotent=True)


def create_object_definitions(app_id: int, media_types: list[str],
                              version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> ApiCall:
    return ApiCall("POST", f"{_settings(app_id, version)}/settings/object-definitions", Auth.DEVELOPER,
                   idempotent=False, json={"mediaTypes": check_media_types(media_types)})


def update_schema(app_id: int, object_type: str, changes: dict[str, Any],
                  version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> ApiCall:
    # The spec requires clearDescription; False leaves the description as it is.
    return ApiCall("PATCH", f"{_settings(app_id, version)}/schemas/{segment(object_type)}", Auth.DEVELOPER,
                   idempotent=True, json={"clearDescription": False} | changes)


def list_properties(app_id: int, object_type: str, version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> ApiCall:
    return ApiCall("GET", f"{_settings(app_id, version)}/properties/{segment(object_type)}", Auth.DEVELOPER,
                   idempotent=True)


def create_property(app_id: int, object_type: str, definition: dict[str, Any],
                    version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> ApiCall:
    return ApiCall("POST", f"{_settings(app_id, version)}/properties/{segment(object_type)}", Auth.DEVELOPER,
                   idempotent=False, json=definition)


def update_property(app_id: int, object_type: str, name: str, changes: dict[str, Any],
                    version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> ApiCall:
    return ApiCall("PATCH", f"{_settings(app_id, version)}/properties/{segment(object_type)}/{segment(name)}",
                   Auth.DEVELOPER, idempotent=True, json=changes)


def _domain_params(portal_id: int | None) -> dict[str, Any] | None:
    return {"domainPortalId": portal_id} if portal_id is not None else None


def list_oembed_domains(app_id: int, portal_id: int | None = None,
                        version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> ApiCall:
    return ApiCall("GET", f"{_settings(app_id, version)}/settings/oembed-domains", Auth.DEVELOPER,
                   idempotent=True, params=_domain_params(portal_id))


def create_oembed_domain(app_id: int, endpoints: dict[str, Any], portal_id: int | None = None,
                         version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> ApiCall:
    body: dict[str, Any] = {"endpoints": endpoints}
    if portal_id is not None:
        body["portalId"] = portal_id
    return ApiCall("POST", f"{_settings(app_id, version)}/settings/oembed-domains", Auth.DEVELOPER,
                   idempotent=False, json=body)


def update_oembed_domain(app_id: int, domain_id: str, endpoints: dict[str, Any],
                         version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> ApiCall:
    return ApiCall("PATCH", f"{_settings(app_id, version)}/settings/oembed-domains/{segment(domain_id)}",
                   Auth.DEVELOPER, idempotent=True, json={"endpoints": endpoints})


def delete_oembed_domain(app_id: int, domain_id: str, portal_id: int | None = None,
                         version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> ApiCall:
    params: dict[str, Any] = {"id": domain_id}
    if portal_id is not None:
        params["domainPortalId"] = portal_id
    return ApiCall("DELETE", f"{_settings(app_id, version)}/settings/oembed-domains", Auth.DEVELOPER,
                   idempotent=True, params=params)


EVENT_TYPES = ("ALL", "ATTENTION_SPAN", "MEDIA_PLAYS", "MEDIA_PLAYS_PERCENT")


def get_event_visibility(app_id: int, version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> ApiCall:
    return ApiCall("GET", f"{_settings(app_id, version)}/settings/event-visibility", Auth.DEVELOPER, idempotent=True)


def update_event_visibility(app_id: int, change: dict[str, Any], version: str = DEFAULT_MEDIA_BRIDGE_VERSION
                            ) -> ApiCall:
    if change.get("eventType") not in EVENT_TYPES or not isinstance(change.get("updatedAt"), int):
        raise ValueError(f"an event visibility change needs eventType among {', '.join(EVENT_TYPES)} "
                         "and updatedAt (epoch milliseconds)")
    return ApiCall("PATCH", f"{_settings(app_id, version)}/settings/event-visibility", Auth.DEVELOPER,
                   idempotent=True, json=change)


# --- typed helpers -----------------------------------------------------------------------
class MediaBridgeSettings:
    def __init__(self, client: HubSpotClient, app_id: int):
        self.client = client
        self.app_id = app_id
        self.version = client.config.media_bridge_version

    def object_definition(self, media_type: str) -> dict | None:
        """The definition, or None when the app has not defined this media type yet."""
        return receive(self.client, get_object_definition(self.app_id, media_type, self.version),
                       response_shapes.OBJECT_DEFINITION, allow=(404,))

    def create_object_definitions(self, media_types: list[str]) -> None:
        # The answer's createdObjects shape is undocumented: callers read the definitions back.
        self.client.execute(create_object_definitions(self.app_id, media_types, self.version))

    def update_schema(self, object_type: str, changes: dict[str, Any]) -> None:
        self.client.execute(update_schema(self.app_id, object_type, changes, self.version))

    def properties(self, object_type: str) -> list[dict]:
        body = receive(self.client, list_properties(self.app_id, object_type, self.version),
                       response_shapes.PROPERTY_LIST)
        return body["results"] if isinstance(body, dict) else body

    def create_property(self, object_type: str, definition: dict[str, Any]) -> None:
        self.client.execute(create_property(self.app_id, object_type, definition, self.version))

    def update_property(self, object_type: str, name: str, changes: dict[str, Any]) -> None:
        self.client.execute(update_property(self.app_id, object_type, name, changes, self.version))

    def oembed_domains(self, portal_id: int | None = None) -> list[dict]:
        return receive(self.client, list_oembed_domains(self.app_id, portal_id, self.version),
                       response_shapes.DOMAIN_LIST)["results"]

    def create_oembed_domain(self, endpoints: dict[str, Any], portal_id: int | None = None) -> dict:
        return receive(self.client, create_oembed_domain(self.app_id, endpoints, portal_id, self.version),
                       response_shapes.DOMAIN)

    def update_oembed_domain(self, domain_id: str, endpoints: dict[str, Any]) -> None:
        self.client.execute(update_oembed_domain(self.app_id, domain_id, endpoints, self.version))

    def event_visibility(self) -> list[dict]:
        body = self.client.execute(get_event_visibility(self.app_id, self.version), allow=(404,)).body
        settings = body.get("visibilitySettings") if isinstance(body, dict) else None
        return [v for v in settings or [] if isinstance(v, dict)]

    def update_event_visibility(self, change: dict[str, Any]) -> dict:
        return self.client.execute(update_event_visibility(self.app_id, change, self.version)).body or {}

    def delete_oembed_domain(self, domain_id: str, portal_id: int | None = None) -> None:
        self.client.execute(delete_oembed_domain(self.app_id, domain_id, portal_id, self.version))
