"""Insights pages: ``/insights/<external_id>`` (an item's plays, contacts, percent played,
plays per day and attention over its timeline) and ``/insights/session/<token>`` (one play
session's attention, the page a played event's ``iframeUrl`` shows on a contact's
timeline in HubSpot). Server-rendered SVG, no script needed.

Both show visitor data, so both answer only a link made by ``domain.session_links``: a
missing, wrong, expired or revoked one is a 404, not a hint that the item or session exists. Never cached by
shared caches, never indexed, and the link is not leaked as a Referer.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, render_template, request

from oembed_server.domain.calls_to_action import keyed_ctas
from oembed_server.domain.insight_figures import PER_DAY_DAYS, media_insights, session_facts
from oembed_server.domain.media import media_page_url
from oembed_server.domain.session_links import (
    media_insights_key_valid,
    session_id_from_token,
    session_page_url,
)
from oembed_server.storage import gate_counts
from oembed_server.storage.cta_clicks import click_counts
from oembed_server.storage.play_sessions import (
    attention_rows,
    get_session,
    media_summary,
    plays_per_day,
    recent_sessions,
)
from oembed_server.web.app_state import current_catalog, current_settings
from oembed_server.web.insights_links import current_link_keys
from oembed_server.web.media_pages import error_page
from oembed_server.web.security_headers import TIMELINE, page_policy

bp = Blueprint("insights", __name__, url_prefix="/insights")


@bp.get("/<external_id>")
def media_page(external_id: str):
    settings = current_settings()
    keys = current_link_keys()
    if not media_insights_key_valid(keys, external_id, request.args.get("key")):
        return _not_found()
    item = current_catalog().get(external_id)
    if item is None:
        return _not_found()
    today = datetime.now(UTC).date()
    since = (today - timedelta(days=PER_DAY_DAYS - 1)).isoformat()
    with current_catalog().engine.connect() as conn:
        insights = media_insights(media_summary(conn, external_id), plays_per_day(conn, external_id, since),
                                  attention_rows(conn, external_id), today)
        recent = recent_sessions(conn, external_id)
        clicks = click_counts(conn, external_id)
    gates = gate_counts.totals(current_catalog().engine, external_id)
    sessions = [{"url": session_page_url(settings.public_url, keys, row["session_id"]),
                 "started": _when(row["started_at_ms"]), "percent": row["percent_played"],
                 "page": row["page_name"] or row["page_url"]} for row in recent]
    return _private(render_template(
        "insights/media.html", item=item, insights=insights, sessions=sessions, gates=gates,
        ctas=[(key, cta, clicks.get(key, 0)) for key, cta in keyed_ctas(item.ctas)],
        media_url=media_page_url(settings.public_url, external_id), provider_name=settings.provider_name))


@bp.get("/session/<token>")
@page_policy(TIMELINE)  # framed by HubSpot's app on the contact timeline, by nobody else
def session_page(token: str):
    settings = current_settings()
    session_id = session_id_from_token(current_link_keys(), token)
    if session_id is None:
        return _not_found()
    with current_catalog().engine.connect() as conn:
        row = get_session(conn, session_id)
    if row is None:
        return _not_found()
    item = current_catalog().get(row["external_id"])
    return _private(render_template(
        "insights/session.html", row=row, item=item, facts=session_facts(row),
        started=_when(row["started_at_ms"]), provider_name=settings.provider_name,
        title=item.title if item else row["external_id"]))


def _when(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _private(page: str | Response) -> Response:
    response = page if isinstance(page, Response) else Response(page)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    # The signed link is the only key to this page: it must not travel in a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _not_found() -> Response:
    return _private(error_page(404, "Not found", "There is nothing at this address."))
