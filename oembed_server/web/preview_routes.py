"""``/_preview/<module>``: renders a CMS module from ``cms_module/`` the way HubSpot would,
with Embed field values built from this provider's own oEmbed answers.

A development aid: it exists only when ``PREVIEW_ENABLED`` is on (``oembed-server serve``
turns it on; production configuration keeps it off).
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file, url_for

from oembed_server.domain.lead_gates import is_form_id
from oembed_server.domain.media import MediaItem, is_absolute_http_url, media_page_url
from oembed_server.domain.whole_numbers import parse_whole_number
from oembed_server.hubl import EMAIL, HublError, HublRenderer, page_context
from oembed_server.hubl.catalog_objects import CatalogMediaObjects, preview_object_id
from oembed_server.hubl.embed_field import SIZE_TYPES, SOURCE_TYPES, EmbedSize, embed_field_value
from oembed_server.hubl.module_files import ModuleNotFound, default_values, find_embed_field, load_module
from oembed_server.package_data import CMS_MODULES_DIR
from oembed_server.usecases.oembed_answer import OEmbedError, answer_oembed_request
from oembed_server.web.app_state import current_catalog, current_settings, current_url_matcher
from oembed_server.web.security_headers import PREVIEW, page_policy

bp = Blueprint("preview", __name__, url_prefix="/_preview")

# Where `oembed-server serve` finds the module sources in a checkout; CMS_MODULE_DIR overrides.
DEFAULT_MODULE_DIR = CMS_MODULES_DIR
# The Media Bridge app id the preview pretends to be (the guide's own example, a123_Videos);
# PREVIEW_PROVIDER_ID overrides it.
DEFAULT_PROVIDER_ID = 123
DEFAULT_PORTAL_ID = 1234567
PREVIEW_PAGE_ID = 1
MAX_DIMENSION = 10_000
PLAYER_FLAGS = ("autoplay", "muted", "loop")
# The page module's "Lead capture" fields, as an editor would set them (see _lead_capture).
LEAD_CAPTURE_ARGS = ("gate_form", "gate_at", "gate_skippable")
KNOWN_ARGS = frozenset({"media", "size_type", "width", "height", "max_width", "max_height",
                        "source_type", "poster", *PLAYER_FLAGS, "start", *LEAD_CAPTURE_ARGS})
_START_RE = re.compile(r"[0-9]{1,7}(?:\.[0-9]{1,3})?")
_ASSET_TYPES = {"module.css": "text/css", "module.js": "text/javascript"}


class PreviewArgumentError(ValueError):
    """A query parameter the preview cannot use; the message names it."""


@dataclasses.dataclass(frozen=True)
class PreviewRequest:
    media: tuple[str, ...]
    source_type: str
    size: EmbedSize
    poster: str | None  # "1" (the item's own poster) or an absolute http(s) URL
    player_options: dict[str, str]


def parse_preview_args(args, max_items: int) -> PreviewRequest:
    """The preview's query string, checked; ``args`` is any mapping with ``getlist``."""
    for name in args.keys():
        if name not in KNOWN_ARGS:
            raise PreviewArgumentError(f"unknown parameter {name!r}")
    media = tuple(m.strip() for m in args.getlist("media"))
    if not media or not all(media):
        raise PreviewArgumentError("media is required: one external_id per media parameter")
    if len(media) > max_items:
        raise PreviewArgumentError(f"media: this module takes at most {max_items} item(s), got {len(media)}")
    source_type = _single(args, "source_type") or "media_bridge"
    if source_type not in SOURCE_TYPES:
        raise PreviewArgumentError(f"source_type must be one of {', '.join(SOURCE_TYPES)}")
    size_type = _single(args, "size_type") or "auto"
    if size_type not in SIZE_TYPES:
        raise PreviewArgumentError(f"size_type must be one of {', '.join(SIZE_TYPES)}")
    dims = {name: _dimension(args, name) for name in ("width", "height", "max_width", "max_height")}
    if size_type == "exact" and not (dims["width"] and dims["height"]):
        raise PreviewArgumentError("width and height are required with size_type=exact")
    if size_type == "auto_custom_max" and not (dims["max_width"] or dims["max_height"]):
        raise PreviewArgumentError("max_width or max_height is required with size_type=auto_custom_max")
    return PreviewRequest(
        media=media,
        source_type=source_type,
        size=EmbedSize(size_type=size_type, **dims),
        poster=_poster(args),
        player_options=_player_options(args),
    )


def _single(args, name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise PreviewArgumentError(f"{name} may be given once")
    return values[0].strip() if values else None


def _dimension(args, name: str) -> int | None:
    raw = _single(args, name)
    if raw is None or raw == "":
        return None
    number = parse_whole_number(raw, MAX_DIMENSION)
    if number is None or not 0 < number <= MAX_DIMENSION:
        raise PreviewArgumentError(f"{name} must be a whole number of pixels from 1 to {MAX_DIMENSION}")
    return number


def _poster(args) -> str | None:
    raw = _single(args, "poster")
    if raw is None or raw in ("", "0"):
        return None
    if raw == "1":
        return raw
    if not is_absolute_http_url(raw):
        raise PreviewArgumentError("poster must be 1 (the media's own poster) or an absolute http(s) URL")
    return raw


def _player_options(args) -> dict[str, str]:
    options = {}
    for flag in PLAYER_FLAGS:
        raw = _single(args, flag)
        if raw is None or raw in ("", "0", "false"):
            continue
        if raw not in ("1", "true"):
            raise PreviewArgumentError(f"{flag} must be 1 or 0")
        options[flag] = "1"
    start = _single(args, "start")
    if start:
        if not _START_RE.fullmatch(start):
            raise PreviewArgumentError("start must be a number of seconds")
        options["start"] = start
    return options


# --- views ---------------------------------------------------------------------------
@bp.before_request
def _only_when_enabled():
    if not current_app.config.get("PREVIEW_ENABLED"):
        abort(404)


@bp.get("/<module_name>")
@page_policy(PREVIEW)
def preview_module(module_name: str):
    module = _module_or_404(module_name)
    repeater, embed_field, max_items = find_embed_field(module.fields)
    try:
        wanted = parse_preview_args(request.args, max_items)
    except PreviewArgumentError as exc:
        return _text(400, str(exc))

    catalog, settings = current_catalog(), current_settings()
    items = catalog.get_many(wanted.media)
    for external_id in wanted.media:
        if external_id not in items:
            return _text(404, f"media: no catalog item {external_id!r}")

    provider_id = current_app.config.get("PREVIEW_PROVIDER_ID", DEFAULT_PROVIDER_ID)
    embeds = []
    for external_id in wanted.media:
        try:
            embeds.append(_embed_value(items[external_id], wanted, provider_id))
        except OEmbedError as exc:
            return _text(exc.status if exc.status in (401, 404) else 400, f"media {external_id!r}: {exc.message}")

    values = default_values(module.fields)
    if repeater:
        row_defaults = default_values(next(f for f in module.fields if f["name"] == repeater)["children"])
        values[repeater] = [row_defaults | {embed_field["name"]: embed} for embed in embeds]
    else:
        values[embed_field["name"]] = embeds[0]
    if wanted.poster and "poster" in values:
        first = items[wanted.media[0]]
        src = (first.poster_url or first.thumbnail_url) if wanted.poster == "1" else wanted.poster
        if not src:
            return _text(400, f"poster: media {first.external_id!r} has no poster or thumbnail")
        values["poster"] = {"src": src, "alt": "", "width": None, "height": None}

    if "lead_capture" in values:
        try:
            values["lead_capture"] = _lead_capture(request.args, values["lead_capture"])
        except PreviewArgumentError as exc:
            return _text(400, str(exc))

    portal_id = _preview_portal_id()
    label = module.meta.get("label", module.name)
    context = page_context(portal_id=portal_id, page_id=PREVIEW_PAGE_ID, page_name=f"Preview: {label}",
                           page_url=request.url, module_name=f"{module.name}_preview")
    try:
        rendered = _renderer().render_module(
            module.html, values,
            host_type=EMAIL if module.is_email_module else (module.host_template_types or ("PAGE",))[0],
            media_objects=CatalogMediaObjects(catalog, settings.public_url, provider_id),
            resolve_oembed=_resolve_oembed,
            context=context,
            name=f"{module.name}.module/module.html",
        )
    except HublError as exc:
        return _text(500, f"HubL error: {exc}")

    template = "preview/email.html" if module.is_email_module else "preview/page.html"
    return render_template(
        template,
        title=f"Preview: {label}",
        module_html=rendered.html,
        head_html=rendered.head_html,
        footer_html=rendered.footer_html,
        module_css=url_for(".module_asset", module_name=module.name, filename="module.css") if module.has_css else None,
        module_js=url_for(".module_asset", module_name=module.name, filename="module.js") if module.has_js else None,
    )


@bp.get("/<module_name>/<filename>")
def module_asset(module_name: str, filename: str):
    module = _module_or_404(module_name)
    if filename not in _ASSET_TYPES or not (module.path / filename).is_file():
        abort(404)
    response = send_file(module.path / filename, mimetype=_ASSET_TYPES[filename], max_age=0)
    response.headers["Cache-Control"] = "no-store"  # module sources change while previewing
    return response


# --- helpers -------------------------------------------------------------------------
def _lead_capture(args, defaults: dict) -> dict:
    """The module's "Lead capture" group from gate_form (a form GUID), gate_at (before,
    after or seconds) and gate_skippable (1 or 0)."""
    form_id = _single(args, "gate_form")
    if not form_id:
        return defaults
    if not is_form_id(form_id):
        raise PreviewArgumentError("gate_form must be a HubSpot form GUID")
    at = _single(args, "gate_at") or "before"
    group = dict(defaults) | {"form": dict(defaults.get("form") or {}) | {"form_id": form_id.lower()},
                              "skippable": _single(args, "gate_skippable") in ("1", "true")}
    if at in ("before", "after"):
        return group | {"position": at}
    seconds = parse_whole_number(at, 10**7)
    if seconds is None or seconds < 1:
        raise PreviewArgumentError("gate_at must be before, after or a whole number of seconds")
    return group | {"position": "seconds", "seconds": seconds}



def _module_or_404(name: str):
    modules_dir = Path(current_app.config.get("CMS_MODULE_DIR") or DEFAULT_MODULE_DIR)
    try:
        return load_module(modules_dir, name)
    except ModuleNotFound as exc:
        abort(Response(f"{exc}\n", status=404, mimetype="text/plain"))


def _preview_portal_id() -> int:
    """The portal the preview page pretends to be on: HUBSPOT_PORTAL_ID when set, so plays
    in the preview reach the connected portal (via hs_portal_id on the player URL)."""
    return current_settings().hubspot.portal_id or DEFAULT_PORTAL_ID


def _renderer() -> HublRenderer:
    # One renderer per app: it caches compiled templates by their source text.
    return current_app.extensions.setdefault("hubl_renderer", HublRenderer())


def _embed_value(item: MediaItem, wanted: PreviewRequest, provider_id) -> dict:
    settings = current_settings()
    # Player options ride on the media URL, as when an editor pastes a URL carrying them.
    oembed_url = media_page_url(settings.public_url, item.external_id)
    if wanted.player_options:
        oembed_url += "?" + urlencode(wanted.player_options)
    response = answer_oembed_request(oembed_url, catalog=current_catalog(), settings=settings,
                                     matcher=current_url_matcher())
    return embed_field_value(
        wanted.source_type,
        oembed_url=oembed_url,
        oembed_response=response,
        size=wanted.size,
        object_id=preview_object_id(item),
        provider_id=provider_id,
        media_type=item.media_type.value,
    )


def _resolve_oembed(url: str, maxwidth: int | None, maxheight: int | None):
    """HubL's oembed() in the preview: our own oEmbed service; None when it has no answer
    (the module then falls back to the answer stored with the field)."""
    try:
        return answer_oembed_request(url, catalog=current_catalog(), settings=current_settings(),
                                     matcher=current_url_matcher(), maxwidth=maxwidth, maxheight=maxheight)
    except OEmbedError:
        return None


def _text(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")
