"""/_emulator: read state back and switch faults on over HTTP, for trials outside pytest.
Not part of HubSpot; never logged or rate limited."""
from __future__ import annotations

import dataclasses

from flask import Blueprint, jsonify, request

from tests.hubspot_emulator.mangling import MANGLINGS
from tests.hubspot_emulator.responses import ApiError, json_body, state
from tests.hubspot_emulator.state import Fault

blueprint = Blueprint("control", __name__, url_prefix="/_emulator")
FAULT_FIELDS = {f.name for f in dataclasses.fields(Fault)}


@blueprint.get("/state")
def show_state():
    return jsonify(state().summary())


@blueprint.get("/requests")
def show_requests():
    return jsonify({"counts": state().counts(),
                    "requests": [dataclasses.asdict(r) | {"json": None} for r in state().requests]})


@blueprint.post("/faults")
def add_fault():
    body = json_body()
    unknown = set(body) - FAULT_FIELDS
    if unknown or body.get("kind") not in ("status", "rate_limit", "drop", "drop_after", "latency", "mangle") \
            or (body.get("kind") == "mangle") != (body.get("mangle") in MANGLINGS):
        raise ApiError(400, f"a fault needs kind among status, rate_limit, drop, drop_after, latency, mangle "
                            f"(with mangle among {', '.join(MANGLINGS)}) and only fields {sorted(FAULT_FIELDS)}")
    fault = state().inject(**body)
    return jsonify(dataclasses.asdict(fault)), 201


@blueprint.post("/expire-tokens")
def expire_tokens():
    state().expire_tokens()
    return "", 204


@blueprint.post("/define-media-types")
def define_media_types():
    types = request.get_json(silent=True) or []
    state().define_media_types(*types)
    return jsonify(state().summary()["definitions"])


@blueprint.post("/portals/<int:hub_id>/uninstall")
def uninstall(hub_id: int):
    state().uninstall(hub_id)
    return "", 204
