"""Every request counted and logged once: a request id (the caller's ``X-Request-Id`` when
it is a sane token, else a new one) echoed in the answer and carried by every log line
the request causes; the route template, status and duration in the metrics and in one
log line. Health and metrics requests are counted but not logged (probes would drown the
log). Query strings are logged with their sensitive values redacted."""
from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

from oembed_server.observability import metrics
from oembed_server.observability.log_format import REDACTED, SENSITIVE_PARAMETERS, redact_query, request_id_var

log = logging.getLogger("oembed_server.requests")
REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
UNLOGGED_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
UNMATCHED = "<unmatched>"
# (route, method, status) -> its bound counter and histogram: labels() costs a lookup and a
# lock per call, and every request (the /events hot path too) would pay it twice. Bounded
# by the app's routes, methods and statuses.
_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_forget)


def _start() -> None:
    g.request_started = time.perf_counter()
    given = request.headers.get(REQUEST_ID_HEADER)
    g.request_id = given if given is not None and _REQUEST_ID_RE.fullmatch(given) else uuid.uuid4().hex
    g.request_id_token = request_id_var.set(g.request_id)


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    if started is None:  # a before_request before ours answered
        return response
    seconds = time.perf_counter() - started
    rule = request.url_rule
    route = rule.rule if rule is not None else UNMATCHED
    status = response.status_code
    key = (route, request.method, status)
    children = _CHILDREN.get(key)
    if children is None:
        children = _CHILDREN[key] = (metrics.HTTP_REQUESTS.labels(route, request.method, str(status)),
                                     metrics.HTTP_REQUEST_SECONDS.labels(route, request.method))
    children[0].inc()
    children[1].observe(seconds)
    response.headers[REQUEST_ID_HEADER] = g.request_id
    if route not in UNLOGGED_ROUTES and log.isEnabledFor(logging.INFO):
        query = redact_query(request.args.items(multi=True)) if request.query_string else ""
        path = _shown_path()
        log.info("%s %s%s %d %.1fms", request.method, path, f"?{query}" if query else "", status, seconds * 1000,
                 extra={"request_id": g.request_id, "method": request.method, "route": route, "path": path,
                        "query": query, "status": status, "duration_ms": round(seconds * 1000, 3)})
    return response


def _shown_path() -> str:
    """The path, with a path segment that is a token (``/insights/session/<token>``) redacted."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if name in SENSITIVE_PARAMETERS and isinstance(value, str) and value:
            path = path.replace(value, REDACTED)
    return path


def _forget(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id_var.reset(token)
