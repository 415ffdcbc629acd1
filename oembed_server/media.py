"""The media item as the catalog holds it: plain data, no I/O.

Field names mirror HubSpot's media object properties (``title`` -> ``hs_title``,
``duration_ms`` -> ``hs_duration`` ...) so the sync can map them one to one.
"""
from __future__ import annotations

import dataclasses
import enum
import re
from datetime import datetime
from urllib.parse import quote, urlsplit


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
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Id of the matching media object in the connected HubSpot portal, written by
    # scripts/sync_media.py; the events relay needs it as mediaBridgeId.
    hubspot_object_id: str | None = None

    def content(self) -> dict:
        """The integrator-supplied fields, as imported (no timestamps, no sync state)."""
        values = {name: getattr(self, name) for name in IMPORT_FIELDS}
        # Only these two hold enums; converting just them keeps bulk imports quick.
        values["media_type"] = _plain(self.media_type)
        values["visibility"] = _plain(self.visibility)
        return values


def _plain(value):
    return value.value if isinstance(value, enum.Enum) else value


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
)

INT_FIELDS = frozenset(
    {"thumbnail_width", "thumbnail_height", "duration_ms", "width", "height"}
)
URL_FIELDS = frozenset(
    {"file_url", "thumbnail_url", "poster_url", "details_page_link", "author_url"}
)
REQUIRED_FIELDS = ("external_id", "media_type", "title")
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


def is_absolute_http_url(value: str | None) -> bool:
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


def media_page_url(public_url: str, external_id: str) -> str:
    """The canonical media URL: what HubSpot stores as ``hs_oembed_url``."""
    return f"{public_url}/media/{quote(external_id, safe='')}"


def embed_url(public_url: str, external_id: str) -> str:
    """The player page the oEmbed iframe points at."""
    return f"{public_url}/embed/{quote(external_id, safe='')}"
