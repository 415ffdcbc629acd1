"""Install by OAuth: the "Connect HubSpot" page, HubSpot's redirect back, and a status
page that follows provisioning live.

/hubspot/connect sends the admin to HubSpot's authorize URL with a ``state`` that is
signed, expires, works once and is bound to this browser by a cookie; an install link
from ``oembed-server portals invite LIBRARY`` (``?invite=``) names an invite held in the
database (its library, lifetime, uses left, revocation), and with
OEMBED_INSTALL_REQUIRES_INVITE nothing installs without one. A reinstall through another
library's invite is refused (moving a portal is ``portals move``, an operator's choice).
/hubspot/oauth-callback refuses a declined consent,
a forged, expired or replayed state, a code HubSpot will not exchange, a token of another
app (or naming none) and a grant missing a required scope, each with a page saying what to
do, and stores nothing then; a grant refused after the exchange is revoked at HubSpot. Never puts the
client id/secret, a code or a token in a page, a log line or a job payload.
"""
from __future__ import annotations

import dataclasses
import logging
import re
import secrets

from flask import Blueprint, jsonify, make_response, redirect, render_template, request, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import SQLAlchemyError

from oembed_server.domain.hubspot_app import OPTIONAL_SCOPES, redirect_url
from oembed_server.domain.media import DEFAULT_LIBRARY
from oembed_server.hubspot.api_error import HubSpotError
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.client_config import HubSpotConfig
from oembed_server.hubspot.oauth_api import authorize_url, exchange_code
from oembed_server.storage import invite_store
from oembed_server.storage.portal_store import MissingSecretKey, PortalStore, state_nonce_used, use_state_nonce
from oembed_server.usecases import install_grant, provisioning
from oembed_server.usecases.install_grant import GrantProblem, grant_problem
from oembed_server.web.app_state import current_catalog, current_settings

log = logging.getLogger(__name__)
bp = Blueprint("install", __name__, url_prefix="/hubspot")

STATE_COOKIE = "hubspot_install"
# HubSpot's consent screen plus a login rarely take longer; a stale state is refused.
STATE_MAX_AGE_S = 900
STATUS_LINK_MAX_AGE_S = 7 * 86400


@dataclasses.dataclass(frozen=True)
class InstallSettings:
    config: HubSpotConfig
    authorize_base: str
    scopes: tuple[str, ...]
    redirect_uri: str
    problems: tuple[str, ...]


def install_settings() -> InstallSettings:
    """What an install needs, from the app's settings: every value there is well-formed
    (checked at start); what is missing is named here, so a server that only answers oEmbed
    needs none of it."""
    settings = current_settings()
    config = settings.hubspot
    problems = []
    for name, value in (("HUBSPOT_CLIENT_ID", config.client_id), ("HUBSPOT_CLIENT_SECRET", config.client_secret),
                        ("HUBSPOT_APP_ID", config.app_id)):
        if not value:
            problems.append(f"set {name} (from the app's Auth settings in your HubSpot developer account)")
    if not settings.stable_secret_key:
        problems.append("set OEMBED_SECRET_KEY: installed portals' tokens are encrypted with it")
    redirect_uri = redirect_url(settings.public_url)
    return InstallSettings(config, settings.hubspot_authorize_url, settings.hubspot_scopes, redirect_uri,
                           tuple(problems))


# --- signed values -------------------------------------------------------------------------
def _secret() -> str:
    return current_settings().secret_key


def _state_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secret(), salt="hubspot-oauth-state")


def _status_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secret(), salt="hubspot-install-status")


def status_token(portal_id: int) -> str:
    return _status_serializer().dumps(portal_id)


# --- pages ---------------------------------------------------------------------------------
def _message(heading: str, message: str, status: int, *, retry: bool = True, forget_cookie: bool = False):
    response = make_response(render_template("install/message.html", heading=heading, message=message,
                                             retry=retry, provider_name=current_settings().provider_name), status)
    if forget_cookie:
        response.delete_cookie(STATE_COOKIE, path="/hubspot")
    return response


def _already_used():
    return _message("This install link was already used",
                    "Each HubSpot authorization completes once. Nothing more was stored; start again to "
                    "reinstall.", 400, forget_cookie=True)


def _invite_needed():
    return _message("An invite is needed to connect",
                    f"{current_settings().provider_name} connects HubSpot accounts by invitation. Ask your media "
                    "provider for an install link: it names your media library and works for a limited time.",
                    403, retry=False)


@bp.get("/connect")
def connect():
    settings = install_settings()
    library: str | None = None  # no invite: a new portal gets the default library, a known one keeps its own
    invite_id: str | None = None
    invite = request.args.get("invite")
    if invite is not None:
        with current_catalog().engine.connect() as conn:
            found = invite_store.find_usable(conn, invite)
        if found is None:
            return _message("This install link does not work",
                            "The link is damaged, has expired, was revoked or has been used as often as it may. "
                            "Ask your media provider for a new install link.", 400, retry=False)
        library, invite_id = found.library, found.invite_id
    elif current_settings().install_requires_invite:
        return _invite_needed()
    if settings.problems:
        return make_response(render_template("install/not_configured.html", problems=settings.problems,
                                             redirect_uri=settings.redirect_uri,
                                             provider_name=current_settings().provider_name), 503)
    # It loaded with a client id, or problems would name what is missing.
    assert settings.config is not None and settings.config.client_id is not None
    nonce = secrets.token_urlsafe(24)
    state = _state_serializer().dumps({"nonce": nonce, "library": library, "invite": invite_id})
    url = authorize_url(settings.authorize_base, settings.config.client_id, settings.redirect_uri, settings.scopes,
                        state, OPTIONAL_SCOPES)
    response = make_response(render_template("install/connect.html", authorize_url=url,
                                             library=library or DEFAULT_LIBRARY,
                                             invited=invite is not None,
                                             provider_name=current_settings().provider_name))
    # Lax: HubSpot's redirect back is a top-level navigation, which Lax cookies accompany.
    response.set_cookie(STATE_COOKIE, nonce, max_age=STATE_MAX_AGE_S, path="/hubspot", httponly=True,
                        samesite="Lax", secure=current_settings().public_url.startswith("https://"))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/oauth-callback")
def oauth_callback():
    if request.args.get("error"):
        return _message("HubSpot was not connected",
                        "The app was not installed: access was declined in HubSpot. Nothing was stored. "
                        "To connect, start again and choose Connect app on HubSpot's page.", 400,
                        forget_cookie=True)
    settings = install_settings()
    if settings.problems:
        return _message("Installs are not configured",
                        "This server is missing install settings; its operator can see which on the connect page.",
                        503, retry=False)
    assert settings.config is not None  # it loaded, or problems would name why
    try:
        data = _state_serializer().loads(request.args.get("state", ""), max_age=STATE_MAX_AGE_S)
    except SignatureExpired:
        return _message("This install attempt has expired",
                        "Too much time passed since you started. Nothing was stored; please start again.", 400,
                        forget_cookie=True)
    except BadSignature:
        data = None
    nonce = data.get("nonce") if isinstance(data, dict) else None
    if isinstance(nonce, str) and state_nonce_used(current_catalog().engine, nonce):
        return _already_used()
    if not isinstance(nonce, str) or not secrets.compare_digest(request.cookies.get(STATE_COOKIE, ""), nonce):
        return _message("This install attempt cannot be completed",
                        "It was not started from this browser, or the link was altered. Nothing was stored; "
                        "please start again from the Connect HubSpot page.", 400, forget_cookie=True)
    if not use_state_nonce(current_catalog().engine, nonce, STATE_MAX_AGE_S):
        return _already_used()
    code = request.args.get("code", "")
    if not code:
        return _message("HubSpot sent no authorization code", "Nothing was stored; please start again.", 400,
                        forget_cookie=True)
    invite_id = data.get("invite")
    invited_library = data.get("library") if isinstance(invite_id, str) else None
    if invited_library is None and current_settings().install_requires_invite:
        return _invite_needed()
    config = dataclasses.replace(settings.config, access_token=None, refresh_token=None, portal_id=None)
    client = HubSpotClient(config)
    try:
        return _complete_install(client, settings, code, invite_id, invited_library)
    finally:
        client.session.close()


def _complete_install(client: HubSpotClient, settings: InstallSettings, code: str, invite_id: object,
                      invited_library: str | None):
    """Exchange the code, check the grant, store it and queue provisioning; a grant refused
    or failing after the exchange is revoked at HubSpot."""
    config = client.config
    try:
        installation = exchange_code(client, settings.redirect_uri, code)
    except HubSpotError as exc:
        log.warning("install: HubSpot refused the code exchange (%s, %s)", exc.status, exc.category)
        if exc.status is not None and exc.status < 500:
            return _message("HubSpot did not accept this authorization",
                            "The authorization code expired, was already used, or belongs to a different app "
                            "setup. Nothing was stored; please start again.", 400, forget_cookie=True)
        return _message("HubSpot could not be reached",
                        "Nothing was stored; please try again in a minute.", 502, forget_cookie=True)
    problem = grant_problem(installation, config.app_id)
    if problem is not None:
        install_grant.revoke(client, installation)
        return _refused_grant(problem)
    store = PortalStore(current_catalog().engine, current_settings().stable_secret_key)
    hub_id = installation.hub_id
    try:
        with current_catalog().engine.begin() as conn:
            current = store.library_in(conn, hub_id)
            if invited_library is not None and current is not None and current != invited_library:
                # Moving a portal changes which media its pages embed: the operator decides that.
                log.warning("install: portal %s (library %s) refused an invite for library %s", hub_id, current,
                            invited_library)
                # No revoke: the portal is installed, and its stored grant must keep working.
                return _message("This portal is already connected to another library",
                                f"HubSpot account {hub_id} is connected to the media library '{current}', and "
                                f"this install link is for '{invited_library}'. Nothing was changed. If it should "
                                f"move, ask your media provider to run `oembed-server portals move {hub_id} "
                                f"{invited_library}`; then install again.", 409, retry=False, forget_cookie=True)
            if isinstance(invite_id, str) and not invite_store.take_use(conn, invite_id):
                if current is None:  # nothing stored for it: the new grant must not outlive this
                    install_grant.revoke(client, installation)
                return _message("This install link does not work any more",
                                "It was revoked, expired or used up while you were at HubSpot. Nothing was "
                                "stored; ask your media provider for a new install link.", 400, retry=False,
                                forget_cookie=True)
            library = invited_library or current or DEFAULT_LIBRARY
            store.install(conn, hub_id, library, installation.tokens, scopes=installation.scopes)
            provisioning.queue_install(conn, hub_id)
    except (SQLAlchemyError, MissingSecretKey) as exc:
        log.warning("install: storing portal %s failed (%s); revoking the grant", hub_id, type(exc).__name__)
        install_grant.revoke(client, installation)
        return _message("The install could not be saved",
                        "Nothing was stored and the authorization was withdrawn at HubSpot; please try again "
                        "in a minute.", 503, forget_cookie=True)
    log.info("install: portal %s connected to library %s; provisioning queued", installation.hub_id, library)
    response = redirect(url_for("install.status", token=status_token(installation.hub_id)), 303)
    response.delete_cookie(STATE_COOKIE, path="/hubspot")
    return response


def _refused_grant(problem: GrantProblem):
    if problem.kind == install_grant.MISSING_SCOPES:
        log.warning("install: refused a grant without the scopes %s", ", ".join(problem.missing_scopes))
        return _message("HubSpot granted too little access",
                        f"The app needs the scopes {', '.join(install_grant.REQUIRED_SCOPES)}; this authorization "
                        f"lacks {', '.join(problem.missing_scopes)}. Nothing was stored and the authorization was "
                        "withdrawn; start again and accept every scope the app asks for.", 400, forget_cookie=True)
    if problem.kind == install_grant.NO_APP_ID:
        log.warning("install: refused a token whose information names no app")
        return _message("HubSpot did not say which app this token belongs to",
                        "The token cannot be checked as this app's, so it was not used. Nothing was stored and the "
                        "authorization was withdrawn; please start again.", 400, forget_cookie=True)
    log.warning("install: refused a token issued to another app")
    return _message("This token belongs to another app",
                    "HubSpot issued the token to a different app than this server's (check HUBSPOT_APP_ID "
                    "and HUBSPOT_CLIENT_ID). Nothing was stored.", 400, forget_cookie=True)


def _portal_from_token(token: str) -> int | None:
    try:
        value = _status_serializer().loads(token, max_age=STATUS_LINK_MAX_AGE_S)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def _progress(portal_id: int) -> dict:
    store = PortalStore(current_catalog().engine, current_settings().stable_secret_key)
    record = store.get(portal_id)
    with current_catalog().engine.connect() as conn:
        steps = provisioning.portal_steps(conn, portal_id)
    failed = any(s.state == "failed" for s in steps)
    done = all(s.state == "done" for s in steps)
    return {"portalId": portal_id, "library": record.library if record else None,
            "connected": bool(record and record.connected),
            "state": "done" if done else "failed" if failed else "working",
            "steps": [s.to_dict() for s in steps]}


@bp.get("/installs/<token>")
def status(token: str):
    portal_id = _portal_from_token(token)
    if portal_id is None:
        return _message("This status link does not work", "It is damaged or older than a week.", 404, retry=False)
    progress = _progress(portal_id)
    response = make_response(render_template("install/status.html", progress=progress,
                                             json_url=url_for("install.status_json", token=token),
                                             provider_name=current_settings().provider_name))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/installs/<token>/progress.json")
def status_json(token: str):
    portal_id = _portal_from_token(token)
    if portal_id is None:
        return jsonify({"error": "unknown or expired status link"}), 404
    response = jsonify(_progress(portal_id))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- logs ----------------------------------------------------------------------------------
_CALLBACK_QUERY = re.compile(r"(/hubspot/oauth-callback\?)[^\s\"]*")


class CallbackLogFilter(logging.Filter):
    """The request log of a development server would print HubSpot's redirect with its code
    and state; keep the path, drop the query."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/hubspot/oauth-callback?" in message:
            record.msg, record.args = _CALLBACK_QUERY.sub(r"\1[REDACTED]", message), ()
        return True


def install_log_filter() -> None:
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, CallbackLogFilter) for f in logger.filters):
        logger.addFilter(CallbackLogFilter())
