"""What search engines and social sites read about a public item: schema.org JSON-LD, the
X (Twitter) card, and the sitemap with Google's video extension. Pure data in, data out.

Only public items carry any of it (``describes``): an unlisted item is reachable by its link
alone, and telling crawlers about it would list it; a private one has no page at all.
Google's rules for each property are summarised in the shared reference
(video-seo-jsonld.md): ``uploadDate`` with its timezone, ``duration`` in ISO 8601,
``embedUrl`` the player and ``contentUrl`` the file itself.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from oembed_server.domain.media import (
    CaptionTrack,
    MediaItem,
    MediaType,
    Visibility,
    embed_url,
    is_absolute_http_url,
    media_page_url,
)
from oembed_server.domain.oembed_response import native_size
from oembed_server.domain.page_metadata import card_description, card_image
from oembed_server.domain.webvtt import WebVTTError, parse_cues

SCHEMA_TYPES = {
    MediaType.VIDEO: "VideoObject",
    MediaType.AUDIO: "AudioObject",
    MediaType.IMAGE: "ImageObject",
    MediaType.DOCUMENT: "DigitalDocument",
    MediaType.OTHER: "MediaObject",
}
_TIMED = (MediaType.VIDEO, MediaType.AUDIO)
# A transcript longer than this is left out rather than cut: a cut one says less than the
# page's own transcript link, and would make every page load carry a book.
TRANSCRIPT_MAX = 50_000

# X's limits for card texts.
TWITTER_TITLE_MAX = 70
TWITTER_DESCRIPTION_MAX = 200
_TWITTER_HANDLE = re.compile(r"@[A-Za-z0-9_]{1,15}")

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
VIDEO_NS = "http://www.google.com/schemas/sitemap-video/1.1"
# Google's bounds for video sitemap values.
SITEMAP_DESCRIPTION_MAX = 2048
SITEMAP_TITLE_MAX = 100
SITEMAP_DURATION_MAX = 28_800
# Google reads at most 50,000 URLs per sitemap; smaller pages keep each answer quick.
SITEMAP_PAGE_SIZE = 10_000
# Characters XML 1.0 cannot hold at all (escaping does not help).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def describes(item: MediaItem) -> bool:
    """Whether an item's page tells crawlers and social sites about it: public items only."""
    return item.visibility is Visibility.PUBLIC


def iso_duration(duration_ms: int | None) -> str | None:
    """ISO 8601 duration in whole seconds (``PT1H2M3S``), None when unknown or zero."""
    if not duration_ms or duration_ms < 0:
        return None
    seconds = max(1, round(duration_ms / 1000))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return "PT" + "".join(f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if value)


def iso_datetime(moment: datetime | None) -> str | None:
    """ISO 8601 with its timezone: Google reads a time without one in Googlebot's own."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # everything the catalog stores is UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="seconds")


def thumbnail_urls(item: MediaItem) -> list[str]:
    """The item's images crawlers may show, thumbnail first, each once."""
    urls: list[str] = []
    candidates = [item.thumbnail_url, item.poster_url]
    if item.media_type is MediaType.IMAGE:
        candidates.append(item.file_url)
    for url in candidates:
        if is_absolute_http_url(url) and url not in urls:
            urls.append(url)
    return urls


def default_caption(item: MediaItem) -> CaptionTrack | None:
    return next((track for track in item.captions if track.default), None)


def transcript_text(vtt: str) -> str | None:
    """The words of a WebVTT file as running text, None for a file that is not WebVTT, empty
    or too long to carry in a page."""
    try:
        cues = parse_cues(vtt)
    except WebVTTError:
        return None
    text = "\n".join(f"{cue.speaker}: {cue.text}" if cue.speaker else cue.text for cue in cues)
    return text if text and len(text) <= TRANSCRIPT_MAX else None


def json_ld(public_url: str, provider_name: str, item: MediaItem, *, transcript: str | None = None) -> dict[str, Any]:
    """The schema.org object of a public item's media page. ``transcript`` is the default
    caption track's text (``transcript_text``), given only when it is one of our own files."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": SCHEMA_TYPES[item.media_type],
        "name": item.title,
        "description": card_description(provider_name, item),
        "url": media_page_url(public_url, item.external_id),
    }
    if thumbnails := thumbnail_urls(item):
        data["thumbnailUrl"] = thumbnails
    if uploaded := iso_datetime(item.created_at):
        data["uploadDate"] = uploaded
    if item.media_type in _TIMED:
        if duration := iso_duration(item.duration_ms):
            data["duration"] = duration
        data["embedUrl"] = embed_url(public_url, item.external_id)
        if transcript:
            data["transcript"] = transcript
    if is_absolute_http_url(item.file_url):
        data["contentUrl"] = item.file_url
    if item.width and item.height and item.media_type in (MediaType.VIDEO, MediaType.IMAGE):
        data["width"], data["height"] = item.width, item.height
    if item.author_name:
        author: dict[str, Any] = {"@type": "Person", "name": item.author_name}
        if is_absolute_http_url(item.author_url):
            author["url"] = item.author_url
        data["author"] = author
    return data


def twitter_handle_problem(value: str) -> str | None:
    """Why ``value`` is not an X username as a card names it (``@name``), or None."""
    if not _TWITTER_HANDLE.fullmatch(value):
        return f"{value!r} must be an X (Twitter) username: @ and 1 to 15 letters, digits or _"
    return None


def twitter_card(public_url: str, provider_name: str, item: MediaItem, site: str | None) -> list[tuple[str, str]]:
    """(name, content) pairs for the ``<meta name="twitter:...">`` tags.

    Video and audio get a player card, which X accepts only for an HTTPS player page and
    with an image; otherwise the card falls back to a large image or a summary.
    """
    image = card_image(item)
    tags = [("twitter:title", _shorten(item.title, TWITTER_TITLE_MAX)),
            ("twitter:description", _shorten(card_description(provider_name, item), TWITTER_DESCRIPTION_MAX))]
    player = embed_url(public_url, item.external_id)
    if item.media_type in _TIMED and image and player.startswith("https://"):
        width, height = native_size(item)
        tags = [("twitter:card", "player"), *tags, ("twitter:image", image),
                ("twitter:player", player), ("twitter:player:width", str(width)),
                ("twitter:player:height", str(height))]
    elif image:
        tags = [("twitter:card", "summary_large_image"), *tags, ("twitter:image", image)]
    else:
        tags = [("twitter:card", "summary"), *tags]
    if image:
        tags.append(("twitter:image:alt", _shorten(item.title, 420)))
    if site:
        tags.append(("twitter:site", site))
    return tags


def sitemap_xml(public_url: str, provider_name: str, items: Iterable[MediaItem]) -> bytes:
    """A sitemap of the public ``items``' media pages; video with a thumbnail gets Google's
    ``<video:video>`` entry (which needs one)."""
    ET.register_namespace("", SITEMAP_NS)
    ET.register_namespace("video", VIDEO_NS)
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for item in items:
        if not describes(item):
            continue
        url = ET.SubElement(root, f"{{{SITEMAP_NS}}}url")
        _text(url, SITEMAP_NS, "loc", media_page_url(public_url, item.external_id))
        if lastmod := iso_datetime(item.updated_at):
            _text(url, SITEMAP_NS, "lastmod", lastmod)
        thumbnails = thumbnail_urls(item)
        if item.media_type is MediaType.VIDEO and thumbnails:
            video = ET.SubElement(url, f"{{{VIDEO_NS}}}video")
            _text(video, VIDEO_NS, "thumbnail_loc", thumbnails[0])
            _text(video, VIDEO_NS, "title", _shorten(item.title, SITEMAP_TITLE_MAX))
            _text(video, VIDEO_NS, "description",
                  _shorten(card_description(provider_name, item), SITEMAP_DESCRIPTION_MAX))
            if is_absolute_http_url(item.file_url):
                _text(video, VIDEO_NS, "content_loc", item.file_url)
            _text(video, VIDEO_NS, "player_loc", embed_url(public_url, item.external_id))
            if item.duration_ms and 1 <= round(item.duration_ms / 1000) <= SITEMAP_DURATION_MAX:
                _text(video, VIDEO_NS, "duration", str(round(item.duration_ms / 1000)))
    return _serialise(root)


def sitemap_index_xml(sitemap_urls: Iterable[str]) -> bytes:
    """A sitemap index naming each page of a catalog too large for one sitemap."""
    ET.register_namespace("", SITEMAP_NS)
    root = ET.Element(f"{{{SITEMAP_NS}}}sitemapindex")
    for loc in sitemap_urls:
        _text(ET.SubElement(root, f"{{{SITEMAP_NS}}}sitemap"), SITEMAP_NS, "loc", loc)
    return _serialise(root)


def _serialise(root: ET.Element) -> bytes:
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text


def _text(parent: ET.Element, namespace: str, tag: str, value: str) -> None:
    ET.SubElement(parent, f"{{{namespace}}}{tag}").text = _NOT_XML.sub("", value)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"
