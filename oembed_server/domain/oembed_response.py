"""oEmbed answers as plain data: sizing, the iframe markup, player options and XML.

Pure functions over ``MediaItem``; the HTTP layer and the HubL preview both build on them.
"""
from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any, TypeGuard
from urllib.parse import urlencode

from oembed_server.domain.media import MediaItem, MediaType, embed_url, is_language_tag

OEMBED_VERSION = "1.0"

# Used when the catalog does not know an item's dimensions. Video follows the common 16:9
# player; audio gets the same box when it has artwork to show above the controls and a
# strip just tall enough for native controls and a title otherwise; documents get a
# portrait viewer, OTHER a link card.
DEFAULT_VIDEO_SIZE = (640, 360)
DEFAULT_AUDIO_ARTWORK_SIZE = (640, 360)
DEFAULT_AUDIO_SIZE = (640, 120)
DEFAULT_IMAGE_SIZE = (640, 480)
DEFAULT_DOCUMENT_SIZE = (600, 800)
DEFAULT_OTHER_SIZE = (480, 160)

IFRAME_ALLOW = "autoplay; fullscreen; picture-in-picture; encrypted-media"

# cc shows the default caption track; cc_lang the track in a given language.
PLAYER_FLAGS = ("autoplay", "muted", "loop", "cc")
PLAYER_OPTIONS = (*PLAYER_FLAGS, "start", "cc_lang")
_TRUE = frozenset({"1", "true"})
_FALSE = frozenset({"0", "false"})
# Seconds, optionally with a fraction; seven integer digits is more than 100 days.
_START_RE = re.compile(r"[0-9]{1,7}(?:\.[0-9]{1,3})?")

# Characters XML 1.0 cannot carry even escaped; a title holding one would make the document unparsable.
_XML_INVALID_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

RESPONSE_KEYS = (
    "type", "version", "title", "provider_name", "provider_url", "author_name", "author_url",
    "cache_age", "html", "width", "height", "thumbnail_url", "thumbnail_width", "thumbnail_height",
)


def fit_within(width: int, height: int, max_w: int | None, max_h: int | None) -> tuple[int, int]:
    """Scale (width, height) down to fit both limits, keeping the aspect ratio; never up.

    Exact integer arithmetic (the scale kept as a fraction num/den) keeps the constrained
    side equal to its limit and the other side rounded half-to-even, clamped so rounding
    can never step over a limit. Integers rather than Fraction: this runs on every request.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"dimensions must be positive, got {width}x{height}")
    for limit in (max_w, max_h):
        if limit is not None and limit <= 0:
            raise ValueError(f"limits must be positive, got {max_w}x{max_h}")
    num, den = 1, 1
    if max_w is not None and max_w * den < num * width:
        num, den = max_w, width
    if max_h is not None and max_h * den < num * height:
        num, den = max_h, height
    if num == den:
        return width, height
    new_w = max(1, _round_half_even(width * num, den))
    new_h = max(1, _round_half_even(height * num, den))
    if max_w is not None:
        new_w = min(new_w, max_w)
    if max_h is not None:
        new_h = min(new_h, max_h)
    return new_w, new_h


def _round_half_even(numerator: int, denominator: int) -> int:
    """round(numerator / denominator) for positive integers, without floating point."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        return quotient + 1
    return quotient


def native_size(item: MediaItem) -> tuple[int, int]:
    """The size the player would like: the item's own dimensions, else a default per type."""
    if _positive(item.width) and _positive(item.height):
        return item.width, item.height
    if item.media_type is MediaType.VIDEO:
        return DEFAULT_VIDEO_SIZE
    if item.media_type is MediaType.AUDIO:
        return DEFAULT_AUDIO_ARTWORK_SIZE if artwork_url(item) else DEFAULT_AUDIO_SIZE
    if item.media_type is MediaType.IMAGE:
        return DEFAULT_IMAGE_SIZE
    if item.media_type is MediaType.DOCUMENT:
        return DEFAULT_DOCUMENT_SIZE
    return DEFAULT_OTHER_SIZE


def artwork_url(item: MediaItem) -> str | None:
    return item.poster_url or item.thumbnail_url


def oembed_type(media_type: MediaType) -> str:
    # Audio plays in the same iframe player as video, which is what oEmbed's video type means.
    return "video" if media_type in (MediaType.VIDEO, MediaType.AUDIO) else "rich"


def parse_player_options(raw: Mapping[str, str] | None) -> dict[str, str]:
    """Keep the player options that are valid, in canonical form; silently drop the rest.

    Invalid values are ignored rather than refused: options usually ride along on a
    pasted media URL, and a typo there should cost the option, not the whole embed.
    Flags that are off and a start of 0 are dropped too, since they are the player's
    defaults, so equivalent requests produce identical (and equally cacheable) answers.
    """
    options: dict[str, str] = {}
    if not raw:
        return options
    for name in PLAYER_FLAGS:
        value = _text(raw.get(name))
        if value is not None and value.strip().lower() in _TRUE:
            options[name] = "1"
    start = _text(raw.get("start"))
    if start is not None and _START_RE.fullmatch(start.strip()):
        seconds = _canonical_seconds(start.strip())
        if seconds != "0":
            options["start"] = seconds
    cc_lang = _text(raw.get("cc_lang"))
    if cc_lang is not None and is_language_tag(cc_lang.strip()):
        options["cc_lang"] = cc_lang.strip()
    return options


def player_src(public_url: str, external_id: str, player_options: Mapping[str, str] | None = None) -> str:
    """The iframe's src: the embed page plus the (already validated) player options."""
    base = embed_url(public_url, external_id)
    options = {k: player_options[k] for k in PLAYER_OPTIONS if player_options and k in player_options}
    return f"{base}?{urlencode(options)}" if options else base


def discovery_url(public_url: str, media_url: str, fmt: str) -> str:
    """The oEmbed endpoint URL a discovery link advertises: ``url`` and ``format``, nothing else."""
    return f"{public_url}/oembed?{urlencode({'url': media_url, 'format': fmt})}"


def iframe_html(src: str, width: int, height: int, title: str) -> str:
    return (
        f'<iframe src="{html.escape(src, quote=True)}" width="{int(width)}" height="{int(height)}"'
        f' title="{html.escape(title, quote=True)}" frameborder="0" style="border:0"'
        f' allow="{IFRAME_ALLOW}" allowfullscreen loading="lazy"></iframe>'
    )


def build_oembed_response(
    item: MediaItem,
    *,
    public_url: str,
    provider_name: str,
    cache_age: int,
    maxwidth: int | None = None,
    maxheight: int | None = None,
    player_options: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The oEmbed answer for one item, every size inside maxwidth x maxheight."""
    width, height = fit_within(*native_size(item), maxwidth, maxheight)
    src = player_src(public_url, item.external_id, parse_player_options(player_options))
    response: dict[str, Any] = {
        "type": oembed_type(item.media_type),
        "version": OEMBED_VERSION,
        "title": item.title,
        "provider_name": provider_name,
        "provider_url": public_url,
    }
    if item.author_name:
        response["author_name"] = item.author_name
    if item.author_url:
        response["author_url"] = item.author_url
    response["cache_age"] = int(cache_age)
    response["html"] = iframe_html(src, width, height, item.title)
    response["width"] = width
    response["height"] = height
    if _thumbnail_fits(item, maxwidth, maxheight):
        response["thumbnail_url"] = item.thumbnail_url
        response["thumbnail_width"] = item.thumbnail_width
        response["thumbnail_height"] = item.thumbnail_height
    return response


def to_xml(response: Mapping[str, object]) -> str:
    """Serialise an oEmbed answer (or an error body) as ``<oembed>``, one escaped child per key."""
    return xml_document("oembed", response)


def xml_document(root: str, fields: Mapping[str, object]) -> str:
    children = "".join(f"<{key}>{xml_text(value)}</{key}>" for key, value in fields.items())
    return f'<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<{root}>{children}</{root}>\n'


def xml_text(value: object) -> str:
    return html.escape(_XML_INVALID_RE.sub("", str(value)), quote=False)


def _thumbnail_fits(item: MediaItem, maxwidth: int | None, maxheight: int | None) -> bool:
    # The spec's all-three-or-none rule, plus "every size respects the limits": a thumbnail
    # that would overflow is left out rather than described with sizes it does not have.
    if not (item.thumbnail_url and _positive(item.thumbnail_width) and _positive(item.thumbnail_height)):
        return False
    return ((maxwidth is None or item.thumbnail_width <= maxwidth)
            and (maxheight is None or item.thumbnail_height <= maxheight))


def _canonical_seconds(value: str) -> str:
    whole, _, fraction = value.partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def _positive(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
