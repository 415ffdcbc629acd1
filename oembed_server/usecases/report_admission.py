"""Which portal a player report may reach, and whether its item may still be reported on.

A portal is served when it is connected now: installed by OAuth with its tokens readable
(``storage.portal_store``), or the configured single portal (``HUBSPOT_PORTAL_ID`` with
``HUBSPOT_*`` credentials), the same rule the worker's ``PortalClients.serves`` applies.
An installed portal gets its library only; the configured portal gets the catalog its
scripts sync (every library). The portal's hosts (``storage.portal_hosts``) come along,
for the framing check. Everything is read in one connection (``storage.report_facts``):
this runs on every report.
"""
from __future__ import annotations

import dataclasses

from sqlalchemy.engine import Engine

from oembed_server.domain.media import MediaItem, Visibility
from oembed_server.hubspot.client_config import HubSpotConfig
from oembed_server.settings import Settings
from oembed_server.storage.report_facts import InstallState, ItemState, read_report_facts
from oembed_server.usecases import report_outcomes


@dataclasses.dataclass(frozen=True)
class ServedPortal:
    portal_id: int
    # None: every library (the configured portal, whose scripts sync the whole catalog).
    library: str | None
    hosts: frozenset[str]


@dataclasses.dataclass(frozen=True)
class ReportAdmission:
    portal_served: bool          # the report's portal is served now (or it names none)
    item_problem: str | None     # a report_outcomes reason, or None
    # Hosts of the portal the report goes to (its own, else the configured one's).
    hosts: frozenset[str]


def has_portal_credentials(config: HubSpotConfig) -> bool:
    return bool(config.access_token or (config.refresh_token and config.client_id and config.client_secret))


def _served_library(install: InstallState | None, portal_id: int, settings: Settings) -> tuple[bool, str | None]:
    if install is not None:
        return install.connected and bool(settings.stable_secret_key), install.library
    if portal_id == settings.hubspot.portal_id and has_portal_credentials(settings.hubspot):
        return True, None
    return False, None


def served_portal(engine: Engine, settings: Settings, portal_id: int | None) -> ServedPortal | None:
    """The portal as this server serves it now, or None when it does not (never installed,
    disconnected, or not the configured one)."""
    if portal_id is None:
        return None
    facts = read_report_facts(engine, "", portal_id)
    served, library = _served_library(facts.install, portal_id, settings)
    return ServedPortal(portal_id, library, facts.hosts) if served else None


def admit_report(engine: Engine, settings: Settings, external_id: str, portal_id: int | None) -> ReportAdmission:
    """May a report about ``external_id`` for ``portal_id`` (None: a page outside HubSpot,
    reported for the configured portal) be taken now?"""
    target = portal_id if portal_id is not None else settings.hubspot.portal_id
    facts = read_report_facts(engine, external_id, target)
    library = None
    if portal_id is not None:
        served, library = _served_library(facts.install, portal_id, settings)
        if not served:
            return ReportAdmission(False, None, frozenset())
    return ReportAdmission(True, _state_problem(facts.item, library), facts.hosts)


def item_problem(item: MediaItem | None, library: str | None) -> str | None:
    """The reason (``report_outcomes``) not to report on this item for a portal of
    ``library`` (None: any), or None when it may be."""
    state = None if item is None else ItemState(item.visibility.value, item.library)
    return _state_problem(state, library)


def _state_problem(item: ItemState | None, library: str | None) -> str | None:
    if item is None:
        return report_outcomes.ITEM_REMOVED
    if item.visibility == Visibility.PRIVATE.value:
        return report_outcomes.ITEM_PRIVATE
    if library is not None and item.library != library:
        return report_outcomes.ITEM_NOT_IN_LIBRARY
    return None


# The worker's names for the same reasons.
DROPPED = {report_outcomes.ITEM_REMOVED: report_outcomes.DROPPED_ITEM_REMOVED,
           report_outcomes.ITEM_PRIVATE: report_outcomes.DROPPED_ITEM_PRIVATE,
           report_outcomes.ITEM_NOT_IN_LIBRARY: report_outcomes.DROPPED_ITEM_NOT_IN_LIBRARY}
