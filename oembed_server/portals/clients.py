"""Which HubSpot client acts for a portal, or None when the portal has no token.

Today the app serves one portal: ``HUBSPOT_PORTAL_ID`` with the ``HUBSPOT_*`` tokens
(refreshed tokens kept encrypted in the token store). Work for no particular portal (a
page outside HubSpot) goes to that portal. Refuses to lend the configured token to any
other portal id: an event sent with the wrong portal's token would land on the wrong
customer's timelines.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from ..hubspot.client import HubSpotClient
from ..hubspot.config import HubSpotConfig
from ..hubspot.token_store import token_store_for


class PortalClients:
    def __init__(self, config: HubSpotConfig, engine: Engine, *, stable_secret_key: str | None,
                 limiter: Any, **client_options: Any):
        self.config = config
        self._engine = engine
        self._secret = stable_secret_key
        self._limiter = limiter
        self._client_options = client_options
        self._client: HubSpotClient | None = None

    @property
    def configured_portal(self) -> int | None:
        return self.config.portal_id

    def _has_credentials(self) -> bool:
        c = self.config
        return bool(c.access_token or (c.refresh_token and c.client_id and c.client_secret))

    def serves(self, portal_id: int | None) -> bool:
        if not self._has_credentials():
            return False
        return portal_id is None or portal_id == self.config.portal_id

    def client_for(self, portal_id: int | None) -> HubSpotClient | None:
        if not self.serves(portal_id):
            return None
        if self._client is None:
            store = token_store_for(self._engine, self._secret, self.config.refresh_token)
            self._client = HubSpotClient(self.config, limiter=self._limiter, token_store=store,
                                         **self._client_options)
        return self._client

    def missing_reason(self, portal_id: int | None) -> str:
        if not self._has_credentials():
            return ("no HubSpot token: set HUBSPOT_ACCESS_TOKEN, or HUBSPOT_REFRESH_TOKEN with "
                    "HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET")
        if portal_id is None:
            return "no portal configured"
        return (f"no token for portal {portal_id} (the configured portal is "
                f"{self.config.portal_id if self.config.portal_id is not None else 'unset: HUBSPOT_PORTAL_ID'})")
