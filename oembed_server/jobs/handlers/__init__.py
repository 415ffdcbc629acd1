"""One handler module per family of job kinds; ``HANDLERS`` maps each kind to its function.

A handler does one job's work through the context it is given and returns, or raises a
``jobs.job_outcomes`` exception (or lets a HubSpotError through) to say why it could not.
"""
from __future__ import annotations

from collections.abc import Callable

from oembed_server.jobs.handlers import (
    app_setup_job,
    catalog_sync_job,
    event_delivery_job,
    module_push_job,
    webhook_batch_job,
)
from oembed_server.jobs.handlers.job_context import JobContext, LocalContext
from oembed_server.storage.job_queue import Job

Handler = Callable[[Job, JobContext], None]
# Work done here without HubSpot (no portal client): run whatever the portal's token state.
LocalHandler = Callable[[Job, LocalContext], None]

HANDLERS: dict[str, Handler] = {kind: event_delivery_job.send_event for kind in event_delivery_job.KINDS}
for _module in (app_setup_job, module_push_job, catalog_sync_job):
    HANDLERS.update({kind: _module.run for kind in _module.KINDS})

LOCAL_HANDLERS: dict[str, LocalHandler] = {kind: webhook_batch_job.run for kind in webhook_batch_job.KINDS}

__all__ = ["HANDLERS", "LOCAL_HANDLERS", "Handler", "JobContext", "LocalContext", "LocalHandler"]
