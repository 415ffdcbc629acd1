"""Lead capture gates: what a gated player page is told (``gate_config``), and the two
calls its gate makes back: ``POST /gates/event`` (shown, skipped: counted per item) and
``POST /gates/submit`` (the viewer's form, passed on to HubSpot, never stored or logged).

Answers of /gates/submit: 200 ``{"accepted": true, "message"}``; 422 ``{"errors": [{"field",
"errorType", "message"}]}`` for HubSpot's field errors (shown next to their fields); 503
``{"error": "unavailable"}`` when HubSpot could not take it (the player keeps what was typed
and offers one retry); 400/403/413/415 for bodies and tokens that are not a gate's.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from oembed_server.domain.gate_tokens import GateClaims, issue_gate_token, read_gate_token
from oembed_server.domain.lead_gates import Gate, GateForm
from oembed_server.domain.media import MediaItem, MediaType, is_absolute_http_url
from oembed_server.domain.player_tokens import parse_portal_id
from oembed_server.storage import gate_counts
from oembed_server.usecases.gate_forms import GateForms
from oembed_server.web.app_state import app_owned, current_catalog, current_settings

bp = Blueprint("gates", __name__)

MAX_BODY_BYTES = 32 * 1024
_HUTK_MAX = 64
_PAGE_MAX = 2000


def gate_forms() -> GateForms:
    return app_owned("gate_forms", lambda: GateForms(current_settings(), current_catalog().engine,
                                                     **current_app.config.get("GATE_CLIENT_OPTIONS", {})))


def gate_config(item: MediaItem, gate: Gate | None, args) -> dict[str, Any] | None:
    """The gate a player page shows, with its form, or None: no gate asked for, media that
    does not play, or a portal or form that cannot give one (the player then just plays)."""
    if gate is None or item.media_type not in (MediaType.VIDEO, MediaType.AUDIO):
        return None
    portal_id = parse_portal_id(args.get("hs_portal_id"))
    form = gate_forms().form(portal_id, gate.form_id)
    if form is None:
        return None
    dnt = args.get("dnt") == "1"
    token = issue_gate_token(current_settings().secret_key, GateClaims(item.external_id, portal_id, gate.form_id, dnt))
    return {"at": gate.at, "skippable": gate.skippable, "heading": gate.heading or form.name, "text": gate.text,
            "form": form.plain(), "token": token, "submitUrl": url_for("gates.submit"),
            "eventUrl": url_for("gates.event")}


def _body() -> tuple[dict | None, Response | None]:
    if request.mimetype not in ("application/json", "text/plain"):
        return None, _json(415, {"error": "Content-Type must be application/json"})
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return None, _json(413, {"error": f"the body must be at most {MAX_BODY_BYTES} bytes"})
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY_BYTES:
        return None, _json(413, {"error": f"the body must be at most {MAX_BODY_BYTES} bytes"})
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, _json(400, {"error": "the body is not valid JSON"})
    if not isinstance(data, dict):
        return None, _json(400, {"error": "the body must be a JSON object"})
    return data, None


def _claims(data: dict) -> GateClaims | None:
    return read_gate_token(current_settings().secret_key, data.get("token"))


@bp.post("/gates/event")
def event():
    data, refused = _body()
    if refused is not None:
        return refused
    assert data is not None
    claims = _claims(data)
    if claims is None:
        return _json(403, {"error": "token: is not valid"})
    kind = data.get("kind")
    if kind not in ("shown", "skipped"):
        return _json(400, {"error": "kind: must be shown or skipped"})
    gate_counts.count(current_catalog().engine, claims.external_id, claims.form_id, kind)
    return Response(status=204, headers={"Cache-Control": "no-store"})


@bp.post("/gates/submit")
def submit():
    data, refused = _body()
    if refused is not None:
        return refused
    assert data is not None
    claims = _claims(data)
    if claims is None:
        return _json(403, {"error": "token: is not valid"})
    values, consent = data.get("values"), data.get("consent") or {}
    if not isinstance(values, dict) or not isinstance(consent, dict):
        return _json(400, {"error": "values and consent must be objects"})
    service = gate_forms()
    form: GateForm | None = service.form(claims.portal_id, claims.form_id)
    if form is None:
        return _json(503, {"error": "unavailable"})
    # The viewer's own choice to submit; without their consent to tracking, no visitor token.
    private = claims.dnt or request.headers.get("Sec-GPC") == "1" or data.get("dnt") is True
    hutk = _text(data.get("hutk"), _HUTK_MAX) if not private else None
    page_uri = _text(data.get("pageUri"), _PAGE_MAX)
    result = service.submit(claims.portal_id, form, values, consent, hutk=hutk,
                            page_uri=page_uri if is_absolute_http_url(page_uri) else None,
                            page_name=_text(data.get("pageName"), _PAGE_MAX))
    if result.status == "invalid":
        return _json(422, {"errors": list(result.errors)})
    if result.status == "unavailable":
        return _json(503, {"error": "unavailable"})
    gate_counts.count(current_catalog().engine, claims.external_id, claims.form_id, "submitted")
    return _json(200, {"accepted": True, "message": result.message})


def _text(value: object, limit: int) -> str | None:
    return value.strip()[:limit] if isinstance(value, str) and value.strip() else None


def _json(status: int, body: dict) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
