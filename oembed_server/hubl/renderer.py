"""The one HubL renderer: renders a module template the way a HubSpot page or email would.

Callers hand in the field values, the host type (PAGE, BLOG_POST, EMAIL ...), a source
of media objects for ``crm_object(s)`` and a resolver for ``oembed``; they get back the
module's HTML plus what it asked to put into the page head and footer.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from jinja2 import TemplateError, TemplateSyntaxError
from markupsafe import escape

from oembed_server.hubl.crm_functions import CrmFunctions, InMemoryMediaObjects, MediaObjectSource
from oembed_server.hubl.environment import compile_template, create_environment
from oembed_server.hubl.hubl_errors import (
    ErrorLocation,
    HublError,
    HublTemplateError,
    NotAvailableError,
    location_of,
)
from oembed_server.hubl.page_assets import PageAssets
from oembed_server.hubl.tags_extension import STATE_KEY

# (url, maxwidth, maxheight) -> the oEmbed answer as a dict, or None when there is none.
OEmbedResolver = Callable[[str, "int | None", "int | None"], "Mapping | None"]

EMAIL = "EMAIL"
HOST_TYPES = ("PAGE", "BLOG_POST", "BLOG_LISTING", EMAIL)


@dataclasses.dataclass(frozen=True)
class RenderedModule:
    html: str
    head_html: str
    footer_html: str


@dataclasses.dataclass
class RenderState:
    """Everything one render collects or counts; HubSpot's limits are per page."""

    host_type: str
    crm: CrmFunctions
    resolve_oembed: OEmbedResolver | None
    assets: PageAssets = dataclasses.field(default_factory=PageAssets)
    # The page's Content-Security-Policy nonce: inline scripts the module requires carry it.
    script_nonce: str | None = None
    # Script URLs the page serves from elsewhere (the preview's stand-in for HubSpot's CDN).
    script_urls: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def require_css_url(self, url, options=None) -> None:
        self._no_assets_in_email("require_css")
        self.assets.add_css_url(_required_url("require_css", url), options)

    def require_js_url(self, url, options=None) -> None:
        self._no_assets_in_email("require_js")
        url = _required_url("require_js", url)
        self.assets.add_js_url(self.script_urls.get(url, url), options)

    def require_block_css(self, markup: str) -> None:
        self._no_assets_in_email("require_css")
        self.assets.add_css_block(markup)

    def require_block_js(self, markup: str, position: str) -> None:
        self._no_assets_in_email("require_js")
        if self.script_nonce:
            markup = _SCRIPT_START.sub(f'<script nonce="{escape(self.script_nonce)}"', markup)
        self.assets.add_js_block(markup, position)

    def oembed(self, request):
        # HubSpot documents oembed() for emails only; on a page it would not work either.
        if self.host_type != EMAIL:
            raise NotAvailableError("oembed() is only available in email templates")
        if not isinstance(request, Mapping) or not request.get("url"):
            raise HublError("oembed() expects a dict with a url, e.g. oembed({url: ...})")
        if self.resolve_oembed is None:
            return None
        return self.resolve_oembed(str(request["url"]),
                                   _dimension(request, "max_width", "maxwidth"),
                                   _dimension(request, "max_height", "maxheight"))

    def _no_assets_in_email(self, what: str) -> None:
        if self.host_type == EMAIL:
            raise NotAvailableError(f"{what}: email modules may not carry CSS or JavaScript")


class HublRenderer:
    """Renders module templates; imports and includes resolve inside ``module_dir``."""

    def __init__(self, module_dir: Path | None = None):
        self.environment = create_environment(module_dir)
        self._compiled: dict[str, object] = {}

    def compile(self, source: str, name: str = "module.html"):
        key = hashlib.sha256(f"{name}\0{source}".encode()).hexdigest()
        if key not in self._compiled:
            self._compiled[key] = compile_template(self.environment, source, name)
        return self._compiled[key]

    def render_module(
        self,
        source: str,
        module: Mapping,
        *,
        host_type: str = "PAGE",
        media_objects: MediaObjectSource | None = None,
        resolve_oembed: OEmbedResolver | None = None,
        context: Mapping | None = None,
        name: str = "module.html",
        script_nonce: str | None = None,
        script_urls: Mapping[str, str] | None = None,
    ) -> RenderedModule:
        """Raises a HublError for anything wrong in the template (its own kind when it is
        one of HubL's, HublTemplateError otherwise), with ``location_of(error)`` saying
        which file and line failed."""
        if host_type not in HOST_TYPES:
            raise ValueError(f"host_type must be one of {HOST_TYPES}, got {host_type!r}")
        try:
            template = self.compile(source, name)
        except HublError as exc:
            self._located(exc, source, name)
            raise
        render_state = RenderState(
            host_type=host_type,
            crm=CrmFunctions(media_objects or InMemoryMediaObjects({})),
            resolve_oembed=resolve_oembed,
            script_nonce=script_nonce,
            script_urls=dict(script_urls or {}),
        )
        variables = dict(context or {})
        # In HubSpot a module sees its fields as both `module` and (legacy) `widget`.
        variables.update(module=module, widget=module, **{STATE_KEY: render_state})
        try:
            html = template.render(variables)
        except HublError as exc:
            self._located(exc, source, name)
            raise
        except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
            # Jinja rewrote the traceback to point at template lines: name the innermost.
            error = HublTemplateError(_describe(exc))
            raise self._located(error, source, name, exc) from exc
        return RenderedModule(html, render_state.assets.head_html(), render_state.assets.footer_html())

    def _located(self, error: HublError, source: str, name: str, cause: BaseException | None = None) -> HublError:
        found = location_of(error) or _location_in_traceback(cause or error)
        if found is None:
            found = ErrorLocation(name, None)
        text = source if found.file == name else self._source_of(found.file)
        lines = text.splitlines() if text else []
        line_text = lines[found.line - 1].strip() if found.line and 0 < found.line <= len(lines) else ""
        error.hubl_location = ErrorLocation(found.file, found.line, line_text)  # type: ignore[attr-defined]
        return error

    def _source_of(self, file: str) -> str:
        try:
            return self.environment.loader.get_source(self.environment, file)[0]  # type: ignore[union-attr]
        except (TemplateError, OSError):
            return ""


def page_context(*, portal_id: int, page_id, page_name: str, page_url: str,
                 module_name: str = "module_1") -> dict:
    """The minimal HubL page context (``hub_id``, ``portal_id``, ``content``, ``request``,
    ``name``) a module may read."""
    from urllib.parse import parse_qs, urlsplit
    parts = urlsplit(page_url)
    return {
        "hub_id": portal_id,
        "portal_id": portal_id,
        "name": module_name,
        "content": {"id": page_id, "name": page_name, "absolute_url": page_url},
        "page_meta": {"html_title": page_name, "name": page_name},
        "request": {
            "full_url": page_url,
            "scheme": parts.scheme,
            "domain": parts.hostname,
            "path": parts.path,
            "query": parts.query,
            "query_dict": {k: v[0] for k, v in parse_qs(parts.query).items()},
            "path_and_query": parts.path + (f"?{parts.query}" if parts.query else ""),
        },
    }


_SCRIPT_START = re.compile(r"<script(?=[\s>/])", re.IGNORECASE)


def _describe(error: BaseException) -> str:
    if isinstance(error, TemplateSyntaxError):
        return f"syntax error: {error.message}"
    if isinstance(error, TemplateError):
        return error.message or type(error).__name__
    return f"{type(error).__name__}: {error}"


def _location_in_traceback(error: BaseException) -> ErrorLocation | None:
    if isinstance(error, TemplateSyntaxError) and error.lineno:
        return ErrorLocation(error.filename or error.name or "template", error.lineno)
    found = None
    tb = error.__traceback__
    while tb is not None:
        # Jinja's rewritten frames stand for template lines and carry this global.
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            found = ErrorLocation(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _required_url(what: str, url) -> str:
    if not isinstance(url, str) or not url.strip():
        raise HublError(f"{what}: expects a URL string, got {url!r}")
    return url.strip()


def _dimension(request: Mapping, *keys: str) -> int | None:
    for key in keys:
        value = request.get(key)
        if value not in (None, ""):
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise HublError(f"oembed(): {key} must be a whole number, got {value!r}") from None
            if number <= 0:
                raise HublError(f"oembed(): {key} must be positive, got {number}")
            return number
    return None
