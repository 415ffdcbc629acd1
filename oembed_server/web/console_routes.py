"""The operator console at /console: sign-in, portals, events, catalog, invites, media.

Every page but the sign-in needs a session: a random cookie (HttpOnly, SameSite=Lax,
Secure in production, path /console) whose SHA-256 names a row of console_sessions, so a
sign-out or a removed operator ends it in every process. Without one, pages answer 302
to the sign-in and /console/api/* answers 401 JSON. Every form carries a CSRF token
(Flask-WTF's, checked here for the console's forms only: the rest of the app takes no
cookies). Every action is logged on ``oembed_server.console.audit`` with the operator's
name. Server-rendered; no page needs JavaScript.
"""
from __future__ import annotations

import logging
from typing import BinaryIO, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf  # type: ignore[import-untyped]
from werkzeug.wrappers import Response
from wtforms import ValidationError  # type: ignore[import-untyped]

from oembed_server.domain.invite_rules import DEFAULT_INVITE_DAYS, MAX_INVITE_DAYS, MAX_INVITE_USES
from oembed_server.storage.operator_store import OperatorStore
from oembed_server.storage.portal_store import PortalStore
from oembed_server.usecases import console_actions, console_views
from oembed_server.usecases.console_operators import SESSION_LIFETIME_S, Throttled, sign_in
from oembed_server.usecases.install_invites import InviteRefused, issue_invite, list_invites, revoke_invite
from oembed_server.web.app_state import current_catalog, current_settings

bp = Blueprint("console", __name__, url_prefix="/console")
audit = logging.getLogger("oembed_server.console.audit")

SESSION_COOKIE = "console_session"
# The largest catalog file the console takes; bigger ones go through `import-catalog`.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
OPEN_ENDPOINTS = {"console.sign_in_page", "console.sign_in_submit"}


def init_app(app: Flask) -> None:
    """Cookie settings for the Flask session that holds the CSRF token (only console pages
    write it), then the blueprint."""
    secure = current_secure(app)
    app.config.setdefault("SESSION_COOKIE_SECURE", secure)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", SESSION_LIFETIME_S)
    app.register_blueprint(bp)


def current_secure(app: Flask) -> bool:
    settings = app.extensions["oembed_settings"]
    return bool(settings.production or settings.public_url.startswith("https://"))


def _operators() -> OperatorStore:
    return OperatorStore(current_catalog().engine)


def _portals() -> PortalStore:
    return PortalStore(current_catalog().engine, current_settings().stable_secret_key)


def _audit(action: str, **details) -> None:
    extra = " ".join(f"{k}={v}" for k, v in details.items())
    audit.info("console: operator=%s action=%s %s", g.operator, action, extra)


@bp.context_processor
def _template_values() -> dict:
    return {"csrf_token": generate_csrf, "provider_name": current_settings().provider_name,
            "operator": g.get("operator")}


@bp.before_request
def _require_session():
    g.operator = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        g.operator = _operators().session_operator(token)
    if request.method == "POST":
        try:
            validate_csrf(request.form.get("csrf_token"))
        except (ValidationError, CSRFError) as exc:
            return _page("console/message.html", 400, heading="This form has expired",
                         message=f"The form's security token is missing or stale ({exc}). Nothing was done; "
                                 "reload the page and try again.")
    if g.operator is None and request.endpoint not in OPEN_ENDPOINTS:
        if request.path.startswith("/console/api/"):
            response = jsonify({"error": "sign in to the console first"})
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Cookie realm="console"'
            return response
        return redirect(url_for("console.sign_in_page", next=request.full_path.rstrip("?")), 302)
    return None


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(template: str, status: int = 200, **values) -> Response:
    return make_response(render_template(template, **values), status)


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/console/") and not value.startswith("//") and not urlsplit(value).netloc \
            and "\\" not in value:
        return value
    return url_for("console.portals")


# --- signing in and out --------------------------------------------------------------------
@bp.get("/sign-in")
def sign_in_page():
    if g.operator:
        return redirect(_safe_next(request.args.get("next")), 303)
    return _page("console/sign_in.html", next=request.args.get("next", ""))


@bp.post("/sign-in")
def sign_in_submit():
    name = request.form.get("name", "").strip().lower()
    password = request.form.get("password", "")
    address = request.remote_addr or "-"
    try:
        token = sign_in(_operators(), name, password, address) if name and password else None
    except Throttled:
        audit.warning("console: sign-in throttled for name=%s address=%s", name[:64], address)
        return _page("console/sign_in.html", 429, next=request.form.get("next", ""), name=name,
                     error="Too many failed sign-ins for this name or from this address. Wait 15 minutes and "
                           "try again.")
    if token is None:
        audit.warning("console: failed sign-in for name=%s address=%s", name[:64], address)
        return _page("console/sign_in.html", 401, next=request.form.get("next", ""), name=name,
                     error="That name and password do not match an operator.")
    audit.info("console: operator=%s action=sign-in address=%s", name, address)
    response = redirect(_safe_next(request.form.get("next")), 303)
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_LIFETIME_S, path="/console", httponly=True,
                        samesite="Lax", secure=current_secure(current_app))
    return response


@bp.post("/sign-out")
def sign_out():
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        _operators().end_session(token)
    _audit("sign-out")
    response = redirect(url_for("console.sign_in_page"), 303)
    response.delete_cookie(SESSION_COOKIE, path="/console", httponly=True, samesite="Lax",
                           secure=current_secure(current_app))
    return response


@bp.get("/")
def home():
    return redirect(url_for("console.portals"), 302)


# --- portals -------------------------------------------------------------------------------
@bp.get("/portals")
def portals():
    return _page("console/portals.html", portals=console_views.portals(_portals(), current_settings()),
                 budget=f"{current_settings().hubspot.rate_limit} calls per "
                        f"{current_settings().hubspot.rate_interval_s:g} s")


_PORTAL_ACTIONS = {
    "resync": console_actions.resync,
    "push-modules": console_actions.push_modules,
    "disconnect": console_actions.disconnect,
    "retry-dead": lambda store, portal_id: console_actions.retry_dead(store, portal_id=portal_id),
}


@bp.post("/portals/<int:portal_id>/<action>")
def portal_action(portal_id: int, action: str):
    run = _PORTAL_ACTIONS.get(action)
    if run is None:
        abort(404)
    try:
        message = run(_portals(), portal_id)
    except console_actions.ActionRefused as exc:
        flash(str(exc), "error")
        _audit(action, portal=portal_id, outcome="refused")
    else:
        flash(message, "done")
        _audit(action, portal=portal_id, outcome="done")
    return redirect(url_for("console.portals"), 303)


# --- events --------------------------------------------------------------------------------
@bp.get("/events")
def events():
    engine = current_catalog().engine
    return _page("console/events.html", events=console_views.events(engine, current_settings()),
                 dead=console_views.dead_letters(engine))


@bp.post("/dead-jobs/<int:job_id>/retry")
def retry_job(job_id: int):
    message = console_actions.retry_dead(_portals(), job_id=job_id)
    flash(message, "done")
    _audit("retry-job", job=job_id)
    return redirect(url_for("console.events"), 303)


# --- catalog -------------------------------------------------------------------------------
@bp.get("/catalog")
def catalog():
    return _page("console/catalog.html", libraries=console_views.catalog_counts(current_catalog().engine))


@bp.post("/catalog/upload")
def catalog_upload():
    upload = request.files.get("catalog")
    libraries = console_views.catalog_counts(current_catalog().engine)
    if upload is None or not upload.filename:
        return _page("console/catalog.html", 400, libraries=libraries,
                     outcome=console_actions.UploadOutcome(False, "Choose a JSON or CSV catalog file to upload."))
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES:
        return _page("console/catalog.html", 413, libraries=libraries, outcome=console_actions.UploadOutcome(
            False, f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; use "
                   "`oembed-server import-catalog` for it."))
    name = upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    outcome = console_actions.upload_catalog(current_catalog(), _portals(), name, cast(BinaryIO, upload.stream))
    _audit("catalog-upload", file=repr(name), applied=outcome.applied, problems=outcome.problem_count)
    return _page("console/catalog.html", 200 if outcome.applied else 422, outcome=outcome,
                 libraries=console_views.catalog_counts(current_catalog().engine))


# --- invites -------------------------------------------------------------------------------
def _invites_page(status: int = 200, **values) -> Response:
    return _page("console/invites.html", status, invites=list_invites(current_catalog().engine),
                 max_days=MAX_INVITE_DAYS, max_uses=MAX_INVITE_USES, default_days=DEFAULT_INVITE_DAYS,
                 libraries=[row["library"] for row in console_views.catalog_counts(current_catalog().engine)],
                 **values)


@bp.get("/invites")
def invites():
    return _invites_page()


@bp.post("/invites")
def create_invite():
    form = request.form
    library = form.get("library", "").strip()
    try:
        days = float(form.get("days", ""))
        uses = int(form.get("uses", ""))
    except ValueError:
        return _invites_page(400, error="Days must be a number and uses a whole number.", form=form)
    try:
        made = issue_invite(current_catalog().engine, current_settings().public_url, library, days, uses,
                            f"console:{g.operator}")
    except InviteRefused as exc:
        return _invites_page(400, error=str(exc), form=form)
    _audit("invite-create", invite=made["id"], library=library, days=f"{days:g}", uses=uses)
    return _invites_page(201, created=made)


@bp.post("/invites/<invite_id>/revoke")
def revoke(invite_id: str):
    try:
        revoked = revoke_invite(current_catalog().engine, invite_id)
    except InviteRefused as exc:
        flash(str(exc), "error")
    else:
        flash(f"Invite {invite_id} revoked." if revoked else f"Invite {invite_id} was already revoked.", "done")
        _audit("invite-revoke", invite=invite_id, changed=revoked)
    return redirect(url_for("console.invites"), 303)


# --- media ---------------------------------------------------------------------------------
@bp.get("/media")
def media():
    return _page("console/media.html", items=console_views.media_stats(current_catalog().engine, current_settings()))


# --- JSON ----------------------------------------------------------------------------------
@bp.get("/api/summary")
def api_summary():
    engine = current_catalog().engine
    return jsonify({"operator": g.operator, "portals": console_views.portals(_portals(), current_settings()),
                    "events": console_views.events(engine, current_settings())})
