"""The public oEmbed endpoint: ``/oembed``, ``/oembed.json`` and ``/oembed.xml``."""
from __future__ import annotations

import hashlib
import json
import logging
from http import HTTPStatus

from flask import Blueprint, Response, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import InternalServerError, MethodNotAllowed

from oembed_server.domain.oembed_response import PLAYER_OPTIONS, to_xml, xml_document
from oembed_server.usecases.oembed_answer import OEmbedError, answer_oembed_request
from oembed_server.web.app_state import current_catalog, current_settings, current_url_matcher

bp = Blueprint("oembed_api", __name__)
log = logging.getLogger(__name__)

CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
# The format each endpoint path fixes (None: chosen by the format argument).
ENDPOINT_FORMATS = {"/oembed": None, "/oembed.json": "json", "/oembed.xml": "xml"}
ALLOWED_METHODS = "GET, HEAD, OPTIONS"


@bp.get("/oembed")
def oembed():
    requested = (request.args.get("format") or "json").strip().lower()
    if requested not in CONTENT_TYPES:
        return error_response(501, "format must be json or xml", "json")
    return _answer(requested)


@bp.get("/oembed.json")
def oembed_json():
    return _answer("json")


@bp.get("/oembed.xml")
def oembed_xml():
    return _answer("xml")


@bp.after_request
def _cross_origin(response: Response) -> Response:
    # Browser-side consumers fetch the endpoint directly; nothing here depends on credentials.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        # If-None-Match is not CORS-safelisted, so a revalidating fetch needs a preflight.
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.app_errorhandler(MethodNotAllowed)
def _method_not_allowed(exc: MethodNotAllowed):
    # Routing fails before any blueprint is chosen, so this handler is app-wide;
    # other paths keep werkzeug's default 405.
    if request.path not in ENDPOINT_FORMATS:
        return exc
    fmt = _request_format()
    response = error_response(405, f"method {request.method} is not allowed; use GET", fmt)
    response.headers["Allow"] = ", ".join(exc.valid_methods) if exc.valid_methods else ALLOWED_METHODS
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.errorhandler(SQLAlchemyError)
def _catalog_unavailable(exc: SQLAlchemyError):
    # The cause goes to the log; the consumer learns only that it may try again.
    log.error("catalog unavailable while answering %s: %s", request.path, exc.__class__.__name__, exc_info=exc)
    response = error_response(503, "the catalog is unavailable; try again later", _request_format())
    response.headers["Retry-After"] = "30"
    return response


@bp.errorhandler(InternalServerError)
def _internal_error(exc: InternalServerError):
    # Anything else unexpected: still an answer in the requested format, without details.
    return error_response(500, "the provider could not answer this request", _request_format())


def _request_format() -> str:
    return ENDPOINT_FORMATS.get(request.path) or _error_format()


def _answer(fmt: str) -> Response:
    args = request.args
    settings = current_settings()
    try:
        answer = answer_oembed_request(
            args.get("url"),
            catalog=current_catalog(),
            settings=settings,
            matcher=current_url_matcher(),
            maxwidth=args.get("maxwidth"),
            maxheight=args.get("maxheight"),
            player_options={name: args[name] for name in PLAYER_OPTIONS if name in args},
        )
    except OEmbedError as exc:
        return error_response(exc.status, exc.message, fmt)
    body = _serialise(answer, fmt)
    # A strong validator: the same bytes always get the same tag, whichever worker answers.
    etag = hashlib.sha256(body).hexdigest()[:32]
    headers = {"Cache-Control": f"public, max-age={settings.cache_age}", "ETag": f'"{etag}"'}
    # Only If-None-Match matters here (no ranges, no dates); werkzeug's general
    # make_conditional costs a noticeable share of this hot path.
    if "If-None-Match" in request.headers and request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    return Response(body, status=200, content_type=CONTENT_TYPES[fmt], headers=headers)


def error_response(status: int, message: str, fmt: str) -> Response:
    fields = {"status": status, "error": HTTPStatus(status).phrase, "message": message}
    body = xml_document("error", fields).encode("utf-8") if fmt == "xml" else _json_bytes(fields)
    response = Response(body, status=status, content_type=CONTENT_TYPES[fmt])
    # An unknown URL may be imported a minute later; do not let caches remember the refusal.
    response.headers["Cache-Control"] = "no-store"
    return response


def _error_format() -> str:
    requested = (request.args.get("format") or "").strip().lower()
    return "xml" if requested == "xml" else "json"


def _serialise(answer: dict, fmt: str) -> bytes:
    if fmt == "xml":
        return to_xml(answer).encode("utf-8")
    return _json_bytes(answer)


def _json_bytes(value: dict) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
