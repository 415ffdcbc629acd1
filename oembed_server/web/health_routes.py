"""``/healthz`` (the process answers), ``/readyz`` (the database, its schema and, with
``?worker=1``, a live worker) and ``/metrics`` (Prometheus's text format).

None of them is rate limited or cached (``no-store``), and the request log leaves them out.
``/metrics`` asks for ``OEMBED_METRICS_TOKEN`` as a Bearer token; without one set it is
open in development and absent (404) in production, so a forgotten token never publishes
the numbers."""
from __future__ import annotations

import hmac
import json

from flask import Blueprint, Response, abort, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from oembed_server.observability import metrics
from oembed_server.usecases.service_health import readiness
from oembed_server.usecases.service_metrics import DatabaseCollector
from oembed_server.web.app_state import current_catalog, current_settings

bp = Blueprint("health", __name__)
_NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz() -> Response:
    return Response(b'{"status":"ok"}', status=200, mimetype="application/json", headers=_NO_STORE)


@bp.get("/readyz")
def readyz() -> Response:
    with_worker = request.args.get("worker") in ("1", "true", "yes")
    outcome = readiness(current_catalog().engine, with_worker=with_worker)
    return Response(json.dumps(outcome.to_dict()), status=200 if outcome.ready else 503,
                    mimetype="application/json", headers=_NO_STORE)


@bp.get("/metrics")
def metrics_page() -> Response:
    settings = current_settings()
    token = settings.metrics_token
    if token is None and settings.production:
        abort(404)
    if token is not None and not _bearer_matches(token):
        return Response(b'{"error": "metrics: a valid Bearer token (OEMBED_METRICS_TOKEN) is required"}',
                        status=401, mimetype="application/json",
                        headers={**_NO_STORE, "WWW-Authenticate": 'Bearer realm="metrics"'})
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector(current_catalog().engine))
    body = generate_latest(metrics.process_registry()) + generate_latest(database)
    return Response(body, status=200, headers={**_NO_STORE, "Content-Type": CONTENT_TYPE_LATEST})


def _bearer_matches(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
