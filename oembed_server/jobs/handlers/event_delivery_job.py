"""Engagement event jobs: one record from the intake, one POST to HubSpot's v2 events API.

The body is built at send time (``domain.event_mapping``) so a media object id recorded by
a sync after the play is still used. Refuses a payload that is not a valid record: that
is a dead letter, not something a retry could fix.
"""
from __future__ import annotations

from oembed_server.domain.derived_keys import LINKS_PURPOSE
from oembed_server.domain.event_mapping import hubspot_event
from oembed_server.domain.event_record import JOB_KIND, PLAYED, EventRecord
from oembed_server.domain.session_links import link_keys
from oembed_server.hubspot.media_events_api import MediaEvents
from oembed_server.jobs.handlers.job_context import JobContext
from oembed_server.jobs.job_outcomes import GiveUp
from oembed_server.storage.job_queue import Job
from oembed_server.storage.key_salts import salt_for
from oembed_server.storage.privacy_erasure import remember_contact
from oembed_server.storage.write_transaction import write_transaction

KINDS = tuple(JOB_KIND.values())


def send_event(job: Job, ctx: JobContext) -> None:
    try:
        record = EventRecord.from_payload(job.payload)
    except (TypeError, ValueError) as exc:
        raise GiveUp(f"job {job.id} holds no valid event record: {exc}") from None
    item = ctx.media_item(record.external_id)
    links = None
    if ctx.stable_secret_key and record.kind == PLAYED:  # only the played event carries a link
        links = link_keys(ctx.stable_secret_key, salt_for(ctx.catalog.engine, LINKS_PURPOSE),
                          ctx.settings.insights_link_days)
    kind, body = hubspot_event(record, item, public_url=ctx.settings.public_url, links=links)
    # The version is HUBSPOT_MEDIA_EVENTS_VERSION: v2 by default, HubSpot's production path
    # (asynchronous, retained and retried on HubSpot's side).
    answer = MediaEvents(ctx.client).send(kind, body)
    _learn_contact(job, record, answer, ctx)


def _learn_contact(job: Job, record: EventRecord, answer: object, ctx: JobContext) -> None:
    """A synchronous answer (v1, dated versions) names the contact HubSpot resolved the utk
    to: kept, so a privacy deletion of that contact can find the utk's plays."""
    contact = answer.get("contactId") if isinstance(answer, dict) else None
    portal = record.portal_id if record.portal_id is not None else ctx.client.config.portal_id
    if not record.contact_utk or portal is None or not isinstance(contact, int) or isinstance(contact, bool) \
            or contact <= 0:
        return
    with write_transaction(ctx.catalog.engine) as conn:
        remember_contact(conn, portal, record.contact_utk, contact, job_id=job.id)
