"""Helpers for the oEmbed and page tests: media items built tersely and put in an app's catalog."""
from __future__ import annotations

from urllib.parse import quote, urlencode

from oembed_server.domain.media import MediaItem, MediaType, Visibility

PUBLIC_URL = "http://media.test"
XSS_TITLE = '"><script>alert(1)</script>'


def media_item(external_id: str = "clip", media_type: MediaType = MediaType.VIDEO, **fields) -> MediaItem:
    fields.setdefault("title", f"Title of {external_id}")
    fields.setdefault("file_url", f"{PUBLIC_URL}/static/sample/video.webm")
    if isinstance(fields.get("visibility"), str):
        fields["visibility"] = Visibility(fields["visibility"])
    return MediaItem(external_id=external_id, media_type=media_type, **fields)


def add_items(app, *items: MediaItem) -> None:
    app.extensions["catalog"].upsert(list(items))


def media_url(external_id: str, public_url: str = PUBLIC_URL) -> str:
    return f"{public_url}/media/{quote(external_id, safe='')}"


def oembed_path(url: str, endpoint: str = "/oembed", **args) -> str:
    return f"{endpoint}?{urlencode({'url': url, **args})}"
