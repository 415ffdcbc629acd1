"""The app-level provisioning step (job kind provision.app_setup, portal APP_PORTAL): media
object definitions for the types the catalog holds, the oEmbed domain registration,
event visibility and the Webhooks Journal subscription to the app's uninstalls, done once
for the whole app with the developer credentials (the journal: the client credentials).

Each part compares with what HubSpot holds first (the setup_media_types and
register_domain library code), so a repeat or a resumed run changes nothing twice.
Refuses nothing itself: bad settings are dead letters, HubSpot failures are classified.
"""
from __future__ import annotations

import time

from oembed_server.hubspot.media_bridge_api import MediaBridgeSettings
from oembed_server.hubspot.webhooks_journal_api import WebhooksJournal
from oembed_server.jobs.handlers.job_context import JobContext
from oembed_server.jobs.job_outcomes import GiveUp
from oembed_server.storage.job_queue import Job
from oembed_server.usecases import provisioning
from oembed_server.usecases.app_uninstalls import ensure_subscription, journal_enabled
from oembed_server.usecases.domain_registration import desired_endpoints, register_domain
from oembed_server.usecases.media_type_setup import setup_media_types

KINDS = (provisioning.KIND_APP_SETUP,)
# Where engagement events show in portals: everywhere HubSpot can show them.
VISIBILITY = {"eventType": "ALL", "showInTimeline": True, "showInReporting": True, "showInWorkflows": True}


def run(job: Job, ctx: JobContext) -> None:
    app_id = ctx.client.config.app_id
    if app_id is None:
        raise GiveUp("app setup needs HUBSPOT_APP_ID")
    app = MediaBridgeSettings(ctx.client, app_id)
    types = sorted(ctx.catalog.media_types())
    try:
        if types:
            setup_media_types(app, types)
        register_domain(app, desired_endpoints(ctx.settings.public_url, ctx.settings.effective_url_schemes), None)
    except ValueError as exc:
        raise GiveUp(str(exc)) from None
    held = {v.get("eventType"): v for v in app.event_visibility()}
    current = held.get("ALL") or {}
    if any(current.get(k) != v for k, v in VISIBILITY.items()):
        app.update_event_visibility(VISIBILITY | {"updatedAt": int(time.time() * 1000)})
    journal = journal_enabled(ctx.settings)
    if journal:
        ensure_subscription(ctx.catalog.engine, WebhooksJournal(ctx.client))
    with ctx.catalog.engine.begin() as conn:
        provisioning.set_mark(conn, "app_setup", provisioning.app_fingerprint(
            types, ctx.settings.public_url, ctx.settings.effective_url_schemes, journal=journal))
