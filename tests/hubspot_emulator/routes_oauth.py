"""/oauth: the consent page an installing admin sees (grant for one of the test portals,
or decline), code exchange and refresh at /oauth/v1/token (form-encoded), token introspection.

Codes expire and work once, and only with the redirect_uri they were issued for; the
token endpoint checks the client secret; every token belongs to the portal it was granted in.
A grant is revoked with DELETE /oauth/v1/refresh-tokens/{token} (204; 404 for an unknown one).
"""
from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, jsonify, redirect, render_template_string, request

from tests.hubspot_emulator.journal import JOURNAL_SCOPES
from tests.hubspot_emulator.responses import error_response, state
from tests.hubspot_emulator.state import ALL_SCOPES

blueprint = Blueprint("oauth", __name__)

CONSENT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Connect app {{ app_id }} to HubSpot</title></head>
<body>
<h1>Choose an account</h1>
<p>App {{ app_id }} asks for: <span class="scopes">{{ scopes|join(", ") }}</span></p>
<ul class="portals">
{% for hub_id, name in portals %}
  <li><form method="post" action="{{ url_for('oauth.decide') }}">
    {% for key, value in fields.items() %}<input type="hidden" name="{{ key }}" value="{{ value }}">{% endfor %}
    <input type="hidden" name="hub_id" value="{{ hub_id }}">
    <button type="submit" name="decision" value="grant"
            data-hub-id="{{ hub_id }}">Connect app to {{ name }} ({{ hub_id }})</button>
  </form></li>
{% endfor %}
</ul>
<form method="post" action="{{ url_for('oauth.decide') }}">
  {% for key, value in fields.items() %}<input type="hidden" name="{{ key }}" value="{{ value }}">{% endfor %}
  <button type="submit" name="decision" value="decline">Cancel</button>
</form>
</body></html>"""


def _authorize_problem(args) -> str | None:
    s = state()
    if args.get("client_id") != s.client_id:
        return "Unknown client_id: this app does not exist."
    target = urlsplit(args.get("redirect_uri") or "")
    if target.scheme not in ("http", "https") or not target.netloc:
        return "redirect_uri must be an absolute http(s) URL."
    scopes = (args.get("scope") or "").split()
    unknown = sorted(set(scopes) - ALL_SCOPES)
    if not scopes or unknown:
        return f"The scope parameter must list known scopes; unknown: {', '.join(unknown) or 'none given'}."
    optional = sorted(set((args.get("optional_scope") or "").split()) - ALL_SCOPES)
    if optional:
        return f"The optional_scope parameter lists unknown scopes: {', '.join(optional)}."
    return None


def _page_error(message: str):
    return f"<!doctype html><title>Authorization error</title><h1>Authorization error</h1><p>{message}</p>", 400


@blueprint.get("/oauth/authorize")
def authorize():
    problem = _authorize_problem(request.args)
    if problem:
        return _page_error(problem)
    s = state()
    fields = {k: request.args.get(k, "") for k in ("client_id", "redirect_uri", "scope", "optional_scope", "state")}
    scopes = fields["scope"].split() + fields["optional_scope"].split()
    return render_template_string(CONSENT_PAGE, app_id=s.app_id, scopes=scopes, fields=fields,
                                  portals=sorted(s.test_portals.items()))


@blueprint.post("/oauth/authorize")
def decide():
    form = request.form
    problem = _authorize_problem(form)
    if problem:
        return _page_error(problem)
    s = state()
    back: dict[str, str] = {}
    if form.get("decision") == "grant":
        try:
            hub_id = int(form.get("hub_id", ""))
        except ValueError:
            return _page_error("hub_id must be a number")
        if hub_id not in s.test_portals:
            return _page_error(f"No account {hub_id}.")
        # The installer grants the optional scopes too (HubSpot lets them decline those),
        # unless the portal's account cannot grant them.
        optional = [] if hub_id in s.optional_scopes_refused else (form.get("optional_scope") or "").split()
        back["code"] = s.issue_code(hub_id, form["redirect_uri"], frozenset(form["scope"].split() + optional))
    else:
        back |= {"error": "access_denied", "error_description": "The user declined to install the app."}
    if form.get("state"):
        back["state"] = form["state"]
    separator = "&" if urlsplit(form["redirect_uri"]).query else "?"
    return redirect(form["redirect_uri"] + separator + urlencode(back), 302)


@blueprint.post("/oauth/v1/token")
def token():
    if not request.content_type or not request.content_type.startswith("application/x-www-form-urlencoded"):
        return error_response(400, "The token endpoint takes application/x-www-form-urlencoded data",
                              "VALIDATION_ERROR")
    form = request.form
    s = state()
    grant = form.get("grant_type")
    if grant == "client_credentials":
        return _client_credentials(form)
    if grant not in ("refresh_token", "authorization_code"):
        return error_response(400, "grant_type must be authorization_code, refresh_token or client_credentials",
                              "VALIDATION_ERROR")
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
            hub_id = s.refresh_tokens.get(form["refresh_token"])
            if hub_id is None:
                return error_response(400, "missing or unknown refresh token", "BAD_REFRESH_TOKEN",
                                      error="BAD_REFRESH_TOKEN")
            refresh = form["refresh_token"]
            scopes = s.refresh_scopes.get(refresh, ALL_SCOPES)
        else:
            # Used up by this attempt whatever its outcome, as HubSpot's codes are.
            code = s.auth_codes.pop(form["code"], None)
            if code is None:
                return error_response(400, "missing or unknown auth code", "BAD_AUTH_CODE", error="BAD_AUTH_CODE")
            if s.clock() >= code.expires_at:
                return error_response(400, "auth code expired", "BAD_AUTH_CODE", error="BAD_AUTH_CODE")
            if code.redirect_uri != form["redirect_uri"]:
                return error_response(400, "redirect_uri does not match the one the code was issued for",
                                      "BAD_REDIRECT_URI", error="BAD_REDIRECT_URI")
            hub_id, scopes = code.hub_id, code.scopes
            refresh = f"emu-rt-{secrets.token_hex(12)}"
            s.refresh_tokens[refresh] = hub_id
            s.refresh_scopes[refresh] = scopes
        access = s.issue_access_token(scopes, hub_id=hub_id, refresh_token=refresh)
    return jsonify({"access_token": access, "refresh_token": refresh, "expires_in": s.token_lifetime_s,
                    "token_type": "bearer"})


def _client_credentials(form):
    """The app's own token (no portal), for the scopes asked: what the Webhooks Journal takes."""
    s = state()
    missing = [k for k in ("client_id", "client_secret", "scope") if not form.get(k)]
    if missing:
        return error_response(400, f"missing or empty request parameters: {', '.join(missing)}", "VALIDATION_ERROR")
    if form["client_id"] != s.client_id or form["client_secret"] != s.client_secret:
        return error_response(400, "missing or unknown client id or client secret", "BAD_CLIENT_ID",
                              error="BAD_CLIENT_ID")
    scopes = frozenset(form["scope"].split())
    unknown = sorted(scopes - JOURNAL_SCOPES)
    if unknown:
        return error_response(400, f"scopes not available to client credentials: {', '.join(unknown)}",
                              "BAD_SCOPES", error="invalid_scope")
    token = s.issue_app_token(scopes)
    return jsonify({"access_token": token, "expires_in": s.token_lifetime_s, "token_type": "bearer",
                    "token_use": "client_credentials", "scopes": sorted(scopes)})


@blueprint.get("/oauth/v1/access-tokens/<token>")
def access_token_info(token: str):
    s = state()
    info = s.access_tokens.get(token)
    if info is None:
        return error_response(404, "The access token is not valid", "OBJECT_NOT_FOUND")
    return jsonify({"token": token, "user_id": 1, "hub_id": info.hub_id, "app_id": info.app_id,
                    "scopes": sorted(info.scopes), "expires_in": max(int(info.expires_at - s.clock()), 0),
                    "token_type": "access"})


@blueprint.delete("/oauth/v1/refresh-tokens/<token>")
def revoke_refresh_token(token: str):
    """Revoke a grant: the refresh token and the access tokens it gave stop working."""
    if not state().revoke_refresh_token(token):
        return error_response(404, "missing or unknown refresh token", "BAD_REFRESH_TOKEN", error="BAD_REFRESH_TOKEN")
    return "", 204
