"""Register the provider's oEmbed endpoint with the app, once: compare with what is
registered and PATCH a changed registration rather than adding a second one."""
from __future__ import annotations

import dataclasses
from typing import Any

from oembed_server.hubspot.api_call import ApiCall
from oembed_server.hubspot.client_config import DEFAULT_MEDIA_BRIDGE_VERSION
from oembed_server.hubspot.media_bridge_api import (
    MediaBridgeSettings,
    create_oembed_domain,
    delete_oembed_domain,
    list_oembed_domains,
)


@dataclasses.dataclass
class DomainReport:
    action: str  # created | updated | unchanged | deleted | absent
    endpoints: dict[str, Any]
    portal_id: int | None
    domain_ids: list[str] = dataclasses.field(default_factory=list)
    # Registrations for the same endpoint beyond the first, made by earlier tools or by hand.
    duplicates: list[str] = dataclasses.field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.action in ("created", "updated", "deleted")

    def to_dict(self) -> dict:
        return {"changed": self.changed} | dataclasses.asdict(self)

    def lines(self) -> list[str]:
        scope = f"portal {self.portal_id}" if self.portal_id is not None else "every portal"
        text = {"created": "registered", "updated": "updated", "unchanged": "already registered, nothing to change",
                "deleted": "deleted", "absent": "not registered, nothing to delete"}[self.action]
        lines = [f"{self.endpoints['url']} ({scope}): {text}" + (f" [id {', '.join(self.domain_ids)}]"
                                                                  if self.domain_ids else "")]
        if self.action not in ("deleted", "absent"):
            lines.append(f"schemes: {', '.join(self.endpoints['schemes'])}; discovery: "
                         f"{str(self.endpoints['discovery']).lower()}")
        if self.duplicates:
            lines.append(f"warning: duplicate registrations for the same endpoint: {', '.join(self.duplicates)} "
                         "(remove them with --delete, then register again)")
        return lines


def desired_endpoints(public_url: str, schemes: tuple[str, ...] | list[str]) -> dict[str, Any]:
    if not schemes:
        raise ValueError("at least one URL scheme is needed (OEMBED_URL_SCHEMES)")
    return {"schemes": list(schemes), "url": f"{public_url}/oembed", "discovery": True}


def same_endpoints(a: dict[str, Any], b: dict[str, Any]) -> bool:
    # Order of schemes carries no meaning to HubSpot's matching.
    return (sorted(a.get("schemes") or []) == sorted(b.get("schemes") or []) and a.get("url") == b.get("url")
            and bool(a.get("discovery")) == bool(b.get("discovery")))


def _matching(app: MediaBridgeSettings, endpoints: dict[str, Any], portal_id: int | None) -> list[dict]:
    """This provider's registrations in the same scope: those at its endpoint URL, else those
    claiming one of its schemes (the endpoint moved; a second registration would compete for them)."""
    # HubSpot answers portalId 0 for a registration that serves every portal.
    scoped = [d for d in app.oembed_domains(portal_id) if (d.get("portalId") or None) == portal_id]
    same_url = [d for d in scoped if (d.get("endpoints") or {}).get("url") == endpoints["url"]]
    if same_url:
        return same_url
    schemes = set(endpoints["schemes"])
    return [d for d in scoped if schemes & set((d.get("endpoints") or {}).get("schemes") or [])]


def register_domain(app: MediaBridgeSettings, endpoints: dict[str, Any], portal_id: int | None) -> DomainReport:
    matches = _matching(app, endpoints, portal_id)
    report = DomainReport("unchanged", endpoints, portal_id)
    if not matches:
        created = app.create_oembed_domain(endpoints, portal_id)
        report.action = "created"
        report.domain_ids = [str(created.get("id"))]
        return report
    first, *rest = matches
    report.domain_ids = [str(first["id"])]
    report.duplicates = [str(d["id"]) for d in rest]
    if not same_endpoints(first.get("endpoints") or {}, endpoints):
        app.update_oembed_domain(str(first["id"]), endpoints)
        report.action = "updated"
    return report


def delete_domain(app: MediaBridgeSettings, endpoints: dict[str, Any], portal_id: int | None) -> DomainReport:
    matches = _matching(app, endpoints, portal_id)
    for domain in matches:
        app.delete_oembed_domain(str(domain["id"]), portal_id)
    return DomainReport("deleted" if matches else "absent", endpoints, portal_id,
                        [str(d["id"]) for d in matches])


def plan_register(app_id: int, endpoints: dict[str, Any], portal_id: int | None,
                  version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> list[ApiCall]:
    """Requests when nothing is registered yet (a real run PATCHes or skips an existing one)."""
    return [list_oembed_domains(app_id, portal_id, version),
            create_oembed_domain(app_id, endpoints, portal_id, version)]


def plan_delete(app_id: int, portal_id: int | None, version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> list[ApiCall]:
    return [list_oembed_domains(app_id, portal_id, version),
            delete_oembed_domain(app_id, "ID-FROM-LIST", portal_id, version)]
