"""Job kind hubspot.webhook_batch: one delivery of HubSpot webhooks, stored by
``POST /hubspot/webhooks``, processed here (``usecases.webhook_processing``). Local work:
no HubSpot call, so it never waits for a portal's token or budget. A payload that is not a
batch is a dead letter."""
from __future__ import annotations

import logging

from oembed_server.jobs.handlers.job_context import LocalContext
from oembed_server.jobs.job_outcomes import GiveUp
from oembed_server.storage.job_queue import Job
from oembed_server.storage.write_transaction import write_transaction
from oembed_server.usecases.webhook_processing import (
    KIND_WEBHOOK_BATCH,
    batch_events,
    forget_batch,
    process_events,
)

log = logging.getLogger(__name__)

KINDS = (KIND_WEBHOOK_BATCH,)


def run(job: Job, ctx: LocalContext) -> None:
    try:
        events = batch_events(job.payload)
    except ValueError as exc:
        raise GiveUp(f"job {job.id} holds no webhook batch: {exc}") from None
    with write_transaction(ctx.catalog.engine) as conn:
        summary = process_events(conn, events, ctx.settings)
        forget_batch(conn, job.id, summary)
    log.info("webhook batch %s: %d event(s): %s", job.id, len(events), summary.describe())
