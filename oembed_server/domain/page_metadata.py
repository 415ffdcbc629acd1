"""What the HTML pages say about an item, as plain data: discovery links, Open Graph, labels.

No Flask here; the templates escape everything these functions return.
"""
from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from oembed_server.domain.media import CaptionTrack, MediaItem, MediaType, embed_url, media_page_url
from oembed_server.domain.oembed_response import discovery_url, fit_within, native_size

DISCOVERY_TYPES = (("json", "application/json+oembed"), ("xml", "text/xml+oembed"))

# Query parameters HubSpot's embed helper (and its page context) append to the player URL.
TRACKING_PARAMS = ("hs_utk", "hs_portal_id", "hs_page_id", "hs_page_url", "hs_page_name")
_TRACKING_VALUE_MAX = 2048
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_HEADER_TOKEN_SAFE_RE = re.compile(r"[\x20-\x7e]*")

# Largest player the media page shows inline; the embed page itself has no limit.
MEDIA_PAGE_MAX = (960, 720)


@dataclass(frozen=True)
class DiscoveryLink:
    href: str
    type: str
    title: str

    def header_value(self) -> str:
        """The same link as an RFC 8288 ``Link:`` header value, safe for any title."""
        return f'<{self.href}>; rel="alternate"; type="{self.type}"; {_title_param(self.title)}'


def discovery_links(public_url: str, item: MediaItem) -> list[DiscoveryLink]:
    media_url = media_page_url(public_url, item.external_id)
    return [DiscoveryLink(discovery_url(public_url, media_url, fmt), mime, item.title)
            for fmt, mime in DISCOVERY_TYPES]


def open_graph(public_url: str, provider_name: str, item: MediaItem) -> list[tuple[str, str]]:
    """(property, content) pairs for the media page's ``<meta property=...>`` tags."""
    tags = [
        ("og:site_name", provider_name),
        ("og:title", item.title),
        ("og:description", card_description(provider_name, item)),
        ("og:type", {MediaType.VIDEO: "video.other", MediaType.AUDIO: "music.song"}.get(item.media_type, "website")),
        ("og:url", media_page_url(public_url, item.external_id)),
    ]
    if item.thumbnail_url:
        tags.append(("og:image", item.thumbnail_url))
        if item.thumbnail_width and item.thumbnail_height:
            tags += [("og:image:width", str(item.thumbnail_width)), ("og:image:height", str(item.thumbnail_height))]
    elif image := item.poster_url or (item.file_url if item.media_type is MediaType.IMAGE else None):
        tags.append(("og:image", image))
    if item.media_type is MediaType.VIDEO:
        # Like the large video sites: the player page, so a share plays in our own player.
        width, height = native_size(item)
        player = embed_url(public_url, item.external_id)
        tags.append(("og:video", player))
        if player.startswith("https://"):
            tags.append(("og:video:secure_url", player))
        tags += [("og:video:type", "text/html"), ("og:video:width", str(width)), ("og:video:height", str(height))]
        if item.duration_ms:
            tags.append(("video:duration", str(max(1, round(item.duration_ms / 1000)))))
    elif item.media_type is MediaType.AUDIO and item.file_url:
        tags.append(("og:audio", item.file_url))
        if guessed := guess_mime_type(item.file_url):
            tags.append(("og:audio:type", guessed))
    return tags


_MEDIA_NOUN = {MediaType.VIDEO: "Video", MediaType.AUDIO: "Audio", MediaType.IMAGE: "Image",
               MediaType.DOCUMENT: "Document", MediaType.OTHER: "Media"}
# Search engines show about this many characters of a description.
DESCRIPTION_MAX = 160


def page_description(provider_name: str, item: MediaItem) -> str:
    """The ``<meta name="description">`` of an item's pages: what it is, how long, from whom."""
    facts = [_MEDIA_NOUN[item.media_type]]
    if duration := format_duration(item.duration_ms):
        facts.append(duration)
    if item.author_name:
        facts.append(f"by {item.author_name}")
    text = f"{item.title} – {', '.join(facts)} from {provider_name}."
    return text if len(text) <= DESCRIPTION_MAX else text[:DESCRIPTION_MAX - 1].rstrip() + "…"


def card_description(provider_name: str, item: MediaItem) -> str:
    """What social cards and structured data say the item is: the catalog's description,
    else the page's own generated one."""
    return item.description or page_description(provider_name, item)


def card_image(item: MediaItem) -> str | None:
    """The image a card shows: the thumbnail, else the poster, else an image item itself."""
    return item.thumbnail_url or item.poster_url or (item.file_url if item.media_type is MediaType.IMAGE else None)


def media_page_player_size(item: MediaItem) -> tuple[int, int]:
    return fit_within(*native_size(item), *MEDIA_PAGE_MAX)


def media_source(file_url: str, start: str | None) -> str:
    """The file URL with a media-fragment start time (``#t=``), replacing any fragment."""
    base = file_url.split("#", 1)[0]
    return f"{base}#t={start}" if start else base


def guess_mime_type(url: str) -> str | None:
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    return guessed


def tracking_context(args: Mapping[str, str]) -> dict[str, str]:
    """HubSpot's contact and page parameters from the player URL, bounded and control-free.

    Values are kept as given (not validated) because they are only handed on to HubSpot,
    which owns their meaning; the template's JSON encoding keeps them inert.
    """
    context = {}
    for name in TRACKING_PARAMS:
        value = args.get(name)
        if isinstance(value, str) and value:
            context[name] = _CONTROL_RE.sub("", value)[:_TRACKING_VALUE_MAX]
    return context


def shown_caption(tracks: tuple[CaptionTrack, ...], options: Mapping[str, str]) -> CaptionTrack | None:
    """The track the player shows at start: ``cc_lang``'s language (exact tag, else the same
    primary language), else with ``cc`` the catalog's default track or the first one."""
    if wanted := options.get("cc_lang"):
        wanted = wanted.lower()
        primary = wanted.split("-")[0]
        matches: tuple[Callable[[str], bool], ...] = (lambda tag: tag == wanted,
                                                      lambda tag: tag.split("-")[0] == primary)
        for same in matches:
            for track in tracks:
                if same(track.srclang.lower()):
                    return track
    if options.get("cc") and tracks:
        return next((track for track in tracks if track.default), tracks[0])
    return None


def needs_cors(public_url: str, urls: Iterable[str]) -> bool:
    """Whether any of ``urls`` is on another origin than the player page, which a <track>
    may load only through CORS (and then its media element must ask for CORS too)."""
    own = _origin(public_url)
    return any(_origin(url) != own for url in urls)


def own_static_file(public_url: str, url: str) -> str | None:
    """The path under this app's /static/ that ``url`` names, or None for any other URL.

    Transcripts are rendered only from such files: fetching a catalog URL on another host
    at request time would make every transcript view an outgoing request to wherever the
    catalog points, internal addresses included.
    """
    prefix = f"{public_url}/static/"
    if not url.startswith(prefix):
        return None
    path = unquote(urlsplit(url).path[len(urlsplit(prefix).path):])
    return path or None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def format_duration(duration_ms: int | None) -> str | None:
    if duration_ms is None:
        return None
    seconds = round(duration_ms / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _title_param(title: str) -> str:
    clean = _CONTROL_RE.sub(" ", title)
    if _HEADER_TOKEN_SAFE_RE.fullmatch(clean):
        escaped = clean.replace("\\", "\\\\").replace('"', '\\"')
        return f'title="{escaped}"'
    # RFC 8187 extended notation: the only way to put non-ASCII text in a header safely.
    return f"title*=UTF-8''{quote(clean, safe='')}"
