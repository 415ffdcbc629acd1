"""The media item as the catalog holds it: plain data, no I/O.

Field names mirror HubSpot's media object properties (``title`` -> ``hs_title``,
``duration_ms`` -> ``hs_duration`` ...) so the sync can map them one to one.
"""
from __future__ import annotations

import dataclasses
import enum
import json
import re
from datetime import datetime
from typing import Any, TypeGuard
from urllib.parse import quote, urlsplit

from oembed_server.domain.calls_to_action import CallToAction
from oembed_server.domain.chapters import Chapter
from oembed_server.domain.lead_gates import Gate


class MediaType(str, enum.Enum):
    VIDEO = "VIDEO"
    AUDIO = "AUDIO"
    IMAGE = "IMAGE"
    DOCUMENT = "DOCUMENT"
    OTHER = "OTHER"


class Visibility(str, enum.Enum):
    PUBLIC = "public"
    UNLISTED = "unlisted"
    PRIVATE = "private"


class CaptionKind(str, enum.Enum):
    SUBTITLES = "subtitles"
    CAPTIONS = "captions"


@dataclasses.dataclass(frozen=True)
class CaptionTrack:
    """One WebVTT file the player offers as a ``<track>``; never sent to HubSpot."""
    src: str
    srclang: str
    label: str
    kind: CaptionKind = CaptionKind.SUBTITLES
    default: bool = False

    def plain(self) -> dict[str, str | bool]:
        return {"src": self.src, "srclang": self.srclang, "label": self.label,
                "kind": self.kind.value, "default": self.default}


@dataclasses.dataclass(frozen=True)
class MediaItem:
    external_id: str
    media_type: MediaType
    title: str
    file_url: str | None = None
    thumbnail_url: str | None = None
    thumbnail_width: int | None = None
    thumbnail_height: int | None = None
    poster_url: str | None = None
    duration_ms: int | None = None
    width: int | None = None
    height: int | None = None
    folder_path: str | None = None
    details_page_link: str | None = None
    author_name: str | None = None
    author_url: str | None = None
    visibility: Visibility = Visibility.PUBLIC
    # Whose media this is: a portal installed for a library gets that library's items only.
    library: str = "default"
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Id of the matching media object in the connected HubSpot portal, written by
    # scripts/sync_media.py; the events relay needs it as mediaBridgeId.
    hubspot_object_id: str | None = None
    # Player-only fields: HubSpot's media objects have no properties for them.
    captions: tuple[CaptionTrack, ...] = ()
    stream_url: str | None = None  # an HLS master playlist
    gate: Gate | None = None  # a HubSpot form the player shows (domain/lead_gates.py)
    # What the media page's structured data and social cards say about the item.
    description: str | None = None
    # Player-only too: the chapter menu and the CTA overlays (domain.chapters, domain.calls_to_action).
    chapters: tuple[Chapter, ...] = ()
    ctas: tuple[CallToAction, ...] = ()

    def content(self) -> dict[str, Any]:
        """The integrator-supplied fields, as imported (no timestamps, no sync state)."""
        values = {name: getattr(self, name) for name in IMPORT_FIELDS}
        # Only these two hold enums; converting just them keeps bulk imports quick.
        values["media_type"] = _plain(self.media_type)
        values["visibility"] = _plain(self.visibility)
        values["captions"] = _plain(self.captions)
        values["chapters"] = _plain(self.chapters)
        values["ctas"] = _plain(self.ctas)
        values["gate"] = self.gate.plain() if self.gate else None
        return values


def _plain(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):  # captions, chapters, ctas: a JSON-ready list, None when there are none
        return [entry.plain() for entry in value] or None
    return value


def captions_json(tracks: tuple[CaptionTrack, ...]) -> str | None:
    """Caption tracks as the catalog stores them: canonical JSON text, None when there are none."""
    return json.dumps([track.plain() for track in tracks], sort_keys=True, separators=(",", ":")) if tracks else None


# The keys an import file carries, in the order the README documents them.
IMPORT_FIELDS: tuple[str, ...] = (
    "external_id",
    "media_type",
    "title",
    "file_url",
    "thumbnail_url",
    "thumbnail_width",
    "thumbnail_height",
    "poster_url",
    "duration_ms",
    "width",
    "height",
    "folder_path",
    "details_page_link",
    "author_name",
    "author_url",
    "visibility",
    "captions",
    "stream_url",
    "library",
    "gate",
    "description",
    "chapters",
    "ctas",
)

INT_FIELDS = frozenset(
    {"thumbnail_width", "thumbnail_height", "duration_ms", "width", "height"}
)
URL_FIELDS = frozenset(
    {"file_url", "thumbnail_url", "poster_url", "details_page_link", "author_url", "stream_url"}
)
# Only timed media play in the <video>/<audio> player that streams and shows captions.
PLAYER_ONLY_FIELDS = ("captions", "stream_url", "chapters", "ctas", "gate")
REQUIRED_FIELDS = ("external_id", "media_type", "title")
# Longer than any search result or card shows, short enough to sit in every page's <head>.
MEDIA_DESCRIPTION_MAX = 5000
EXTERNAL_ID_MAX = 200
# scheme://host[:port] then a path, query or fragment without spaces or controls: catalog
# imports check millions of URLs, and most look like this.
_PLAIN_HTTP_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:[/?#][^\x00-\x20\x7f]*)?")
# A regex each: the id check is on every oEmbed request's path.
_SLASH_OR_CONTROL = re.compile(r"[/\x00-\x1f\x7f-\x9f]")
# Unicode's explicit directional marks, embeddings, overrides and isolates.
_BIDI_CONTROL = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def external_id_problem(value: str) -> str | None:
    """Why ``value`` cannot be an external id, or None when it can.

    Ids appear as one URL path segment, are shown on pages and are stored in every
    supported database, so '/', '.' and '..', C0 and C1 control characters (PostgreSQL
    text cannot even hold NUL) and bidirectional controls are refused.
    """
    if not value:
        return "must not be empty"
    if len(value) > EXTERNAL_ID_MAX:
        return f"longer than {EXTERNAL_ID_MAX} characters"
    if value in (".", ".."):
        # Browsers and proxies resolve these path segments away: /media/.. is not this id.
        return f"{value!r} is not usable as a URL path segment"
    if _SLASH_OR_CONTROL.search(value):
        return f"{value!r} may not contain '/' or control characters"
    if _BIDI_CONTROL.search(value):
        # They make an id display as something else ("rtl\u202egpj.exe" reads as "rtlexe.jpg").
        return f"{value!r} may not contain bidirectional text controls"
    return None


DEFAULT_LIBRARY = "default"
_LIBRARY_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def library_problem(value: str) -> str | None:
    """Why ``value`` cannot name a library, or None when it can. Library names travel in
    signed install links and command lines, so they stay short and plain."""
    if not _LIBRARY_NAME.match(value):
        return f"{value!r} must be 1 to 64 lower-case letters, digits, - and _, starting with a letter or digit"
    return None


# RFC 5646 "langtag" (and a bare private-use tag), well-formedness only; ASCII so that
# case-folding cannot let a Kelvin sign pass for a "k".
_LANGUAGE_TAG_RE = re.compile(
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"  # language, extended language subtags
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # private use
    r"|x(?:-[a-z0-9]{1,8})+",
    re.IGNORECASE | re.ASCII,
)
LANGUAGE_TAG_MAX = 35


def is_language_tag(value: str | None) -> bool:
    """A well-formed BCP 47 language tag (``en``, ``pt-BR``, ``zh-Hant-TW``): what a
    ``<track srclang>`` and the player's ``cc_lang`` option accept."""
    return (isinstance(value, str) and len(value) <= LANGUAGE_TAG_MAX
            and _LANGUAGE_TAG_RE.fullmatch(value) is not None)


def is_absolute_http_url(value: str | None) -> TypeGuard[str]:
    """An http(s) URL with a host and no spaces: what the catalog accepts and pages link to."""
    if not value or " " in value:
        return False
    if _PLAIN_HTTP_URL.fullmatch(value):
        return True  # the usual shape, which urlsplit would accept too: decided in one regex call
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# Characters that end a URL in the HTML, XML or JSON that quote it (oEmbed consumers paste
# our answers into pages): never valid raw in a URL (RFC 3986), always percent-encodable.
_UNSAFE_URL_CHARACTERS = re.compile(r'["<>\s]')
_PERCENT_FORMS = {'"': "%22", "<": "%3C", ">": "%3E"}


def url_character_problem(value: str) -> str | None:
    """Why a catalog URL cannot be passed on as it is, or None."""
    match = _UNSAFE_URL_CHARACTERS.search(value)
    if match is None:
        return None
    found = match.group()
    if found in _PERCENT_FORMS:
        return f"contains {found!r} (write it as {_PERCENT_FORMS[found]})"
    return f"contains whitespace ({found!r} at position {match.start() + 1}; write a space as %20)"


def media_page_url(public_url: str, external_id: str) -> str:
    """The canonical media URL: what HubSpot stores as ``hs_oembed_url``."""
    return f"{public_url}/media/{quote(external_id, safe='')}"


def embed_url(public_url: str, external_id: str) -> str:
    """The player page the oEmbed iframe points at."""
    return f"{public_url}/embed/{quote(external_id, safe='')}"
