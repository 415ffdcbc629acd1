"""Engagement event jobs: one record from the intake, one POST to HubSpot's v2 events API.

The item's visibility and library are checked at send time too: an event about an item
that turned private, left the catalog or its portal's library is dropped, never sent.
The body is built at send time (``domain.event_mapping``) so a media object id recorded by
a sync after the play is still used. Refuses a payload that is not a valid record: that
is a dead letter, not something a retry could fix.
"""
from __future__ import annotations

from oembed_server.domain.event_mapping import hubspot_event
from oembed_server.domain.event_record import JOB_KIND, EventRecord
from oembed_server.hubspot.media_events_api import MediaEvents
from oembed_server.jobs.handlers.job_context import JobContext
from oembed_server.jobs.job_outcomes import Drop, GiveUp
from oembed_server.storage.job_queue import Job
from oembed_server.usecases.report_admission import DROPPED, item_problem

KINDS = tuple(JOB_KIND.values())


def send_event(job: Job, ctx: JobContext) -> None:
    try:
        record = EventRecord.from_payload(job.payload)
    except (TypeError, ValueError) as exc:
        raise GiveUp(f"job {job.id} holds no valid event record: {exc}") from None
    item = ctx.media_item(record.external_id)
    # The item as it is now, not as it was when the play was reported: nothing about a
    # private, removed or moved item (not even its title) reaches HubSpot.
    problem = item_problem(item, ctx.portal_library)
    if problem is not None:
        raise Drop(f"event about {record.external_id!r} dropped: {problem}", DROPPED[problem])
    kind, body = hubspot_event(record, item, public_url=ctx.settings.public_url,
                               secret_key=ctx.stable_secret_key)
    # The version is HUBSPOT_MEDIA_EVENTS_VERSION: v2 by default, HubSpot's production path
    # (asynchronous, retained and retried on HubSpot's side).
    MediaEvents(ctx.client).send(kind, body)
