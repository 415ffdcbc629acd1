"""What the worker tells its operators about each job and each HubSpot call: counters in
the metrics, and one log line per job attempt (kind, portal, attempt, outcome, HubSpot's
correlation id of the last call the attempt made)."""
from __future__ import annotations

import logging
import threading

from oembed_server.hubspot.call_observer import CallObservation
from oembed_server.observability import metrics

log = logging.getLogger("oembed_server.jobs")

_last_call = threading.local()


def observe_hubspot_call(call: CallObservation) -> None:
    """The HubSpot clients' observer: each attempt counted; its correlation id kept for
    the log line of the job this thread is running."""
    status = "error" if call.status is None else str(call.status)
    metrics.HUBSPOT_REQUESTS.labels(call.operation, status, call.portal).inc()
    if call.status is not None:
        metrics.HUBSPOT_REQUEST_SECONDS.labels(call.operation).observe(call.seconds)
    if call.status == 429:
        metrics.HUBSPOT_RATE_LIMITED.labels(call.portal).inc()
    if call.retried:
        metrics.HUBSPOT_RETRIES.labels(call.operation, call.portal).inc()
    if call.correlation_id:
        _last_call.correlation_id = call.correlation_id


def start_job() -> None:
    """A sender thread begins a job: forget the previous job's correlation id."""
    _last_call.correlation_id = None


def job_finished(job_id: int, kind: str, portal_id: int | None, attempt: int, outcome: str,
                 reason: str | None = None) -> None:
    metrics.JOBS_PROCESSED.labels(kind, outcome).inc()
    correlation_id = getattr(_last_call, "correlation_id", None)
    fields = {"job_id": job_id, "kind": kind, "portal": "default" if portal_id is None else portal_id,
              "attempt": attempt, "outcome": outcome, "correlation_id": correlation_id}
    if reason:
        fields["reason"] = reason[:500]
    level = logging.INFO if outcome in ("sent", "retried", "released") else logging.WARNING
    text = f"job {job_id} ({kind}, portal {fields['portal']}, attempt {attempt}): {outcome}"
    if reason:
        text += f": {reason[:500]}"
    log.log(level, text, extra=fields)
