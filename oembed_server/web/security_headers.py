"""The security headers every response carries, and the one table of Content Security
Policies, one per kind of page.

Every HTML page gets a policy. Unless a view says otherwise (``page_policy``), it gets the
strict site policy, which also refuses to be framed: index, media, error and insights
pages, and any page added later. The session insights page may be framed by HubSpot's
app alone (it is what the contact timeline shows). The player page is the exception: it is shown in other
sites' iframes (HubSpot pages, emails' landing pages, editors), so it may be framed by
anyone and may load media, tracks, segments and documents from any http(s) origin.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, g

from oembed_server.domain.timeline_frames import TIMELINE_FRAME_ANCESTORS

# The page kinds. Changing one changes every page of that kind, on purpose.
SITE = "site"
PLAYER = "player"
PREVIEW = "preview"
TIMELINE = "timeline"

_ANY_HTTP = "http: https:"
_POLICIES: dict[str, dict[str, str]] = {
    # Our own pages: scripts and styles from this app only (none are inline; the player
    # config is <script type="application/json">, which CSP does not treat as script).
    # Style attributes stay allowed: the media page sizes its player box with one.
    SITE: {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "style-src-attr": "'unsafe-inline'",
        "img-src": f"'self' {_ANY_HTTP} data:",
        "media-src": "'self'",
        "frame-src": "'self' {public_origin}",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    },
    # The player inside anyone's iframe: media, posters and caption tracks from any CDN;
    # HLS through MediaSource plays from blob: URLs; hls.js and pdf.js run workers from
    # blob:; segments, PDF files and POST /events beacons are fetched cross-origin.
    # No frame-ancestors: every origin may embed it.
    PLAYER: {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": f"'self' {_ANY_HTTP} data: blob:",
        "media-src": f"'self' {_ANY_HTTP} data: blob:",
        "connect-src": f"'self' {_ANY_HTTP}",
        "worker-src": "'self' blob:",
        "font-src": "'self' data:",
        # No plugins: PDFs are drawn by PDF.js, never handed to an <object>.
        "object-src": "'none'",
        "frame-src": f"'self' {_ANY_HTTP}",
        "base-uri": "'none'",
        "form-action": "'none'",
    },
    # The session insights page: the played event's iframeUrl, which HubSpot opens in a
    # modal on the contact timeline. The site policy, except that HubSpot's app (and only
    # it) may frame it; X-Frame-Options cannot name an origin, so it is not sent.
    TIMELINE: {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "style-src-attr": "'unsafe-inline'",
        "img-src": f"'self' {_ANY_HTTP} data:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": "{timeline_ancestors}",
    },
    # The local HubL module preview stands in for a HubSpot page: the module's require_css
    # blocks arrive as inline <style>, email modules style every cell inline, and the
    # module frames the player at the public URL. Its require_js blocks run by the
    # per-response nonce the view sets (g.csp_nonce); no other inline script does.
    PREVIEW: {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self' 'unsafe-inline'",
        "img-src": f"'self' {_ANY_HTTP} data:",
        "frame-src": "'self' {public_origin}",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": "'none'",
    },
}
# The browser default, said outright: other origins see only our origin, never a player
# URL with a viewer's tracking parameters in it.
REFERRER_POLICY = "strict-origin-when-cross-origin"
# RFC 9110 requires a challenge with every 401. Private media has no login to offer;
# Bearer names the kind of credential that would be needed without making browsers
# show a password dialog (as Basic would).
WWW_AUTHENTICATE = 'Bearer realm="media"'

View = TypeVar("View", bound=Callable)


def content_security_policy(kind: str, public_url: str,
                            timeline_ancestors: tuple[str, ...] = TIMELINE_FRAME_ANCESTORS, *,
                            script_nonce: str | None = None) -> str:
    """The Content-Security-Policy header value for a page of ``kind``; a ``script_nonce``
    lets the inline scripts carrying it run."""
    parts = urlsplit(public_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    ancestors = " ".join(timeline_ancestors) or "'none'"
    directives = dict(_POLICIES[kind])
    if script_nonce:
        directives["script-src"] += f" 'nonce-{script_nonce}'"
    return "; ".join(f"{name} {value.format(public_origin=origin, timeline_ancestors=ancestors)}".strip()
                     for name, value in directives.items())


def page_policy(kind: str) -> Callable[[View], View]:
    """Marks a view's HTML answers (errors included) as pages of ``kind``."""
    if kind not in _POLICIES:
        raise ValueError(f"unknown page kind {kind!r}")

    def mark(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            g.page_policy = kind
            return view(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return mark


def init_app(app: Flask, public_url: str,
             timeline_ancestors: tuple[str, ...] = TIMELINE_FRAME_ANCESTORS) -> None:
    # Each policy is built once; the per-response work is a dictionary look-up.
    policies = {kind: content_security_policy(kind, public_url, timeline_ancestors=timeline_ancestors)
                for kind in _POLICIES}

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", REFERRER_POLICY)
        if response.status_code == 401:
            headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
        if response.mimetype == "text/html":
            kind = g.get("page_policy", SITE)
            nonce = g.get("csp_nonce")
            if nonce and kind == PREVIEW:
                headers["Content-Security-Policy"] = content_security_policy(
                    kind, public_url, timeline_ancestors, script_nonce=nonce)
            else:
                headers["Content-Security-Policy"] = policies[kind]
            if kind not in (PLAYER, TIMELINE):
                # For browsers that predate frame-ancestors.
                headers["X-Frame-Options"] = "DENY"
        return response
