"""``POST /hubspot/webhooks``: HubSpot's webhook deliveries, checked and stored before
the answer, processed by the worker (job kind hubspot.webhook_batch).

The signature is checked over the raw body before anything is parsed: v3
(``X-HubSpot-Signature-v3``, HMAC-SHA256 with the client secret, timestamp within five
minutes) unless HUBSPOT_WEBHOOK_SIGNATURE=v1. The URI signed is the public URL HubSpot
was given (``OEMBED_PUBLIC_URL`` + the path and query as sent), so a proxy in front does
not change it. Refuses with a JSON ``{"error"}``: 401 unsigned, badly signed or stale,
400 malformed, 413 oversized or more than 100 events, 503 without HUBSPOT_CLIENT_SECRET;
nothing is stored then. A stored batch is answered 204 at once (HubSpot waits 5 s).
"""
from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, jsonify, request

from oembed_server.domain.hubspot_app import WEBHOOK_PATH
from oembed_server.domain.webhook_events import MAX_BODY_BYTES, BatchRefused, parse_batch
from oembed_server.domain.webhook_signature import SignatureRefused, check_v1, check_v3
from oembed_server.storage.write_transaction import write_transaction
from oembed_server.usecases.webhook_processing import queue_batch
from oembed_server.web.app_state import current_catalog, current_settings

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)


def _refuse(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _read_body() -> bytes | None:
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        return None
    body = request.stream.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


def signed_uri(public_url: str) -> str:
    """The URL HubSpot called, as it signed it: the configured public origin, then the
    path and query exactly as they came (before any decoding by the server)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw or not raw.startswith("/"):
        query = request.query_string.decode("latin-1")
        raw = request.path + (f"?{query}" if query else "")
    return public_url.rstrip("/") + raw


@bp.post(WEBHOOK_PATH)
def receive_webhooks():
    settings = current_settings()
    secret = settings.hubspot.client_secret
    if not secret:
        log.warning("webhooks: refused a delivery: HUBSPOT_CLIENT_SECRET is not set")
        return _refuse(503, "webhooks need HUBSPOT_CLIENT_SECRET (the app's client secret) to check signatures")
    body = _read_body()
    if body is None:
        return _refuse(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    headers = request.headers
    try:
        if settings.webhook_signature == "v1":
            check_v1(secret, body, headers.get("X-HubSpot-Signature"), headers.get("X-HubSpot-Signature-Version"))
        else:
            check_v3(secret, request.method, signed_uri(settings.public_url), body,
                     headers.get("X-HubSpot-Signature-v3"), headers.get("X-HubSpot-Request-Timestamp"),
                     now_ms=int(time.time() * 1000))
    except SignatureRefused as refused:
        log.warning("webhooks: refused a delivery: %s", refused)
        return _refuse(401, str(refused))
    try:
        events = parse_batch(body)
    except BatchRefused as refused:
        log.warning("webhooks: refused a signed delivery: %s", refused.message)
        return _refuse(refused.status, refused.message)
    with write_transaction(current_catalog().engine) as conn:
        queue_batch(conn, events)
    return Response(status=204)
