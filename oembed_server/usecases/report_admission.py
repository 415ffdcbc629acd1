"""Which portal a player report may reach, and whether its item may still be reported on.

A portal is served when it is connected now: installed by OAuth with its tokens readable
(``storage.portal_store``), or the configured single portal (``HUBSPOT_PORTAL_ID`` with
``HUBSPOT_*`` credentials), the same rule the worker's ``PortalClients.serves`` applies.
An installed portal gets its library only; the configured portal gets the catalog its
scripts sync (every library). The portal's hosts (``storage.portal_hosts``) come along,
for the framing check. Everything is read in one connection (``storage.report_facts``):
this runs on every report.

On PostgreSQL a process keeps the facts it admitted reports on (``FactsCache``) instead of
reading them again, a round trip per report: the write is guarded by them
(``ReportAdmission.facts``) and writes nothing once they changed, and the intake then
admits the report again on what the database says now. A refusal is never decided on kept
facts: an item made public again is reported on at once.
"""
from __future__ import annotations

import dataclasses

from sqlalchemy.engine import Engine

from oembed_server.domain.bounded_cache import FifoCache
from oembed_server.domain.media import MediaItem, Visibility
from oembed_server.hubspot.client_config import HubSpotConfig
from oembed_server.settings import Settings
from oembed_server.storage.report_facts import FactsGuard, InstallState, ItemState, ReportFacts, read_report_facts
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
    # What the write is to check these facts by (PostgreSQL), or None.
    facts: FactsGuard | None = None


# The facts each (item, portal) was last admitted on, in this process. Kept facts may be
# stale: only a guarded write may act on them (``ReportAdmission.facts``).
FactsCache = FifoCache[tuple[str, int | None], ReportFacts]
FACTS_KEPT = 4096


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


def admit_report(engine: Engine, settings: Settings, external_id: str, portal_id: int | None, *,
                 cache: FactsCache | None = None) -> ReportAdmission:
    """May a report about ``external_id`` for ``portal_id`` (None: a page outside HubSpot,
    reported for the configured portal) be taken now? With ``cache``, on facts this process
    kept when they admit the report (the write checks them), else on facts read now."""
    key = _facts_key(settings, external_id, portal_id)
    if cache is not None and (kept := cache.get(key)) is not None:
        admission = _admission(kept, settings, portal_id)
        if admission.portal_served and admission.item_problem is None:
            return admission
    facts = read_report_facts(engine, *key)
    if cache is not None and facts.guard is not None:
        cache.put(key, facts)
    return _admission(facts, settings, portal_id)


def forget_facts(cache: FactsCache, settings: Settings, external_id: str, portal_id: int | None) -> None:
    """Drop what ``cache`` keeps for this report's item and portal (its write found them changed)."""
    cache.discard(_facts_key(settings, external_id, portal_id))


def _facts_key(settings: Settings, external_id: str, portal_id: int | None) -> tuple[str, int | None]:
    # The item, and the portal the report goes to: its own, else the configured one.
    return external_id, portal_id if portal_id is not None else settings.hubspot.portal_id


def _admission(facts: ReportFacts, settings: Settings, portal_id: int | None) -> ReportAdmission:
    library = None
    if portal_id is not None:
        served, library = _served_library(facts.install, portal_id, settings)
        if not served:
            return ReportAdmission(False, None, frozenset(), facts.guard)
    return ReportAdmission(True, _state_problem(facts.item, library), facts.hosts, facts.guard)


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
