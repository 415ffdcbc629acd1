"""HTML pages: the catalog index, the canonical media page, the embeddable player page, and
the site's own 404 page and favicon."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, redirect, render_template, request, send_from_directory, url_for
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join
from werkzeug.wrappers import Response as WerkzeugResponse

from oembed_server.domain.calls_to_action import keyed_ctas
from oembed_server.domain.chapters import chapter_spans, clock
from oembed_server.domain.email_plays import email_play
from oembed_server.domain.lead_gates import gate_for_embed
from oembed_server.domain.media import (
    CaptionTrack,
    MediaItem,
    MediaType,
    Visibility,
    embed_url,
    is_absolute_http_url,
    media_page_url,
)
from oembed_server.domain.oembed_response import artwork_url, discovery_url, parse_player_options, player_src
from oembed_server.domain.page_metadata import (
    discovery_links,
    format_duration,
    guess_mime_type,
    media_page_player_size,
    media_source,
    needs_cors,
    open_graph,
    own_static_file,
    page_description,
    shown_caption,
    tracking_context,
)
from oembed_server.domain.structured_data import (
    chapter_url,
    default_caption,
    describes,
    json_ld,
    transcript_text,
    twitter_card,
)
from oembed_server.domain.webvtt import WebVTTError, format_timestamp, parse_cues
from oembed_server.domain.whole_numbers import parse_whole_number
from oembed_server.web.app_state import current_catalog, current_settings
from oembed_server.web.gate_routes import gate_config
from oembed_server.web.intake_routes import player_config
from oembed_server.web.preview_routes import catalog_preview_links
from oembed_server.web.security_headers import PLAYER, page_policy

bp = Blueprint("pages", __name__)

INDEX_PAGE_SIZE = 50
_MAX_PAGE = 10**9 - 1  # past the last page anyway; keeps OFFSET within every database's range
# A WebVTT file larger than this is not captions anyone would read as a transcript.
TRANSCRIPT_SOURCE_MAX = 2 * 1024 * 1024


@bp.get("/")
def index():
    catalog, settings = current_catalog(), current_settings()
    # Only public media are listed: unlisted ones are reachable by URL alone, private ones not at all.
    total = catalog.count(visibility=Visibility.PUBLIC)
    last_page = max(1, math.ceil(total / INDEX_PAGE_SIZE))
    page = _page_number(request.args.get("page"))
    if page > last_page:
        return error_page(404, "No such page", f"The catalog has {last_page} page(s).")
    items = catalog.list_items(limit=INDEX_PAGE_SIZE, offset=(page - 1) * INDEX_PAGE_SIZE,
                               visibility=Visibility.PUBLIC)
    return render_template(
        "pages/index.html",
        rows=[_index_row(settings.public_url, item) for item in items],
        page=page,
        last_page=last_page,
        total=total,
        first_number=(page - 1) * INDEX_PAGE_SIZE + 1,
        provider_name=settings.provider_name,
        # The local HubL preview (oembed_server/preview.py) only exists when switched on.
        show_preview=bool(current_app.config.get("PREVIEW_ENABLED")),
    )


@bp.get("/favicon.ico")
def favicon():
    # Browsers ask for /favicon.ico on pages without an icon link (JSON views, the email preview).
    return send_from_directory(_static_folder(), "favicon.ico", mimetype="image/x-icon", max_age=86400)


@bp.app_errorhandler(NotFound)
def not_found(error):
    """The site's own 404 page for any unknown path (the oEmbed API answers its own 404s)."""
    return error_page(404, "Page not found", "There is nothing at this address.")


@bp.get("/media/<external_id>")
def media_page(external_id: str):
    item = _playable_item(external_id)
    if isinstance(item, Response):
        return item
    settings = current_settings()
    links = discovery_links(settings.public_url, item)
    width, height = media_page_player_size(item)
    # From an email link: the player reports its plays as the email's, for that contact.
    email = email_play(request.args)
    # A chapter link (?start=) opens the page with its player at that chapter.
    start = {k: v for k, v in parse_player_options(request.args).items() if k == "start"}
    frame_src = player_src(settings.public_url, item.external_id, start)
    if email:
        # HubSpot needs a page outside HubSpot named and addressed: this page, as the email linked it.
        page = {"hs_page_name": item.title, "hs_page_url": media_page_url(settings.public_url, item.external_id)}
        frame_src += ("&" if start else "?") + urlencode(email.query() | page)
    # Crawlers and social sites hear of public items only (structured_data.describes).
    described = describes(item)
    response = Response(render_template(
        "pages/media.html",
        item=item,
        provider_name=settings.provider_name,
        canonical_url=media_page_url(settings.public_url, item.external_id),
        discovery_links=links,
        open_graph=open_graph(settings.public_url, settings.provider_name, item) if described else [],
        twitter_card=twitter_card(settings.public_url, settings.provider_name, item,
                                  settings.twitter_site) if described else [],
        structured_data=json_ld(settings.public_url, settings.provider_name, item,
                                transcript=_transcript(item)) if described else None,
        player_src=frame_src,
        player_width=width,
        player_height=height,
        description=page_description(settings.provider_name, item),
        details=_details(item, media_page_url(settings.public_url, item.external_id)),
        captions=[(track, _transcript_url(item, track)) for track in item.captions],
        chapters=[(clock(span.start), chapter_url(settings.public_url, item, span.start), span.title)
                  for span in chapter_spans(item.chapters, item.duration_ms)],
    ))
    for link in links:
        response.headers.add("Link", link.header_value())
    if email:
        # The page names one contact: no shared cache may hand it to anyone else.
        response.headers["Cache-Control"] = "private, max-age=0"
    return _unlisted_noindex(response, item)


@bp.get("/media/<external_id>/")
def media_page_slash(external_id: str):
    return _redirect_without_slash("pages.media_page", external_id)


@bp.get("/media/<external_id>/transcript/<srclang>")
def transcript_page(external_id: str, srclang: str):
    item = _playable_item(external_id)
    if isinstance(item, Response):
        return item
    track = next((t for t in item.captions if t.srclang == srclang), None)
    text = _own_static_text(track.src) if track else None
    if text is None:
        return error_page(404, "No transcript", "There is no transcript in this language.")
    try:
        cues = parse_cues(text)
    except WebVTTError:
        return error_page(404, "No transcript", "The captions file for this language is not WebVTT.")
    settings = current_settings()
    return _unlisted_noindex(Response(render_template(
        "pages/transcript.html",
        item=item,
        track=track,
        cues=[(format_timestamp(cue.start_seconds), cue) for cue in cues],
        provider_name=settings.provider_name,
        media_url=media_page_url(settings.public_url, item.external_id),
    )), item)


@bp.get("/embed/<external_id>")
@page_policy(PLAYER)  # framed by every site that embeds it, its error pages included
def embed_page(external_id: str):
    item = _playable_item(external_id, compact=True)
    if isinstance(item, Response):
        return item
    settings = current_settings()
    options = parse_player_options(request.args)
    tracking = tracking_context(request.args)
    config: dict[str, Any] = {
        "externalId": item.external_id,
        "mediaType": item.media_type.value,
        "title": item.title,
        "durationMs": item.duration_ms,
        "mediaUrl": media_page_url(settings.public_url, item.external_id),
        "embedUrl": embed_url(settings.public_url, item.external_id),
        "options": {
            "autoplay": "autoplay" in options,
            "muted": "muted" in options,
            "loop": "loop" in options,
            "start": float(options["start"]) if "start" in options else 0,
        },
        "tracking": tracking,
        "events": player_config(item, request.args, request.headers.get("Referer")),
    }
    # Only a player with a gate carries one (and loads its script and styles).
    gate = gate_config(item, gate_for_embed(item.gate, request.args, item.duration_ms), request.args)
    if gate is not None:
        config["gate"] = gate
    file_url = item.file_url if is_absolute_http_url(item.file_url) else None
    playable = bool(file_url or (is_absolute_http_url(item.stream_url) and item.stream_url))
    # Chapters and CTAs are extra files, fetched only by the players of items that have them.
    chapters = playable and bool(item.chapters)
    if chapters:
        config["chapters"] = [{"start": span.start, "end": span.end, "title": span.title}
                              for span in chapter_spans(item.chapters, item.duration_ms)]
    # ctas=0: the page module's field that turns calls to action off for one embed.
    ctas = playable and bool(item.ctas) and request.args.get("ctas") != "0"
    if ctas:
        config["ctas"] = [{"key": key, "start": cta.start, "end": cta.end, "text": cta.text, "url": cta.url}
                          for key, cta in keyed_ctas(item.ctas)]
        config["ctaClicks"] = url_for("chapters_ctas.cta_click")
    shown = shown_caption(item.captions, options)
    stream_url = item.stream_url if is_absolute_http_url(item.stream_url) else None
    tracks: list[dict[str, Any]] = [
        {"src": t.src, "srclang": t.srclang, "label": t.label, "kind": t.kind.value, "default": t is shown}
        for t in item.captions] if file_url or stream_url else []
    response = Response(render_template(
        "pages/embed.html",
        item=item,
        options=options,
        config=config,
        source=media_source(file_url, options.get("start")) if file_url else None,
        file_url=file_url,
        artwork=artwork_url(item) if is_absolute_http_url(artwork_url(item)) else None,
        canonical_url=media_page_url(settings.public_url, item.external_id),
        description=page_description(settings.provider_name, item),
        duration=format_duration(item.duration_ms),
        tracks=tracks,
        stream_url=stream_url,
        stream_source=media_source(stream_url, options.get("start")) if stream_url else None,
        # The file's <source> beside a stream says its type, so browsers skip what they cannot play.
        file_type=guess_mime_type(file_url) if file_url and stream_url else None,
        crossorigin=needs_cors(settings.public_url, [t["src"] for t in tracks]),
        chapters_src=url_for("chapters_ctas.chapters_file", external_id=item.external_id) if chapters else None,
        ctas=ctas,
    ))
    # Tracking parameters differ per viewer; a shared cache must not hand one viewer's page to another.
    # A gate's token names the viewer's portal and privacy choice: never shared either.
    personal = tracking or email_play(request.args) or gate
    response.headers["Cache-Control"] = "private, max-age=0" if personal else "public, max-age=300"
    # The player token seals the framing page's origin: a shared cache keeps one copy per page.
    response.vary.add("Referer")
    return _unlisted_noindex(response, item)


@bp.get("/embed/<external_id>/")
def embed_page_slash(external_id: str):
    return _redirect_without_slash("pages.embed_page", external_id)


# Crawlers may read every path but these: insights are capabilities, the preview is local,
# and /events takes only the player's reports. Media pages stay crawlable so that a
# crawler sees an unlisted page's noindex.
ROBOTS_TXT = "User-agent: *\nDisallow: /insights/\nDisallow: /_preview/\nDisallow: /events\n"


@bp.get("/robots.txt")
def robots_txt():
    # The sitemap's address must be absolute (robots.txt has no base URL).
    sitemap = f"Sitemap: {current_settings().public_url}/sitemap.xml\n"
    return Response(ROBOTS_TXT + sitemap, mimetype="text/plain", headers={"Cache-Control": "public, max-age=86400"})


def _unlisted_noindex(response: Response, item: MediaItem) -> Response:
    """An unlisted item is reachable by its URL, not findable: a search engine that meets
    its URL somewhere must not list it (the page's meta tag says the same)."""
    if item.visibility is Visibility.UNLISTED:
        response.headers["X-Robots-Tag"] = "noindex"
    return response


def _playable_item(external_id: str, compact: bool = False) -> MediaItem | Response:
    """The item a page may show, or the error page that says why not."""
    item = current_catalog().get(external_id)
    if item is None:
        return error_page(404, "Media not found", "There is no media at this address.", compact)
    if item.visibility is Visibility.PRIVATE:
        return error_page(401, "Private media", "This media is private.", compact)
    return item


def _transcript(item: MediaItem) -> str | None:
    """The default caption track's words, when it is one of our own static files: reading
    a catalog URL elsewhere would make each page view a request to wherever it points."""
    track = default_caption(item)
    text = _own_static_text(track.src) if track else None
    return transcript_text(text) if text else None


def _transcript_url(item: MediaItem, track: CaptionTrack) -> str | None:
    if own_static_file(current_settings().public_url, track.src) is None:
        return None
    return url_for("pages.transcript_page", external_id=item.external_id, srclang=track.srclang)


def _static_folder() -> str:
    folder = current_app.static_folder
    assert folder is not None  # the app serves oembed_server/web/static
    return folder


def _own_static_text(url: str) -> str | None:
    """The text of a file this app serves under /static/, None for anything else or unreadable."""
    relative = own_static_file(current_settings().public_url, url)
    path = safe_join(_static_folder(), relative) if relative else None
    if path is None or not Path(path).is_file() or Path(path).stat().st_size > TRANSCRIPT_SOURCE_MAX:
        return None
    try:
        return Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def error_page(status: int, heading: str, message: str, compact: bool = False) -> Response:
    """The site's error page (``compact``: the one shown inside a player frame)."""
    # Inside someone else's iframe the site header would be noise; say it in the player's frame.
    template = "pages/embed_error.html" if compact else "pages/error.html"
    body = render_template(template, status=status, heading=heading, message=message,
                           provider_name=current_settings().provider_name)
    return Response(body, status=status)


def _redirect_without_slash(endpoint: str, external_id: str) -> WerkzeugResponse:
    target = url_for(endpoint, external_id=external_id)
    if request.query_string:
        target += "?" + request.query_string.decode("utf-8", "replace")
    return redirect(target, code=308)


def _page_number(raw: str | None) -> int:
    # A mangled page number shows the first page rather than an error: this page is for people.
    number = parse_whole_number(raw, _MAX_PAGE) if raw else None
    return number if number is not None and 1 <= number <= _MAX_PAGE else 1


def _index_row(public_url: str, item: MediaItem) -> dict:
    media_url = media_page_url(public_url, item.external_id)
    return {
        "item": item,
        "media_url": media_url,
        "embed_url": embed_url(public_url, item.external_id),
        "oembed_json": discovery_url(public_url, media_url, "json"),
        "oembed_xml": discovery_url(public_url, media_url, "xml"),
        "preview_links": catalog_preview_links(public_url, item.external_id),
        "insights_preview_url": f"{public_url}/_preview/insights/{quote(item.external_id, safe='')}",
    }


def _details(item: MediaItem, page_url: str) -> list[tuple[str, str, str | None]]:
    """(label, text, link) rows for the media page's metadata list; ``page_url`` is the
    page's own address, which a details link must not lead back to."""
    rows: list[tuple[str, str, str | None]] = [("Type", item.media_type.value.title(), None)]
    if duration := format_duration(item.duration_ms):
        rows.append(("Duration", duration, None))
    if item.width and item.height and item.media_type is not MediaType.AUDIO:
        rows.append(("Dimensions", f"{item.width} × {item.height}", None))
    if item.author_name:
        rows.append(("Author", item.author_name, item.author_url if is_absolute_http_url(item.author_url) else None))
    if item.folder_path:
        rows.append(("Folder", item.folder_path, None))
    if item.visibility is Visibility.UNLISTED:
        rows.append(("Visibility", "Unlisted: only people with the link can find it", None))
    if item.updated_at:
        rows.append(("Updated", item.updated_at.strftime("%Y-%m-%d %H:%M UTC"), None))
    if is_absolute_http_url(item.file_url):
        rows.append(("File", "Download the original", item.file_url))
    if is_absolute_http_url(item.details_page_link) and item.details_page_link.rstrip("/") != page_url:
        rows.append(("Details", item.details_page_link, item.details_page_link))
    return rows
