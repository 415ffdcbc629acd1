"""``POST /events``: the player's reports in, each committed to the outbox before the 202.

The HTTP layer only: body size and type, the per-client budget, the player token, then
the pure checks (``domain.player_report``) and one transaction in ``storage.play_sessions``
(``store_report``).
Refuses with a JSON ``{"error", "field"}`` body: 400 a malformed field, 403 a missing,
foreign or expired token, 409 a session id of another item, portal or player (token and
session secret: ``domain.session_binding``), 413 an oversized body, 415
another content type, 429 past a session's or a client's limit.
"""
from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from sqlalchemy.exc import DBAPIError

from oembed_server.domain.email_plays import email_play
from oembed_server.domain.event_record import KINDS as REPORT_KINDS
from oembed_server.domain.framing_hosts import framing_verdict, origin_host
from oembed_server.domain.intake_limits import ClientBudget, RefusedSessions
from oembed_server.domain.player_report import COMMON_FIELDS, KIND_FIELDS, ReportError, parse_report, report_token
from oembed_server.domain.player_tokens import PlayerClaims, issue_token, parse_portal_id, read_token
from oembed_server.domain.session_binding import writer_digest
from oembed_server.observability import metrics
from oembed_server.storage.play_sessions import DEFAULT_SESSION_REPORT_LIMIT, SessionRefused, store_report
from oembed_server.storage.report_facts import FactsChanged
from oembed_server.usecases import report_outcomes
from oembed_server.usecases.report_admission import (
    FACTS_KEPT,
    FactsCache,
    admit_report,
    forget_facts,
    item_problem,
    served_portal,
)
from oembed_server.web.app_state import app_owned, current_catalog, current_settings
from oembed_server.web.refusal_counts import count_refusal

bp = Blueprint("events_api", __name__)

# The largest honest report (an attention update of 100 spans with a long page URL and
# name) is under 8 KB.
MAX_BODY_BYTES = 16 * 1024
# sendBeacon with a string body sends text/plain, which also spares the CORS preflight.
ACCEPTED_TYPES = ("application/json", "text/plain")
# The metrics' report kind when the body names none of the known ones.
UNKNOWN_KIND = "unknown"
# One bound child per kind: the hot path increments without looking labels up.
_ACCEPTED_COUNTERS = {kind: metrics.INTAKE_ACCEPTED.labels(kind) for kind in (*REPORT_KINDS, UNKNOWN_KIND)}


@bp.post("/events")
def receive_event():
    if request.mimetype not in ACCEPTED_TYPES:
        return _refuse(415, "Content-Type", "must be application/json or text/plain", reason="content_type")
    body = _read_body()
    if body is None:
        return _refuse(413, "body", f"must be at most {MAX_BODY_BYTES} bytes", reason="body_too_large")

    now = time.time()
    if not _client_budget().allow(request.remote_addr or "-", now):
        return _refuse(429, "client", "too many reports from this address; try again in a minute",
                       reason="client_rate")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _refuse(400, "body", "is not valid JSON", reason="invalid_json")
    except RecursionError:
        # "[" x 5000 fits in 16 KB and exhausts the parser's stack; no report nests at all.
        return _refuse(400, "body", "is nested too deeply to be a report", reason="too_deep")
    kind = _kind_of(data)

    refused = _refused_sessions()
    # Only a string can be a refused session; any other value (a list is not even hashable)
    # is for parse_report to refuse with a 400 naming the field.
    session_id = data.get("sessionId") if isinstance(data, dict) else None
    if isinstance(session_id, str) and session_id in refused:
        # A session known to flood is turned away before any further work.
        return _refuse(429, "sessionId", "this play session has made all the reports it may",
                       reason="session_limit", kind=kind)
    settings = current_settings()
    try:
        token = report_token(data)
        claims = read_token(settings.secret_key, token)
    except ReportError as exc:
        # A report without a token is refused as forbidden; only a non-object body is malformed.
        if exc.field == "body":
            return _refuse(400, exc.field, exc.message, reason="not_an_object", kind=kind)
        return _refuse(403, exc.field, exc.message, reason="token_missing", kind=kind)
    if claims is None:
        return _refuse(403, "token", "is not valid: expired, or not issued by this server", reason="token_invalid",
                       kind=kind)
    try:
        report = parse_report(data, now_ms=int(now * 1000), media_type=claims.media_type)
    except ReportError as exc:
        return _refuse(400, exc.field, exc.message, reason=_invalid_field_reason(exc.field), kind=kind)
    record = report.record
    if claims.external_id != record.external_id:
        return _refuse(403, "token", "is not for this media item", reason="token_other_item", kind=kind)
    if claims.portal_id != record.portal_id:
        return _refuse(403, "portalId", "is not the portal this player was given", reason="token_other_portal",
                       kind=kind)
    limit = current_app.config.get("EVENTS_SESSION_REPORT_LIMIT", DEFAULT_SESSION_REPORT_LIMIT)
    catalog = current_catalog()
    flush_within = settings.events_flush_ms / 1000
    engine = catalog.intake_engine if flush_within > 0 else catalog.engine
    cache = _facts_cache()
    writer = writer_digest(token, report.session_secret)
    try:
        for attempt in range(_ADMISSIONS):
            # Checked now, not when the token was issued: the portal may have uninstalled, the
            # item turned private or left the portal's library since.
            admission = admit_report(catalog.engine, settings, record.external_id, claims.portal_id, cache=cache)
            if not admission.portal_served:
                report_outcomes.count(report_outcomes.PORTAL_NOT_SERVED)
                return _refuse(403, "hs_portal_id", "names a portal this server does not serve (the app is not "
                                                    "installed there)", reason=report_outcomes.PORTAL_NOT_SERVED,
                               kind=kind)
            if admission.item_problem is not None:
                report_outcomes.count(admission.item_problem)
                return _refuse(403, "externalId", "is not available for reports: private, removed or not in "
                                                  "this portal's library", reason=admission.item_problem, kind=kind)
            stored, framing = _as_admitted(report, claims, admission.hosts)
            # The last admission's facts were read just now: its write is not guarded, as
            # before facts were kept (a race with a catalog change twice over is not worth a 503).
            guard = admission.facts if attempt < _ADMISSIONS - 1 else None
            try:
                accepted = _store(engine, stored, writer, flush_within, now, limit, guard)
                break
            except FactsChanged:
                forget_facts(cache, settings, record.external_id, claims.portal_id)
        else:  # the last write is unguarded: it cannot find its facts changed
            raise AssertionError("unreachable")
    except SessionRefused as exc:
        if exc.status == 429:
            refused.add(record.session_id)
        return _refuse(exc.status, exc.field, exc.message, reason=_session_refusal_reason(exc), kind=kind)
    if framing is not None:
        report_outcomes.count(framing)
        # Accepted (insights keep it), but counted with the refusals: what HubSpot gets is not all it sent.
        metrics.INTAKE_REFUSED.labels(kind, framing).inc()
    _ACCEPTED_COUNTERS[kind].inc()
    return _accepted(accepted.duplicate, accepted.closed)


# Admissions a report may take: on kept facts, then on facts read now (and once more, should
# they change between that read and the write).
_ADMISSIONS = 3


def _as_admitted(report, claims: PlayerClaims, hosts: frozenset[str]):
    """The report as it is to be stored, given its portal's ``hosts``, and the framing
    outcome to count once it is (``report_outcomes``), or None."""
    if claims.dnt or report.dnt or request.headers.get("Sec-GPC") == "1":
        # An email visit's contact and marker go too: they say who watched, from where.
        return report.without_visitor(), None
    if claims.from_email:
        # Played on our own media page from an email link: the contact is the signed token's.
        return report.from_email(claims.contact_id), None
    if not report.has_visitor:
        return report, None
    # With its contact and page fields only when the page that framed the player is one of
    # its portal's hosts (a page outside HubSpot reports for the configured portal, so it is
    # checked against that portal's hosts).
    verdict = framing_verdict((claims.frame_origin, report.frame_origin), hosts)
    if verdict is None:
        return report, None
    return report.without_visitor(), (report_outcomes.FRAME_UNKNOWN if verdict == "unknown"
                                      else report_outcomes.FRAME_FOREIGN)


def _store(engine, report, writer: str, flush_within: float, now: float, limit: int, guard):
    try:
        return store_report(engine, report, writer=writer, flush_within=flush_within, now=now,
                            report_limit=limit, facts=guard)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        # A pooled connection that died in steady use (storage.engine pings only idle
        # ones): the write never committed, so it runs once more on a new one.
        return store_report(engine, report, writer=writer, flush_within=flush_within, now=now,
                            report_limit=limit, facts=guard)


# What the play session said no to, one label value each (its 400s are about a field).
_SESSION_REFUSALS = {(429, "sessionId"): "session_limit", (409, "sessionId"): "session_other_item",
                     (409, "portalId"): "session_other_portal", (409, "sessionSecret"): "session_other_writer"}


def _session_refusal_reason(exc: SessionRefused) -> str:
    return _SESSION_REFUSALS.get((exc.status, exc.field)) or _invalid_field_reason(exc.field)


def _kind_of(data: object) -> str:
    kind = data.get("kind") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) and kind in REPORT_KINDS else UNKNOWN_KIND


# Fields a report may carry, so a refusal naming one is its own reason and a made-up
# field name cannot add label values.
_KNOWN_FIELDS = frozenset(COMMON_FIELDS).union(*KIND_FIELDS.values())


def _invalid_field_reason(field: str) -> str:
    return f"invalid_{field}" if field in _KNOWN_FIELDS else "unknown_field"


def _read_body() -> bytes | None:
    """The body, or None past the limit: a declared length is refused unread, a chunked
    body is read no further than one byte past the limit."""
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        return None
    # A declared length is read to its end and no further (no read just to see the end).
    wanted = MAX_BODY_BYTES + 1 if length is None else length
    stream, chunks, size = request.stream, [], 0
    while size < wanted:
        chunk = stream.read(wanted - size)  # a socket may answer short
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return None if size > MAX_BODY_BYTES else b"".join(chunks)


def _client_budget() -> ClientBudget:
    return app_owned("events_client_budget", lambda: ClientBudget(current_settings().events_client_rate))


def _facts_cache() -> FactsCache:
    return app_owned("events_facts_cache", lambda: FactsCache(FACTS_KEPT))


def _refused_sessions() -> RefusedSessions:
    return app_owned("events_refused_sessions", RefusedSessions)


# Every report answers one of four bodies: made once, not serialised per request.
_ACCEPTED_BODIES = {
    (duplicate, closed): json.dumps({"accepted": True, "duplicate": duplicate, "closed": closed}).encode()
    for duplicate in (False, True) for closed in (False, True)
}


def _accepted(duplicate: bool, closed: bool) -> Response:
    return Response(_ACCEPTED_BODIES[duplicate, closed], status=202, mimetype="application/json",
                    headers={"Cache-Control": "no-store"})


def _refuse(status: int, field: str, message: str, *, reason: str | None = None,
            kind: str = UNKNOWN_KIND) -> Response:
    """A refusal naming ``field``, counted in the metrics by report kind and ``reason``
    (default: the status and the field, e.g. ``400_sessionId``: a stable, bounded value)."""
    reason = reason or f"{status}_{field}"
    metrics.INTAKE_REFUSED.labels(kind, reason).inc()
    count_refusal(reason)  # the console's refusals by reason, in the database
    return _json(status, {"error": f"{field}: {message}", "field": field})


def _json(status: int, body: dict) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def player_config(item, args, referer: str | None = None) -> dict:
    """What the player page tells ``player-events.js``: where to report, and the token
    that lets it (bound to this item, the page's ``hs_portal_id``, its ``dnt``, the
    origin of the page that framed it, from ``referer``, and, from an email link, the email
    marker and contact id).

    The token names the portal only when this server serves it and the item is in its
    library; otherwise the player still plays, but reports nothing that identifies the
    visitor (as with ``dnt``)."""
    portal_id = parse_portal_id(args.get("hs_portal_id"))
    dnt = args.get("dnt") == "1"
    if portal_id is not None:
        served = served_portal(current_catalog().engine, current_settings(), portal_id)
        refusal = (report_outcomes.TOKEN_PORTAL_NOT_SERVED if served is None
                   else report_outcomes.TOKEN_ITEM_NOT_IN_LIBRARY if item_problem(item, served.library) else None)
        if refusal is not None:
            report_outcomes.count(refusal)
            portal_id, dnt = None, True
    email = email_play(args)
    claims = PlayerClaims(item.external_id, item.media_type.value, portal_id, dnt, _origin_of(referer),
                          from_email=email is not None, contact_id=email.contact_id if email else None)
    return {"url": url_for("events_api.receive_event"), "token": issue_token(current_settings().secret_key, claims),
            "portalId": portal_id, "dnt": dnt}


def _origin_of(url: str | None) -> str | None:
    """scheme://host[:port] of a Referer (its path and query are the visitor's, not ours to keep)."""
    host = origin_host(url)
    if host is None or url is None:
        return None
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a port out of range: not an origin a browser sends
        return None
    return f"{parts.scheme}://{host}{port}"
