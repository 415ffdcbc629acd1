"""The emulator's Flask app: auth, rate limits, faults and the request log wrap every route."""
from __future__ import annotations

import re
import socket
import time

from flask import Flask, g, request

from tests.hubspot_emulator.journal import spec_scopes
from tests.hubspot_emulator.mangling import mangle
from tests.hubspot_emulator.responses import ApiError, error_response
from tests.hubspot_emulator.spec_check import operation_for
from tests.hubspot_emulator.state import EmulatorState, LoggedRequest

DEVELOPER_PATH = re.compile(r"^/media-bridge/(v1|\d{4}-\d{2})/(?P<app>[^/]+)/(settings|schemas|properties)(/|$)")
PORTAL_PATH = re.compile(r"^/(crm|cms|marketing|appinstalls)/|^/media-bridge/(v1|v2|\d{4}-\d{2})/events/")
# The Webhooks Journal: the app's client-credentials token, never a portal's.
JOURNAL_PATH = re.compile(r"^/webhooks-journal/")
# Scope each portal family needs where the specs name none that fits (v2 events are not in them).
SCOPES = (("/appinstalls/", "oauth"), ("/cms/", "content"), ("/crm/", "media_bridge.read"),
          ("/media-bridge/", "media_bridge.write"))
# The CRM spec lists every CRM scope on every operation; for media objects HubSpot wants
# media_bridge.read to read and media_bridge.write to change anything.
CRM_READS = re.compile(r"/(search|batch/read)$")


def create_emulator_app(state: EmulatorState | None = None, **state_options) -> Flask:
    app = Flask(__name__)
    app.extensions["hubspot_emulator"] = state or EmulatorState(**state_options)
    from tests.hubspot_emulator import (
        routes_cms,
        routes_control,
        routes_crm,
        routes_domains,
        routes_events,
        routes_forms,
        routes_journal,
        routes_oauth,
        routes_settings,
        routes_versions,
        routes_webhooks,
        spec_check,
    )
    for module in (routes_oauth, routes_settings, routes_crm, routes_cms, routes_domains, routes_events,
                   routes_forms, routes_journal, routes_control, routes_webhooks):
        app.register_blueprint(module.blueprint)
    routes_versions.register(app)
    app.before_request(_before)
    app.after_request(_after)
    spec_check.install(app)
    app.register_error_handler(ApiError, lambda e: error_response(e.status, e.message, e.category, **e.extra))
    app.register_error_handler(404, lambda e: error_response(404, f"No route for {request.method} {request.path}",
                                                             "OBJECT_NOT_FOUND"))
    app.register_error_handler(405, lambda e: error_response(405, f"{request.method} is not allowed on {request.path}",
                                                             "VALIDATION_ERROR"))
    return app


def _state() -> EmulatorState:
    from flask import current_app
    return current_app.extensions["hubspot_emulator"]


def _before():
    if request.path.startswith("/_emulator/"):
        return None
    state = _state()
    for fault in state.take_faults(request.method, request.path, ("latency",), _bearer_hub(state)):
        time.sleep(fault.seconds)
    if state.take_faults(request.method, request.path, ("drop",), _bearer_hub(state)):
        g.auth_kind = "none"
        # Logged before the drop: the client retries the moment the socket closes, and the
        # retry must not overtake this request in the log.
        _log_request(state, 0)
        g.logged = True
        _drop_connection()
        return error_response(500, "connection dropped", None)
    g.auth_kind = "bearer" if request.headers.get("Authorization", "").startswith("Bearer ") else (
        "hapikey" if "hapikey" in request.args else "none")
    for fault in state.take_faults(request.method, request.path, ("rate_limit",), _bearer_hub(state)):
        return _rate_limited(state, fault.retry_after)
    for fault in state.take_faults(request.method, request.path, ("status",), _bearer_hub(state)):
        return error_response(fault.status, f"Injected failure {fault.status}",
                              "INTERNAL_ERROR" if fault.status >= 500 else "VALIDATION_ERROR")
    denied = _authenticate(state)
    if denied is not None:
        return denied
    remaining = state.take_rate_slot(g.budget_key) if g.get("budget_key") else None
    if g.get("budget_key") and remaining is None:
        return _rate_limited(state, state.rate_limit_retry_after)
    g.rate_remaining = remaining
    g.handled = True
    return None


def _bearer_hub(state: EmulatorState) -> int | None:
    """The portal a request's access token belongs to, so a fault can target one portal."""
    header = request.headers.get("Authorization", "")
    info = state.access_tokens.get(header[len("Bearer "):].strip()) if header.startswith("Bearer ") else None
    return info.hub_id if info else None


def _after(response):
    if request.path.startswith("/_emulator/"):
        return response
    state = _state()
    if g.get("handled") and 200 <= response.status_code < 300:
        for fault in state.take_faults(request.method, request.path, ("mangle",)):
            response = mangle(response, request, fault.mangle)
    if g.get("budget_key") and response.status_code != 429:
        response.headers["X-HubSpot-RateLimit-Max"] = str(state.rate_limit)
        response.headers["X-HubSpot-RateLimit-Remaining"] = str(g.get("rate_remaining") or 0)
        response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(state.rate_interval_ms)
    if not g.get("logged"):
        _log_request(state, response.status_code)
    if g.get("handled") and state.take_faults(request.method, request.path, ("drop_after",), _bearer_hub(state)):
        # The work is done and stored; only the answer is lost on the way back.
        _drop_connection()
    return response


def _log_request(state: EmulatorState, status: int) -> None:
    query = {k: ("[REDACTED]" if k == "hapikey" else v) for k, v in request.args.items()}
    with state.lock:
        state.requests.append(LoggedRequest(request.method, request.path, query, g.get("auth_kind", "none"),
                                            status, request.get_json(silent=True), _bearer_hub(state)))


def _drop_connection() -> None:
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        raise RuntimeError("dropping connections needs the emulator served live (werkzeug server)")
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _rate_limited(state: EmulatorState, retry_after: float | None):
    headers = {"X-HubSpot-RateLimit-Max": str(state.rate_limit), "X-HubSpot-RateLimit-Remaining": "0",
               "X-HubSpot-RateLimit-Interval-Milliseconds": str(state.rate_interval_ms)}
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    return error_response(429, "You have reached your ten_secondly_rolling limit.", "RATE_LIMITS", headers,
                          errorType="RATE_LIMIT", policyName="TEN_SECONDLY_ROLLING")


def _authenticate(state: EmulatorState):
    path = request.path
    developer = DEVELOPER_PATH.match(path)
    if developer:
        denied = _authenticate_developer(state)
        if denied is not None:
            return denied
        if developer.group("app") != str(state.app_id):
            return error_response(403, f"App {developer.group('app')} does not belong to this developer account.",
                                  "FORBIDDEN")
        g.budget_key = f"app:{state.app_id}"
        return None
    if JOURNAL_PATH.match(path):
        return _authenticate_app_token(state)
    if not PORTAL_PATH.match(path):
        return None
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        if "hapikey" in request.args:
            return error_response(401, "API keys are not accepted for this endpoint; use an OAuth access token.",
                                  "INVALID_AUTHENTICATION")
        return error_response(401, "Authentication credentials not found. This API supports OAuth 2.0 "
                                   "authentication.", "INVALID_AUTHENTICATION")
    token = header[len("Bearer "):].strip()
    info = state.access_tokens.get(token)
    refused = _unusable(state, info)
    if refused is not None:
        return refused
    assert info is not None
    needed = _portal_scope(request.method, path)
    if needed not in info.scopes:
        return error_response(403, f"This app hasn't been granted all required scopes to make this call. "
                                   f"Required: {needed}", "MISSING_SCOPES")
    g.budget_key = f"portal:{info.hub_id}"
    g.token_info = info
    return None


def _unusable(state: EmulatorState, info):
    """HubSpot's 401 for an unknown or expired OAuth token; None when it may be used."""
    if info is None:
        return error_response(401, "The OAuth token used to make this call is not valid.", "INVALID_AUTHENTICATION")
    overdue = state.clock() - info.expires_at
    if overdue >= 0:
        return error_response(401, f"The OAuth token used to make this call expired {int(overdue) + 1} "
                                   "second(s) ago.", "EXPIRED_AUTHENTICATION")
    return None


def _portal_scope(method: str, path: str) -> str:
    if path.startswith("/appinstalls/"):
        return "oauth"  # the spec's other alternative is an internal acceptance-test scope
    if path.startswith("/crm/"):
        return "media_bridge.read" if method == "GET" or CRM_READS.search(path) else "media_bridge.write"
    op = operation_for(method, path)
    if op is not None and len(op.scopes) == 1:
        return next(iter(op.scopes))
    return next(scope for prefix, scope in SCOPES if path.startswith(prefix))


def _authenticate_developer(state: EmulatorState):
    """App-level calls: a developer account's token with the scope the spec names, or the
    developer API key while the emulator accepts it. A portal's token is refused (403)."""
    if "hapikey" in request.args:
        if not state.accept_developer_hapikey:
            return error_response(401, "This endpoint takes a developer account OAuth token (developers-read / "
                                       "developers-write); the developer API key is not accepted.",
                                  "INVALID_AUTHENTICATION")
        if request.args["hapikey"] != state.developer_api_key:
            return error_response(401, "The API key provided is invalid.", "INVALID_AUTHENTICATION")
        return None
    if g.auth_kind != "bearer":
        return error_response(401, "Authentication credentials not found. This API supports OAuth 2.0 with a "
                                   "developer account token, or a developer API key.", "INVALID_AUTHENTICATION")
    token = request.headers["Authorization"][len("Bearer "):].strip()
    if token in state.access_tokens:
        return error_response(403, "A portal's OAuth token cannot call app-level endpoints; use a developer "
                                   "account token (developers-read / developers-write).", "INVALID_AUTHENTICATION")
    scopes = state.developer_tokens.get(token)
    if scopes is None:
        return error_response(401, "The OAuth token used to make this call is not valid.", "INVALID_AUTHENTICATION")
    op = operation_for(request.method, request.path)
    needed = op.scopes if op is not None else frozenset({"developers-write"})
    if needed and not needed & scopes:
        return error_response(403, "This token hasn't been granted all required scopes to make this call. "
                                   f"Required: {' or '.join(sorted(needed))}", "MISSING_SCOPES")
    return None


def _authenticate_app_token(state: EmulatorState):
    """Journal calls: a client-credentials token of this app with the scope the spec names."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return error_response(401, "Authentication credentials not found. This API takes an OAuth client "
                                   "credentials token.", "INVALID_AUTHENTICATION")
    token = header[len("Bearer "):].strip()
    if token in state.access_tokens or token in state.developer_tokens:
        return error_response(403, "The Webhooks Journal takes the app's client credentials token "
                                   "(grant_type=client_credentials), not a portal's or a developer account's.",
                              "INVALID_AUTHENTICATION")
    info = state.app_tokens.get(token)
    refused = _unusable(state, info)
    if refused is not None:
        return refused
    assert info is not None
    op = operation_for(request.method, request.path)
    needed = op.scopes if op is not None else frozenset()
    if needed and not needed & spec_scopes(info.scopes):
        return error_response(403, "This app hasn't been granted all required scopes to make this call. "
                                   f"Required: {' or '.join(sorted(needed))}", "MISSING_SCOPES")
    g.budget_key = f"app:{state.app_id}"
    return None
