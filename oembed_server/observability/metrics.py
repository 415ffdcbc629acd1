"""The metric families the processes count (prometheus_client).

Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` names a directory every process writes its
counters into (``oembed_server.gunicorn_config`` makes and tidies it): ``/metrics`` adds
them up, so two workers' requests are one count. The worker process writes there too
when it shares the variable. What the database knows (jobs by state, portals, workers,
budget use) is not counted here but read at each scrape (``usecases.service_metrics``),
so it is right whichever process answers.

Every label value is bounded: route templates, not paths; report kinds and refusal
reasons from fixed lists; HubSpot operations as path templates; portal ids.
"""
from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client import multiprocess as _multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_HUBSPOT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "oembed_http_requests", "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"])
HTTP_REQUEST_SECONDS = Histogram(
    "oembed_http_request_duration_seconds", "Time to answer an HTTP request, by route template and method.",
    ["route", "method"], buckets=_LATENCY_BUCKETS)

INTAKE_ACCEPTED = Counter(
    "oembed_intake_reports_accepted", "Player reports POST /events accepted (202), by report kind.", ["kind"])
INTAKE_REFUSED = Counter(
    "oembed_intake_reports_refused", "Player reports POST /events refused, by report kind and reason.",
    ["kind", "reason"])

JOBS_PROCESSED = Counter(
    "oembed_worker_jobs", "Job attempts the worker finished, by job kind and outcome "
    "(sent, retried, held, dead, released).", ["kind", "outcome"])

HUBSPOT_REQUESTS = Counter(
    "oembed_hubspot_requests", "Requests sent to HubSpot, by operation, answer status (\"error\": no answer) "
    "and portal.", ["operation", "status", "portal"])
HUBSPOT_REQUEST_SECONDS = Histogram(
    "oembed_hubspot_request_duration_seconds", "Time HubSpot took to answer, by operation.", ["operation"],
    buckets=_HUBSPOT_BUCKETS)
HUBSPOT_RATE_LIMITED = Counter(
    "oembed_hubspot_rate_limited", "429 answers from HubSpot, by portal.", ["portal"])
HUBSPOT_RETRIES = Counter(
    "oembed_hubspot_retries", "Requests to HubSpot sent again after a 429, 5xx or dropped connection, "
    "by operation and portal.", ["operation", "portal"])


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def process_registry() -> CollectorRegistry:
    """The registry whose samples /metrics shows: in multiprocess mode one that reads every
    process's files (built per scrape, as prometheus_client asks), else this process's own."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY
    return REGISTRY


def mark_process_dead(pid: int) -> None:
    """Gunicorn's child_exit: drop the live gauges of a worker process that ended."""
    if multiprocess_dir():
        _multiprocess.mark_process_dead(pid)
