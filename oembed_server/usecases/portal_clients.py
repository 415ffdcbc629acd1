"""Which HubSpot client acts for a portal, or None when the portal has no usable token.

A portal installed by OAuth acts with its own stored tokens (``storage.portal_store``); a
portal the app never installed falls back to the configured one, ``HUBSPOT_PORTAL_ID``
with the ``HUBSPOT_*`` tokens (refreshed tokens kept encrypted in the token store).
Work for no particular portal (a page outside HubSpot) goes to that configured portal;
work for the app itself (``APP_PORTAL``: object definitions, the oEmbed domain) goes out
with the developer account's credentials, no portal token at all.

Refuses to lend one portal's token to another: an event sent with the wrong portal's
token would land on the wrong customer's timelines. A stored portal whose tokens HubSpot
refused is disconnected (``refused``) and serves nothing until it is installed again.
"""
from __future__ import annotations

import dataclasses
import threading
from typing import Any

from sqlalchemy.engine import Engine

from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.client_config import HubSpotConfig
from oembed_server.hubspot.rate_limiter import RequestBudget
from oembed_server.storage.portal_store import PortalStore
from oembed_server.storage.token_store import token_store_for

# The job queue's portal id for work done as the app (developer account), not in a portal.
APP_PORTAL = 0


class PortalClients:
    def __init__(self, config: HubSpotConfig, engine: Engine, *, stable_secret_key: str | None,
                 limiter: RequestBudget, **client_options: Any):
        self.config = config
        self._engine = engine
        self._secret = stable_secret_key
        self._limiter = limiter
        self._client_options = client_options
        self.store = PortalStore(engine, stable_secret_key)
        self._lock = threading.Lock()
        self._client: HubSpotClient | None = None
        self._app_client: HubSpotClient | None = None
        self._installed: dict[int, tuple[int, HubSpotClient]] = {}  # portal -> (generation, client)

    @property
    def configured_portal(self) -> int | None:
        return self.config.portal_id

    def _has_credentials(self) -> bool:
        c = self.config
        return bool(c.access_token or (c.refresh_token and c.client_id and c.client_secret))

    def _has_app_credentials(self) -> bool:
        c = self.config
        return bool(c.app_id and c.developer_credential)

    def serves(self, portal_id: int | None) -> bool:
        if portal_id == APP_PORTAL:
            return self._has_app_credentials()
        if portal_id is not None:
            record = self.store.get(portal_id)
            if record is not None:
                return record.connected and self._secret is not None
        if not self._has_credentials():
            return False
        return portal_id is None or portal_id == self.config.portal_id

    def budget_for(self, portal_id: int | None) -> tuple[int, float]:
        """The portal's HubSpot budget (requests, window seconds): HubSpot's figure once an
        answer has carried it (hubspot.rate_limiter), else HUBSPOT_RATE_LIMIT per
        HUBSPOT_RATE_LIMIT_INTERVAL_S. The key is the one HubSpotClient spends."""
        hub = self.config.portal_id if portal_id is None else portal_id
        return self._limiter.budget(f"portal:{hub}")

    def client_for(self, portal_id: int | None) -> HubSpotClient | None:
        if portal_id == APP_PORTAL:
            return self._for_app() if self._has_app_credentials() else None
        if portal_id is not None:
            record = self.store.get(portal_id)
            if record is not None:
                return self._for_installed(portal_id, record.generation) if record.connected and self._secret else None
        if not self.serves(portal_id):
            return None
        with self._lock:
            if self._client is None:
                store = token_store_for(self._engine, self._secret, self.config.refresh_token)
                self._client = HubSpotClient(self.config, limiter=self._limiter, token_store=store,
                                             **self._client_options)
            return self._client

    def _for_app(self) -> HubSpotClient:
        with self._lock:
            if self._app_client is None:
                config = dataclasses.replace(self.config, portal_id=None, access_token=None, refresh_token=None)
                self._app_client = HubSpotClient(config, limiter=self._limiter, **self._client_options)
            return self._app_client

    def _for_installed(self, portal_id: int, generation: int) -> HubSpotClient:
        with self._lock:
            cached = self._installed.get(portal_id)
            if cached is None or cached[0] != generation:
                # The install's own tokens only: the environment's belong to another portal.
                config = dataclasses.replace(self.config, portal_id=portal_id, access_token=None,
                                             refresh_token=None)
                client = HubSpotClient(config, limiter=self._limiter, token_store=self.store.tokens_of(portal_id),
                                       **self._client_options)
                cached = self._installed[portal_id] = (generation, client)
            return cached[1]

    def budget_usage(self) -> dict[str, float]:
        """Share of each budget key's window spent now (limiters without ``usage``: none)."""
        usage = getattr(self._limiter, "usage", None)
        return usage() if usage is not None else {}

    def is_installed(self, portal_id: int | None) -> bool:
        """Installed by OAuth (its own tokens, its own media object ids)."""
        return portal_id not in (None, APP_PORTAL) and self.store.get(portal_id) is not None

    def refused(self, portal_id: int | None, reason: str) -> bool:
        """HubSpot refused the portal's credentials (an uninstall revokes the refresh token):
        an installed portal is marked disconnected. True when that happened."""
        if portal_id in (None, APP_PORTAL):
            return False
        record = self.store.get(portal_id)
        if record is None or not record.connected:
            return False
        with self._lock:
            self._installed.pop(portal_id, None)
        return self.store.disconnect(portal_id, reason)

    def missing_reason(self, portal_id: int | None) -> str:
        if portal_id == APP_PORTAL:
            return ("app setup needs HUBSPOT_APP_ID and developer account credentials (HUBSPOT_DEVELOPER_ACCESS_TOKEN "
                    "or HUBSPOT_DEVELOPER_API_KEY)")
        if portal_id is not None:
            record = self.store.get(portal_id)
            if record is not None:
                if self._secret is None:
                    return "installed portals need OEMBED_SECRET_KEY to read their tokens"
                return (f"portal {portal_id} is disconnected ({record.state_reason or 'tokens forgotten'}); "
                        "its jobs resume when the app is installed there again")
        if not self._has_credentials():
            return ("no HubSpot token: set HUBSPOT_ACCESS_TOKEN, or HUBSPOT_REFRESH_TOKEN with "
                    "HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET")
        if portal_id is None:
            return "no portal configured"
        return (f"no token for portal {portal_id} (the configured portal is "
                f"{self.config.portal_id if self.config.portal_id is not None else 'unset: HUBSPOT_PORTAL_ID'})")
