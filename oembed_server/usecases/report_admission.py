"""Which portal a player report may reach, and whether its item may still be reported on.

A portal is served when it is connected now: installed by OAuth with its tokens readable
(``storage.portal_store``), or the configured single portal (``HUBSPOT_PORTAL_ID`` with
``HUBSPOT_*`` credentials), the same rule the worker's ``PortalClients.serves`` applies.
An installed portal gets its library only; the configured portal gets the catalog its
scripts sync (every library). The portal's hosts (``storage.portal_hosts``) come along,
for the framing check.
"""
from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oembed_server.domain.media import MediaItem, Visibility
from oembed_server.hubspot.client_config import HubSpotConfig
from oembed_server.settings import Settings
from oembed_server.storage.portal_hosts import hosts_of
from oembed_server.storage.portal_store import CONNECTED
from oembed_server.storage.schema import hubspot_portals
from oembed_server.usecases import report_outcomes


@dataclasses.dataclass(frozen=True)
class ServedPortal:
    portal_id: int
    # None: every library (the configured portal, whose scripts sync the whole catalog).
    library: str | None
    hosts: frozenset[str]


def has_portal_credentials(config: HubSpotConfig) -> bool:
    return bool(config.access_token or (config.refresh_token and config.client_id and config.client_secret))


_PORTAL = (sa.select(hubspot_portals.c.library, hubspot_portals.c.token_state, hubspot_portals.c.ciphertext)
           .where(hubspot_portals.c.portal_id == sa.bindparam("b_portal", type_=sa.BigInteger)))


def served_portal(engine: Engine, settings: Settings, portal_id: int | None) -> ServedPortal | None:
    """The portal as this server serves it now, or None when it does not (never installed,
    disconnected, or not the configured one)."""
    if portal_id is None:
        return None
    with engine.connect() as conn:
        row = conn.execute(_PORTAL, {"b_portal": portal_id}).first()
        if row is not None:
            if row.token_state != CONNECTED or row.ciphertext is None or not settings.stable_secret_key:
                return None
            library: str | None = row.library
        elif portal_id == settings.hubspot.portal_id and has_portal_credentials(settings.hubspot):
            library = None
        else:
            return None
        hosts = frozenset(hosts_of(conn, portal_id))
    return ServedPortal(portal_id, library, hosts)


def item_problem(item: MediaItem | None, library: str | None) -> str | None:
    """The intake's reason (``report_outcomes``) not to take reports on this item for a
    portal of ``library`` (None: any), or None when it may."""
    if item is None:
        return report_outcomes.ITEM_REMOVED
    if item.visibility is Visibility.PRIVATE:
        return report_outcomes.ITEM_PRIVATE
    if library is not None and item.library != library:
        return report_outcomes.ITEM_NOT_IN_LIBRARY
    return None


# The worker's names for the same reasons.
DROPPED = {report_outcomes.ITEM_REMOVED: report_outcomes.DROPPED_ITEM_REMOVED,
           report_outcomes.ITEM_PRIVATE: report_outcomes.DROPPED_ITEM_PRIVATE,
           report_outcomes.ITEM_NOT_IN_LIBRARY: report_outcomes.DROPPED_ITEM_NOT_IN_LIBRARY}
