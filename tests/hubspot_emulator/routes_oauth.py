"""/oauth/v1: token exchange and refresh (form-encoded), token introspection."""
from __future__ import annotations

import secrets

from flask import Blueprint, jsonify, request

from .responses import error_response, state

blueprint = Blueprint("oauth", __name__)


@blueprint.post("/oauth/v1/token")
def token():
    if not request.content_type or not request.content_type.startswith("application/x-www-form-urlencoded"):
        return error_response(400, "The token endpoint takes application/x-www-form-urlencoded data",
                              "VALIDATION_ERROR")
    form = request.form
    s = state()
    grant = form.get("grant_type")
    if grant not in ("refresh_token", "authorization_code"):
        return error_response(400, "grant_type must be authorization_code or refresh_token", "VALIDATION_ERROR")
    missing = [k for k in ("client_id", "client_secret") if not form.get(k)]
    missing += [k for k in (["refresh_token"] if grant == "refresh_token" else ["redirect_uri", "code"])
                if not form.get(k)]
    if missing:
        return error_response(400, f"missing or empty request parameters: {', '.join(missing)}", "VALIDATION_ERROR")
    if form["client_id"] != s.client_id or form["client_secret"] != s.client_secret:
        return error_response(400, "missing or unknown client id or client secret", "BAD_CLIENT_ID",
                              error="BAD_CLIENT_ID")
    with s.lock:
        if grant == "refresh_token":
            if form["refresh_token"] not in s.refresh_tokens:
                return error_response(400, "missing or unknown refresh token", "BAD_REFRESH_TOKEN",
                                      error="BAD_REFRESH_TOKEN")
            refresh = form["refresh_token"]
        else:
            if s.auth_codes.get(form["code"]) != form["redirect_uri"]:
                return error_response(400, "missing or unknown auth code", "BAD_AUTH_CODE", error="BAD_AUTH_CODE")
            del s.auth_codes[form["code"]]
            refresh = f"emu-rt-{secrets.token_hex(12)}"
            s.refresh_tokens.add(refresh)
        access = s.issue_access_token()
    return jsonify({"access_token": access, "refresh_token": refresh, "expires_in": s.token_lifetime_s,
                    "token_type": "bearer"})


@blueprint.get("/oauth/v1/access-tokens/<token>")
def access_token_info(token: str):
    s = state()
    info = s.access_tokens.get(token)
    if info is None:
        return error_response(404, "The access token is not valid", "OBJECT_NOT_FOUND")
    return jsonify({"token": token, "user_id": 1, "hub_id": info.hub_id, "app_id": info.app_id,
                    "scopes": sorted(info.scopes), "expires_in": max(int(info.expires_at - s.clock()), 0),
                    "token_type": "access"})
