"""From "a media URL and some limits" to an oEmbed answer or a precise refusal.

The one entry point shared by the HTTP API and the HubL preview, so both answer alike.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from oembed_server.domain.media import Visibility
from oembed_server.domain.oembed_response import PLAYER_OPTIONS, build_oembed_response
from oembed_server.domain.url_schemes import UrlMatcher
from oembed_server.domain.whole_numbers import parse_whole_number
from oembed_server.settings import Settings
from oembed_server.storage.catalog_store import CatalogStore

# Browsers and CDNs stop well before this; anything longer is not a URL anyone pasted.
URL_MAX_LENGTH = 4096
# Past this many pixels a limit constrains nothing, so larger values are clamped
# instead of refused (and huge digit strings never reach int()).
MAX_SIZE_CAP = 1_000_000
_UNSAFE_URL_CHARS_RE = re.compile(r"[\x00-\x20\x7f]")


class OEmbedError(Exception):
    """A request the provider refuses, with the HTTP status and a short reason."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    def __repr__(self) -> str:
        return f"OEmbedError({self.status}, {self.message!r})"


def answer_oembed_request(
    url: str | None,
    *,
    catalog: CatalogStore,
    settings: Settings,
    matcher: UrlMatcher,
    maxwidth: int | str | None = None,
    maxheight: int | str | None = None,
    player_options: Mapping[str, str] | None = None,
) -> dict:
    """The oEmbed answer for ``url``, or OEmbedError: 400 malformed url or sizes,
    404 unknown or unmatched, 401 private. Unlisted items resolve by their URL.

    ``maxwidth``/``maxheight`` may be ints or the raw query-string text. Player options
    come from the media URL's own query string, overridden by ``player_options``.
    """
    url = check_url(url)
    limit_w = parse_max_size(maxwidth, "maxwidth")
    limit_h = parse_max_size(maxheight, "maxheight")
    external_id = matcher.external_id(url)
    if external_id is None:
        raise OEmbedError(404, "url does not match any URL scheme of this provider")
    item = catalog.get(external_id)
    if item is None:
        raise OEmbedError(404, "no media with this URL")
    if item.visibility is Visibility.PRIVATE:
        raise OEmbedError(401, "this media is private")
    return build_oembed_response(
        item,
        public_url=settings.public_url,
        provider_name=settings.provider_name,
        cache_age=settings.cache_age,
        maxwidth=limit_w,
        maxheight=limit_h,
        player_options=merged_player_options(url, player_options),
    )


def check_url(url: str | None) -> str:
    """The url argument, trimmed, or OEmbedError(400) saying what is wrong with it."""
    if url is None or not isinstance(url, str) or not url.strip():
        raise OEmbedError(400, "url is required")
    url = url.strip()
    if len(url) > URL_MAX_LENGTH:
        raise OEmbedError(400, f"url is longer than {URL_MAX_LENGTH} characters")
    if _UNSAFE_URL_CHARS_RE.search(url):
        raise OEmbedError(400, "url contains spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise OEmbedError(400, "url is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise OEmbedError(400, "url must be an absolute http or https URL")
    return url


def parse_max_size(value: int | str | None, name: str) -> int | None:
    """A positive integer limit, None when absent; OEmbedError(400) otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise OEmbedError(400, f"{name} must be a positive integer")
    if isinstance(value, int):
        if value <= 0:
            raise OEmbedError(400, f"{name} must be a positive integer")
        return min(value, MAX_SIZE_CAP)
    if not isinstance(value, str):
        raise OEmbedError(400, f"{name} must be a positive integer")
    text = value.strip()
    if not text:
        # An empty field from a form means "no limit", not a malformed one.
        return None
    number = parse_whole_number(text, MAX_SIZE_CAP)
    if not number:
        raise OEmbedError(400, f"{name} must be a positive integer, got {_shorten(value)!r}")
    return min(number, MAX_SIZE_CAP)


def merged_player_options(url: str, explicit: Mapping[str, str] | None) -> dict[str, str]:
    """Player options on the media URL itself, with explicit request arguments winning."""
    options: dict[str, str] = {}
    if "?" in url:  # most media URLs carry no query; skip parsing one that is not there
        for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
            if key in PLAYER_OPTIONS and key not in options:
                options[key] = value
    if explicit:
        for key in PLAYER_OPTIONS:
            given = explicit.get(key)
            if isinstance(given, str):
                options[key] = given
    return options


def _shorten(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "..."
