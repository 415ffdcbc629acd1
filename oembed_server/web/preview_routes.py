"""``/_preview/<module>``: renders a CMS module from ``cms_module/`` (or the directory given
to ``oembed-server serve --module-dir``) the way HubSpot would, with Embed field values
built from this provider's own oEmbed answers.

A development aid: it exists only when ``PREVIEW_ENABLED`` is on (``oembed-server serve``
turns it on; production configuration keeps it off).
"""
from __future__ import annotations

import dataclasses
import json
import re
import secrets
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, send_file, url_for

from oembed_server.domain.email_plays import CONTACT_ID_MAX, is_contact_id
from oembed_server.domain.lead_gates import is_form_id
from oembed_server.domain.media import MediaItem, is_absolute_http_url, media_page_url
from oembed_server.domain.session_links import media_insights_url
from oembed_server.domain.whole_numbers import parse_whole_number
from oembed_server.hubl import EMAIL, HublError, HublRenderer, page_context
from oembed_server.hubl.catalog_objects import CatalogMediaObjects, preview_object_id
from oembed_server.hubl.embed_field import SIZE_TYPES, SOURCE_TYPES, EmbedSize, embed_field_value
from oembed_server.hubl.field_overrides import FieldValueError, apply_field_values
from oembed_server.hubl.hubl_errors import location_of
from oembed_server.hubl.media_bridge_embed import MEDIA_BRIDGE_EMBED_JS
from oembed_server.hubl.module_files import (
    ModuleNotFound,
    default_values,
    find_embed_field,
    list_modules,
    load_module,
)
from oembed_server.package_data import CMS_MODULES_DIR
from oembed_server.usecases.oembed_answer import OEmbedError, answer_oembed_request
from oembed_server.web.app_state import current_catalog, current_settings, current_url_matcher
from oembed_server.web.insights_links import current_link_keys
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
                        "source_type", "poster", *PLAYER_FLAGS, "start", "as", "contact",
                        *LEAD_CAPTURE_ARGS})
FIELD_ARG_PREFIX = "fields."
HOST_CHOICES = ("page", "email")
# The preview's stand-in for HubSpot's embed script (HubSpot's CDN is not reachable here).
EMBED_JS_FILE = Path(__file__).resolve().parent / "preview_assets" / "media-bridge-embed.js"
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
    host: str | None = None  # "page" or "email" (?as=), None for the module's own
    fields: tuple[tuple[str, str], ...] = ()  # (field path, text) from ?fields.PATH=
    # The recipient an email preview renders for (HubL's `contact`), None for none.
    contact_id: int | None = None


def parse_preview_args(args, max_items: int) -> PreviewRequest:
    """The preview's query string, checked; ``args`` is any mapping with ``getlist``.
    ``max_items`` 0: the module has no Embed field, so no media."""
    fields = []
    for name in args.keys():
        if name.startswith(FIELD_ARG_PREFIX) and len(name) > len(FIELD_ARG_PREFIX):
            values = args.getlist(name)
            if len(values) > 1:
                raise PreviewArgumentError(f"{name} may be given once")
            fields.append((name[len(FIELD_ARG_PREFIX):], values[0]))
        elif name not in KNOWN_ARGS:
            raise PreviewArgumentError(f"unknown parameter {name!r}")
    host = _single(args, "as")
    if host is not None and host not in HOST_CHOICES:
        raise PreviewArgumentError(f"as must be one of {', '.join(HOST_CHOICES)}")
    media = tuple(m.strip() for m in args.getlist("media"))
    if max_items == 0:
        if media:
            raise PreviewArgumentError("media: this module has no Embed field")
    elif not media or not all(media):
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
        host=host,
        fields=tuple(fields),
        contact_id=_contact(args),
    )


def _contact(args) -> int | None:
    raw = _single(args, "contact")
    if raw is None or raw == "":
        return None
    number = parse_whole_number(raw, CONTACT_ID_MAX)
    if number is None or not is_contact_id(number):
        raise PreviewArgumentError("contact must be a HubSpot contact record id (a positive whole number)")
    return number


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


@bp.get("/")
@page_policy(PREVIEW)
def preview_index():
    """The modules of the module directory, each with a preview link per catalog item
    (the first 20, or the one ``?media=`` names)."""
    catalog = current_catalog()
    wanted = request.args.get("media", "").strip()
    if wanted:
        found = catalog.get_many((wanted,))
        if wanted not in found:
            return _text(404, f"media: no catalog item {wanted!r}")
        items = [found[wanted]]
    else:
        items = catalog.list_items(limit=20, offset=0)
    modules = []
    for module in list_modules(_modules_dir()):
        embed = _embed_field_or_none(module)
        links = []
        for host in _host_choices(module):
            query = {} if len(_host_choices(module)) == 1 else {"as": host}
            for item in items if embed else [None]:
                params = ({"media": item.external_id} if item else {}) | query
                label = (item.external_id if item else "defaults") + (f" ({host})" if query else "")
                links.append((label, url_for(".preview_module", module_name=module.name) + "?" + urlencode(params)))
        modules.append({"name": module.name, "label": module.meta.get("label", module.name),
                        "host_types": ", ".join(module.host_template_types or ("PAGE",)), "links": links})
    return render_template("preview/index.html", modules=modules, module_dir=str(_modules_dir()))


@bp.get("/_embed-js/v1.js")
def embed_script():
    """The stand-in for HubSpot's media-bridge-embed-js, for preview pages only."""
    response = send_file(EMBED_JS_FILE, mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<module_name>")
@page_policy(PREVIEW)
def preview_module(module_name: str):
    module = _module_or_404(module_name)
    if isinstance(module, Response):
        return module
    embed_field = _embed_field_or_none(module)
    repeater, max_items = None, 0
    if embed_field is not None:
        repeater, embed_field, max_items = find_embed_field(module.fields)
    try:
        wanted = parse_preview_args(request.args, max_items)
        host_type = _host_type(module, wanted.host)
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
    if repeater and embed_field is not None:
        row_defaults = default_values(next(f for f in module.fields if f["name"] == repeater)["children"])
        values[repeater] = [row_defaults | {embed_field["name"]: embed} for embed in embeds]
    elif embed_field is not None:
        values[embed_field["name"]] = embeds[0]
    if wanted.poster and "poster" in values:
        first = items[wanted.media[0]]
        src = (first.poster_url or first.thumbnail_url) if wanted.poster == "1" else wanted.poster
        if not src:
            return _text(400, f"poster: media {first.external_id!r} has no poster or thumbnail")
        values["poster"] = {"src": src, "alt": "", "width": None, "height": None}
    managed = {embed_field["name"]: "media="} if embed_field is not None and not repeater else {}
    if repeater:
        managed[repeater] = "media="
    try:
        apply_field_values(module.fields, values, wanted.fields, managed)
    except FieldValueError as exc:
        return _text(400, str(exc))

    if "lead_capture" in values:
        try:
            values["lead_capture"] = _lead_capture(request.args, values["lead_capture"])
        except PreviewArgumentError as exc:
            return _text(400, str(exc))

    portal_id = _preview_portal_id()
    label = module.meta.get("label", module.name)
    context = page_context(portal_id=portal_id, page_id=PREVIEW_PAGE_ID, page_name=f"Preview: {label}",
                           page_url=request.url, module_name=f"{module.name}_preview")
    is_email = host_type == EMAIL
    nonce = None if is_email else secrets.token_urlsafe(18)
    if is_email and wanted.contact_id is not None:
        # What HubSpot gives an email's HubL when it sends to one recipient.
        context["contact"] = {"hs_object_id": wanted.contact_id}
    try:
        rendered = _renderer().render_module(
            module.html, values,
            host_type=host_type,
            media_objects=CatalogMediaObjects(catalog, settings.public_url, provider_id),
            resolve_oembed=_resolve_oembed,
            context=context,
            name=f"{module.name}.module/module.html",
            script_nonce=nonce,
            script_urls={MEDIA_BRIDGE_EMBED_JS: url_for(".embed_script")},
        )
    except HublError as exc:
        return _error_page(module.name, exc)

    # The nonce goes into the policy only when something on the page carries it.
    page_scripts = rendered.html + rendered.head_html + rendered.footer_html
    uses_nonce = bool(nonce) and (f'nonce="{nonce}"' in page_scripts or url_for(".embed_script") in page_scripts)
    g.csp_nonce = nonce if uses_nonce else None
    template = "preview/email.html" if is_email else "preview/page.html"
    return render_template(
        template,
        title=f"Preview: {label}",
        module_html=rendered.html,
        head_html=rendered.head_html,
        footer_html=rendered.footer_html,
        module_css=url_for(".module_asset", module_name=module.name, filename="module.css") if module.has_css else None,
        module_js=url_for(".module_asset", module_name=module.name, filename="module.js") if module.has_js else None,
        csp_nonce=g.csp_nonce,
        hs_vars=json.dumps({"portal_id": portal_id, "page_id": PREVIEW_PAGE_ID}),
    )


@bp.get("/insights/<external_id>")
def insights_link(external_id: str):
    """The development preview's way to an item's insights: a fresh link, handed to whoever
    runs the preview (a local `serve`), never written into a page."""
    if current_catalog().get(external_id) is None:
        return _text(404, f"media: no catalog item {external_id!r}")
    response = redirect(media_insights_url(current_settings().public_url, current_link_keys(), external_id), 303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/<module_name>/<filename>")
def module_asset(module_name: str, filename: str):
    module = _module_or_404(module_name)
    if isinstance(module, Response):
        return module
    if filename not in _ASSET_TYPES or not (module.path / filename).is_file():
        abort(404)
    response = send_file(module.path / filename, mimetype=_ASSET_TYPES[filename], max_age=0)
    response.headers["Cache-Control"] = "no-store"  # module sources change while previewing
    return response


def catalog_preview_links(public_url: str, external_id: str) -> list[tuple[str, str, str]]:
    """(css class, label, URL) of the preview links the catalog index shows for an item:
    our two modules, or with a module directory of one's own, its module list."""
    query = urlencode({"media": external_id})
    if current_app.config.get("CMS_MODULE_DIR"):
        return [("catalog__preview", "Module previews", f"{public_url}/_preview/?{query}")]
    return [("catalog__preview", "Module preview", f"{public_url}/_preview/media_embed?{query}"),
            ("catalog__email-preview", "Email preview", f"{public_url}/_preview/media_email?{query}")]


# --- helpers -------------------------------------------------------------------------
def _modules_dir() -> Path:
    return Path(current_app.config.get("CMS_MODULE_DIR") or DEFAULT_MODULE_DIR)


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
    try:
        return load_module(_modules_dir(), name)
    except ModuleNotFound as exc:
        abort(Response(f"{exc}\n", status=404, mimetype="text/plain"))
    except ValueError as exc:  # fields.json or meta.json that is not JSON
        return _error_page(name, exc, file=getattr(exc, "module_file", None))


def _embed_field_or_none(module) -> dict | None:
    try:
        return find_embed_field(module.fields)[1]
    except ValueError:
        return None


def _host_choices(module) -> tuple[str, ...]:
    types = module.host_template_types or ("PAGE",)
    pages = any(t != EMAIL for t in types)
    return tuple(c for c, present in (("page", pages), ("email", EMAIL in types)) if present)


def _host_type(module, wanted: str | None) -> str:
    """The host the module renders in: its first page type unless it is email-only, or
    the one ?as= picks among its host_template_types."""
    types = module.host_template_types or ("PAGE",)
    page_types = [t for t in types if t != EMAIL]
    if wanted is None:
        return page_types[0] if page_types else EMAIL
    if wanted == "email" and EMAIL in types:
        return EMAIL
    if wanted == "page" and page_types:
        return page_types[0]
    raise PreviewArgumentError(f"as={wanted}: this module's host_template_types are {', '.join(types)}")


def _error_page(module_name: str, error: Exception, file: str | None = None) -> Response:
    """What a developer needs to fix the module: the file, the line and what failed there."""
    found = location_of(error)
    body = render_template(
        "preview/error.html",
        title=f"Preview: {module_name} failed to render",
        file=(found.file if found else file) or f"{module_name}.module",
        line=found.line if found else None,
        source_line=found.source_line if found else "",
        message=str(error),
    )
    return Response(body, status=500, mimetype="text/html")


def _preview_portal_id() -> int:
    """The portal the preview page pretends to be on: HUBSPOT_PORTAL_ID when set, so plays
    in the preview reach the connected portal (via hs_portal_id on the player URL)."""
    return current_settings().hubspot.portal_id or DEFAULT_PORTAL_ID


def _renderer() -> HublRenderer:
    # One renderer per module directory: it caches compiled templates by their source text.
    renderers = current_app.extensions.setdefault("hubl_renderers", {})
    modules_dir = _modules_dir().resolve()
    if modules_dir not in renderers:
        renderers[modules_dir] = HublRenderer(modules_dir)
    return renderers[modules_dir]


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
