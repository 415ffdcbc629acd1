"""``/media/<id>/chapters.vtt`` (the player's ``<track kind="chapters">``, built from the
catalog's chapters) and ``POST /cta-clicks`` (the player's report of a click on a call to
action, counted per item and CTA for the insights page).

A click report carries the player token of the page it came from (``intake_routes``), so
only our own player pages count clicks, each page view once per CTA. Refusals are JSON
``{"error", "field"}``: 400 a malformed body or an unknown CTA, 403 a missing or invalid
token, 413 an oversized body, 415 another content type, 429 past the client's budget.
"""
from __future__ import annotations

import json
import time

from flask import Blueprint, Response, jsonify, request

from oembed_server.domain.bounded_cache import FifoCache
from oembed_server.domain.calls_to_action import keyed_ctas
from oembed_server.domain.chapters import chapters_vtt
from oembed_server.domain.intake_limits import ClientBudget
from oembed_server.domain.media import Visibility
from oembed_server.domain.player_tokens import read_token
from oembed_server.storage.cta_clicks import count_click
from oembed_server.storage.write_transaction import write_transaction
from oembed_server.web.app_state import app_owned, current_catalog, current_settings

bp = Blueprint("chapters_ctas", __name__)

MAX_CLICK_BODY_BYTES = 4096
ACCEPTED_TYPES = ("application/json", "text/plain")  # sendBeacon's string body is text/plain
# Page views whose click on a CTA was counted: a viewer clicking again (or a script
# replaying the report) does not count twice. Bounded; a forgotten one may count again.
_COUNTED_MAX = 50_000


@bp.get("/media/<external_id>/chapters.vtt")
def chapters_file(external_id: str):
    item = current_catalog().get(external_id)
    if item is None or not item.chapters:
        return Response("no chapters here\n", status=404, mimetype="text/plain")
    if item.visibility is Visibility.PRIVATE:
        return Response("this media is private\n", status=401, mimetype="text/plain")
    body = chapters_vtt(item.chapters, item.duration_ms)
    return Response(body, mimetype="text/vtt", headers={"Cache-Control": "public, max-age=300"})


@bp.post("/cta-clicks")
def cta_click():
    if request.mimetype not in ACCEPTED_TYPES:
        return _refuse(415, "Content-Type", "must be application/json or text/plain")
    if (request.content_length or 0) > MAX_CLICK_BODY_BYTES:
        return _refuse(413, "body", f"must be at most {MAX_CLICK_BODY_BYTES} bytes")
    body = request.stream.read(MAX_CLICK_BODY_BYTES + 1)
    if len(body) > MAX_CLICK_BODY_BYTES:
        return _refuse(413, "body", f"must be at most {MAX_CLICK_BODY_BYTES} bytes")
    now = time.time()
    if not _client_budget().allow(request.remote_addr or "-", now):
        return _refuse(429, "client", "too many reports from this address; try again in a minute")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _refuse(400, "body", "is not valid JSON")
    if not isinstance(data, dict):
        return _refuse(400, "body", "must be a JSON object")
    token, key = data.get("token"), data.get("cta")
    if not isinstance(token, str) or not token:
        return _refuse(403, "token", "is required")
    claims = read_token(current_settings().secret_key, token)
    if claims is None:
        return _refuse(403, "token", "is not valid: expired, or not issued by this server")
    item = current_catalog().get(claims.external_id)
    keys = {k for k, _ in keyed_ctas(item.ctas)} if item else set()
    if not isinstance(key, str) or key not in keys:
        return _refuse(400, "cta", f"{key!r} is not a call to action of this item")
    counted = _counted()
    if (token, key) in counted:
        return _answer(False)
    catalog = current_catalog()
    with write_transaction(catalog.engine) as conn:
        count_click(conn, claims.external_id, key, now)
    counted.put((token, key), True)
    return _answer(True)


def _client_budget() -> ClientBudget:
    return app_owned("cta_client_budget", lambda: ClientBudget(current_settings().events_client_rate))


def _counted() -> FifoCache[tuple[str, str], bool]:
    return app_owned("cta_clicks_counted", lambda: FifoCache[tuple[str, str], bool](_COUNTED_MAX))


def _answer(counted: bool) -> Response:
    response = jsonify({"counted": counted})
    response.status_code = 202
    response.headers["Cache-Control"] = "no-store"
    return response


def _refuse(status: int, field: str, message: str) -> Response:
    response = jsonify({"error": f"{field}: {message}", "field": field})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
