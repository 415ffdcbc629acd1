"""Per-portal catalog sync (job kind provision.sync): the portal's library (public and
unlisted items only) upserted as media objects with the media_sync library code, keyed
by hs_external_id, so a repeat or a run resumed after a crash never duplicates.

The first sync of a portal skips the look-ups (it holds none of our objects); later ones
compare, write only what changed and archive objects whose items left the library or
turned private. Each sync also reads the portal's CMS domains (the sites its pages are
served from) for the framing check of engagement reports. Waits (retry) while the app
has no object definition for a type, after queueing the app setup that makes it; refuses
(dead letter) catalog items HubSpot cannot take.
"""
from __future__ import annotations

from oembed_server.domain.framing_hosts import host_problem, normalise_host
from oembed_server.domain.media_object_mapping import is_sent_to_hubspot
from oembed_server.hubspot.cms_domains_api import portal_domains
from oembed_server.hubspot.crm_objects_api import CrmObjects
from oembed_server.hubspot.media_bridge_api import MediaBridgeSettings
from oembed_server.jobs.handlers.job_context import JobContext
from oembed_server.jobs.job_outcomes import GiveUp, HoldPortal, RetryLater
from oembed_server.storage.job_queue import Job
from oembed_server.storage.portal_hosts import replace_hubspot_hosts
from oembed_server.storage.portal_store import PortalStore
from oembed_server.usecases import provisioning
from oembed_server.usecases.media_sync import MissingObjectDefinition, SyncInputError, sync_catalog

KINDS = (provisioning.KIND_SYNC,)


def run(job: Job, ctx: JobContext) -> None:
    store = PortalStore(ctx.catalog.engine, ctx.stable_secret_key)
    portal_id = job.portal_id
    record = store.get(portal_id) if portal_id is not None else None
    if portal_id is None or record is None:
        raise GiveUp(f"portal {job.portal_id} was never installed")
    if not record.connected:
        raise HoldPortal(f"portal {job.portal_id} is disconnected")
    app_id = ctx.client.config.app_id
    if app_id is None:
        raise GiveUp("the sync needs HUBSPOT_APP_ID (the app's object types)")
    first = record.last_sync_at is None
    # Pruning against an empty share would archive everything; the sync refuses that.
    has_items = any(is_sent_to_hubspot(i) for i in ctx.catalog.iter_all(batch_size=100, library=record.library))
    try:
        sync_catalog(ctx.catalog, CrmObjects(ctx.client), MediaBridgeSettings(ctx.client, app_id),
                     ctx.settings.public_url, library=record.library, record_ids=False, first_sync=first,
                     prune=not first and has_items)
    except MissingObjectDefinition as exc:
        with ctx.catalog.engine.begin() as conn:
            provisioning.queue_app_setup(conn, force=True)
        raise RetryLater(f"waiting for the app setup: {exc}") from None
    except SyncInputError as exc:
        raise GiveUp(str(exc)) from None
    record_portal_domains(ctx, portal_id)
    store.mark_synced(portal_id)


def record_portal_domains(ctx: JobContext, portal_id: int) -> None:
    """The portal's CMS domains, read again on every sync: the sites whose pages may put a
    contact on its timeline (``domain.framing_hosts``). The operator's own list is kept."""
    hosts = {normalise_host(d) for d in portal_domains(ctx.client)}
    with ctx.catalog.engine.begin() as conn:
        replace_hubspot_hosts(conn, portal_id, [h for h in hosts if host_problem(h) is None])
