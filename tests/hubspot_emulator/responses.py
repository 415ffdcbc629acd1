"""HubSpot's error body shape, and the current state for route handlers."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import current_app, g, jsonify, request

from tests.hubspot_emulator.state import EmulatorState, PortalData


class ApiError(Exception):
    """Raised by handlers; rendered as HubSpot's error body."""

    def __init__(self, status: int, message: str, category: str = "VALIDATION_ERROR", **extra: Any):
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category
        self.extra = extra


def error_response(status: int, message: str, category: str | None = "VALIDATION_ERROR", headers=None, **extra):
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4())}
    if category:
        body["category"] = category
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def state() -> EmulatorState:
    return current_app.extensions["hubspot_emulator"]


def portal_data() -> PortalData:
    """The holdings of the portal whose access token authenticated this request."""
    return state().data(g.token_info.hub_id)


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid input JSON: the request body must be a JSON object")
    return body


def require(condition: bool, message: str, status: int = 400, category: str = "VALIDATION_ERROR", **extra):
    if not condition:
        raise ApiError(status, message, category, **extra)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
