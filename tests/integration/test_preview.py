"""/_preview/<module>: the CMS modules rendered with Embed values built from our oEmbed answers."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from oembed_server.domain.media import MediaType
from oembed_server.hubl import EMAIL, HublRenderer
from oembed_server.hubl.embed_field import EmbedSize, embed_field_value
from oembed_server.settings import ConfigError
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.apps import make_app
from tests.support.cms_modules import EMAIL_MODULE, PAGE_MODULE
from tests.support.databases import migrated_sqlite_url
from tests.support.environment import PUBLIC_URL

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def preview_client(sample_app):
    sample_app.config["PREVIEW_ENABLED"] = True
    return sample_app.test_client()


def soup_of(response) -> BeautifulSoup:
    assert response.status_code == 200, response.get_data(as_text=True)
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def noscript_iframe(soup) -> BeautifulSoup:
    noscript = soup.select_one("noscript[data-media-embed-player]")
    return BeautifulSoup(noscript.decode_contents(), "html.parser").iframe


# --- switched off ----------------------------------------------------------------------
def test_preview_is_404_unless_enabled(sample_client):
    assert sample_client.get("/_preview/media_embed?media=sample-video").status_code == 404
    assert sample_client.get("/_preview/media_embed/module.js").status_code == 404


# --- the page module -------------------------------------------------------------------
def test_page_module_renders_player_details_and_assets(preview_client):
    soup = soup_of(preview_client.get("/_preview/media_embed?media=sample-video"))
    iframe = noscript_iframe(soup)
    assert iframe["src"] == f"{PUBLIC_URL}/embed/sample-video"
    assert iframe["title"] == "Spring product tour"
    assert soup.select_one('link[rel=stylesheet][href="/_preview/media_embed/module.css"]')
    assert soup.select_one('script[src="/_preview/media_embed/module.js"]')
    root = soup.select_one("[data-media-embed]")
    assert root["data-portal-id"] == "1234567" and root["data-page-id"] == "1"
    details = soup.select_one('[data-media-embed-details="0"]')
    assert details.select_one("time")["datetime"] == "PT8S"
    assert details.select_one("time").text == "0:08"
    assert details.select_one("a")["href"] == f"{PUBLIC_URL}/media/sample-video"
    assert soup.select_one("[data-media-embed-playlist]") is None  # one item: no playlist
    assert soup.select_one("[data-media-embed-poster]") is None


def test_playlist_lists_every_item_with_its_player(preview_client):
    soup = soup_of(preview_client.get(
        "/_preview/media_embed?media=sample-video&media=sample-audio&media=sample-image"))
    links = soup.select("[data-media-embed-index]")
    assert [a.select_one(".media-embed__playlist-title").text for a in links] == [
        "Spring product tour", "Studio Sessions: theme in four chords", "Mountain lake at dusk"]
    assert [a.get("aria-current") for a in links] == ["true", None, None]
    assert [a["href"] for a in links] == [f"{PUBLIC_URL}/media/sample-{n}" for n in ("video", "audio", "image")]
    templates = soup.select("template[data-media-embed-source]")
    assert [BeautifulSoup(t.decode_contents(), "html.parser").iframe["src"] for t in templates] == [
        f"{PUBLIC_URL}/embed/sample-{n}" for n in ("video", "audio", "image")]
    assert templates[2]["data-frame-style"] == "width: 100%; max-width: 800px; aspect-ratio: 800 / 600;"
    assert [d.has_attr("hidden") for d in soup.select("[data-media-embed-details]")] == [False, True, True]


@pytest.mark.parametrize("query, style", [
    ("", "width: 100%; max-width: 640px; aspect-ratio: 640 / 360;"),
    ("&size_type=auto_full_width", "width: 100%; aspect-ratio: 640 / 360;"),
    ("&size_type=exact&width=400&height=300", "width: 100%; max-width: 400px; aspect-ratio: 400 / 300;"),
    ("&size_type=auto_custom_max&max_width=500", "width: 100%; max-width: 500px; aspect-ratio: 640 / 360;"),
    # The height limit is the tighter one: 200 * 640 / 360 = 355.
    ("&size_type=auto_custom_max&max_width=500&max_height=200",
     "width: 100%; max-width: 355px; aspect-ratio: 640 / 360;"),
])
def test_size_types_become_aspect_ratio_boxes(preview_client, query, style):
    soup = soup_of(preview_client.get("/_preview/media_embed?media=sample-video" + query))
    assert soup.select_one("[data-media-embed-frame]")["style"] == style


@pytest.mark.parametrize("size, style", [
    (EmbedSize(), "width: 100%; aspect-ratio: 16 / 9;"),
    (EmbedSize(size_type="auto_full_width"), "width: 100%; aspect-ratio: 16 / 9;"),
    (EmbedSize(size_type="auto_custom_max", max_width=500), "width: 100%; max-width: 500px; aspect-ratio: 16 / 9;"),
])
@pytest.mark.parametrize("width, height", [(None, None), ("100%", "auto")])
def test_answer_without_a_pixel_size_keeps_a_usable_16_by_9_box(size, style, width, height):
    # A rich answer may lack a pixel size; the box must not shrink to the 16:9 fallback's numbers.
    response = {"type": "rich", "html": '<iframe src="https://p.test/embed/1"></iframe>',
                "width": width, "height": height}
    field = embed_field_value("oembed", oembed_url="https://p.test/media/1", oembed_response=response, size=size)
    module = {"playlist": [{"title": "", "media": field}], "show_details": True, "poster": {}, "styles": {}}
    out = HublRenderer().render_module(_page_module_source(), module)
    assert BeautifulSoup(out.html, "html.parser").select_one("[data-media-embed-frame]")["style"] == style


def test_oembed_source_type_renders_without_crm_lookups(preview_client):
    soup = soup_of(preview_client.get("/_preview/media_embed?media=sample-video&source_type=oembed"))
    assert noscript_iframe(soup)["src"] == f"{PUBLIC_URL}/embed/sample-video"
    details = soup.select_one('[data-media-embed-details="0"]')
    assert details.select_one(".media-embed__title").text == "Spring product tour"
    assert details.select_one("time") is None  # duration comes from the media object only


def test_player_options_ride_on_the_media_url(preview_client):
    soup = soup_of(preview_client.get("/_preview/media_embed?media=sample-video&autoplay=1&muted=1"))
    assert noscript_iframe(soup)["src"] == f"{PUBLIC_URL}/embed/sample-video?autoplay=1&muted=1"


@pytest.mark.parametrize("poster, src", [
    ("1", f"{PUBLIC_URL}/static/sample/video-thumbnail.png"),
    ("https://cdn.test/poster.jpg", "https://cdn.test/poster.jpg"),
])
def test_poster_button_is_rendered_hidden_for_script_to_reveal(preview_client, poster, src):
    soup = soup_of(preview_client.get("/_preview/media_embed",
                                      query_string={"media": "sample-video", "poster": poster}))
    button = soup.select_one("button[data-media-embed-poster]")
    assert button.has_attr("hidden")  # without JavaScript the player shows instead
    assert button["aria-label"] == "Play Spring product tour"
    assert button.img["src"] == src
    assert noscript_iframe(soup) is not None


def test_unlisted_media_can_be_previewed(preview_client):
    soup = soup_of(preview_client.get("/_preview/media_embed?media=sample-document"))
    assert noscript_iframe(soup)["src"] == f"{PUBLIC_URL}/embed/sample-document"


def test_recorded_hubspot_object_id_is_the_object_id(sample_app, preview_client, tmp_path):
    sample_app.extensions["catalog"].set_hubspot_object_ids({"sample-video": "459"})
    module = tmp_path / "dump.module"
    module.mkdir()
    (module / "module.html").write_text(
        "{{ module.items|tojson }}|{{ crm_objects('a123_Videos', [459], 'hs_title').results[0].hs_title }}")
    (module / "fields.json").write_text(json.dumps([{
        "name": "items", "label": "Items", "type": "group", "occurrence": {"min": 1, "max": 3},
        "children": [{"name": "media", "label": "Media", "type": "embed",
                      "supported_source_types": ["media_bridge", "oembed"]}]}]))
    (module / "meta.json").write_text(json.dumps({"label": "Dump", "host_template_types": ["PAGE"]}))
    sample_app.config["CMS_MODULE_DIR"] = str(tmp_path)
    response = preview_client.get("/_preview/dump?media=sample-video&size_type=auto_custom_max&max_width=320")
    text = BeautifulSoup(response.get_data(as_text=True), "html.parser").select_one("#preview-module").text.strip()
    values, title = text.rsplit("|", 1)
    assert title == "Spring product tour"
    [row] = json.loads(values)
    embed = row["media"]
    assert embed["source_type"] == "media_bridge"
    assert (embed["size_type"], embed["max_width"], embed["width"], embed["height"]) == (
        "auto_custom_max", 320, 640, 360)
    mb = embed["media_bridge_object"]
    assert (mb["id"], mb["provider_id"], mb["media_type"]) == ("459", 123, "VIDEO")
    assert mb["oembed_url"] == f"{PUBLIC_URL}/media/sample-video"
    assert mb["oembed_response"]["html"].startswith("<iframe")


def test_module_assets_are_served_with_their_types(preview_client):
    css = preview_client.get("/_preview/media_embed/module.css")
    assert css.status_code == 200 and css.mimetype == "text/css" and b".media-embed" in css.data
    js = preview_client.get("/_preview/media_embed/module.js")
    assert js.status_code == 200 and js.mimetype == "text/javascript"
    assert preview_client.get("/_preview/media_email/module.css").status_code == 404
    assert preview_client.get("/_preview/media_embed/fields.json").status_code == 404


# --- refusals ------------------------------------------------------------------------------
@pytest.mark.parametrize("query, parameter", [
    ("", "media"),
    ("media=sample-video&size_type=huge", "size_type"),
    ("media=sample-video&size_type=exact&width=400", "width"),
    ("media=sample-video&size_type=auto_custom_max", "max_width"),
    ("media=sample-video&width=abc", "width"),
    ("media=sample-video&max_height=0", "max_height"),
    ("media=sample-video&max_width=99999", "max_width"),
    ("media=sample-video&max_width=" + "9" * 10_000, "max_width"),
    ("media=sample-video&size_type=exact&height=300&width=" + "1" * 10_000, "width"),
    ("media=sample-video&max_width=\u0665\u0660\u0660", "max_width"),
    ("media=sample-video&source_type=html", "source_type"),
    ("media=sample-video&poster=ftp://x.test/p.png", "poster"),
    ("media=sample-video&autoplay=yes", "autoplay"),
    ("media=sample-video&start=soon", "start"),
    ("media=sample-video&size=big", "'size'"),
    ("media=sample-video&size_type=auto&size_type=exact", "size_type"),
    ("media=sample-document&poster=1", "poster"),
    ("&".join(["media=sample-video"] * 21), "media"),
])
def test_bad_parameters_are_400_naming_the_parameter(preview_client, query, parameter):
    response = preview_client.get(f"/_preview/media_embed?{query}")
    assert response.status_code == 400
    assert parameter in response.get_data(as_text=True)


def test_email_module_takes_one_item(preview_client):
    response = preview_client.get("/_preview/media_email?media=sample-video&media=sample-audio")
    assert response.status_code == 400 and "media" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/_preview/no_such_module?media=sample-video",
                                  "/_preview/..%2Fcms_module%2Fmedia_embed?media=sample-video",
                                  "/_preview/Media_Embed?media=sample-video"])
def test_unknown_module_is_404(preview_client, path):
    assert preview_client.get(path).status_code == 404


def test_unknown_media_is_404_naming_it(preview_client):
    response = preview_client.get("/_preview/media_embed?media=sample-video&media=nope")
    assert response.status_code == 404 and "'nope'" in response.get_data(as_text=True)


# --- the email module ------------------------------------------------------------------------
def test_email_preview_is_a_linked_image_without_script_or_style(preview_client):
    soup = soup_of(preview_client.get("/_preview/media_email?media=sample-video"))
    assert not soup.find_all(["script", "style", "link", "noscript", "iframe"])
    link = soup.select_one("a.media-email__image-link")
    assert link["href"] == f"{PUBLIC_URL}/media/sample-video"
    assert link.img["src"] == f"{PUBLIC_URL}/static/sample/video-thumbnail.png"  # hs_poster_url
    assert link.img["width"] == "600"
    assert link.img["height"] == "338"  # the 640x360 video's shape: room kept while the image loads
    assert link.img["alt"] == "Play: Spring product tour"
    badge = soup.select_one("a.media-email__badge")
    assert badge["href"] == link["href"] and "(0:08)" in badge.text
    assert badge.text.startswith("\u25b6\xa0Play: ")


@pytest.mark.parametrize("external_id, verb", [("sample-image", "View"), ("sample-document", "Read")])
def test_email_badge_does_not_offer_to_play_an_image_or_a_document(preview_client, external_id, verb):
    soup = soup_of(preview_client.get(f"/_preview/media_email?media={external_id}"))
    badge = soup.select_one("a.media-email__badge")
    assert badge is None or (badge.text.startswith(f"{verb}: ") and "Play" not in badge.text)
    if external_id == "sample-image":
        assert badge is not None and soup.select_one("img.media-email__image")["alt"].startswith("View: ")


def test_email_badge_shows_hours_for_long_media(sample_app, preview_client):
    from oembed_server.domain.media import MediaItem

    webinar = MediaItem(external_id="webinar", media_type=MediaType.VIDEO, title="Webinar",
                        duration_ms=3_725_000, width=1280, height=720)
    sample_app.extensions["catalog"].upsert([webinar])
    badge = soup_of(preview_client.get("/_preview/media_email?media=webinar")).select_one("a.media-email__badge")
    assert "(1:02:05)" in badge.text


def test_email_preview_oembed_source_uses_the_live_thumbnail(preview_client):
    soup = soup_of(preview_client.get("/_preview/media_email?media=sample-image&source_type=oembed"))
    assert soup.select_one("a.media-email__image-link img")["src"] == f"{PUBLIC_URL}/static/sample/image-thumbnail.png"


def _page_module_source() -> str:
    return (PAGE_MODULE / "module.html").read_text("utf-8")


def _email_module_source() -> str:
    return (EMAIL_MODULE / "module.html").read_text("utf-8")


def _oembed_field(thumbnail: str) -> dict:
    response = {"type": "video", "version": "1.0", "title": "Stored title",
                "html": "<iframe src='https://p.test/e'></iframe>", "width": 640, "height": 360,
                "thumbnail_url": thumbnail, "thumbnail_width": 640, "thumbnail_height": 360}
    return embed_field_value("oembed", oembed_url="https://p.test/media/x", oembed_response=response, size=EmbedSize())


def test_email_module_prefers_the_live_oembed_answer():
    module = {"media": _oembed_field("https://p.test/stored.png"), "styles": {"column_width": 480}}
    live = {"title": "Live title", "thumbnail_url": "https://p.test/live.png"}
    out = HublRenderer().render_module(_email_module_source(), module, host_type=EMAIL,
                                       resolve_oembed=lambda url, w, h: live)
    img = BeautifulSoup(out.html, "html.parser").img
    assert (img["src"], img["alt"], img["width"]) == ("https://p.test/live.png", "Play: Live title", "480")


def test_email_module_falls_back_to_the_stored_oembed_answer():
    module = {"media": _oembed_field("https://p.test/stored.png"), "styles": {}}
    out = HublRenderer().render_module(_email_module_source(), module, host_type=EMAIL,
                                       resolve_oembed=lambda url, w, h: None)
    img = BeautifulSoup(out.html, "html.parser").img
    assert (img["src"], img["alt"], img["width"]) == ("https://p.test/stored.png", "Play: Stored title", "600")


# --- crm_objects: one call per media type ---------------------------------------------------
class CountingObjects:
    def __init__(self, objects):
        self._objects, self.calls = objects, []

    def objects(self, provider_id, media_type):
        self.calls.append((provider_id, MediaType(media_type)))
        return self._objects.get(MediaType(media_type), [])


def test_page_module_fetches_media_objects_once_per_object_type():
    def row(i, media_type):
        response = {"type": "video", "html": f'<iframe src="https://p.test/embed/{i}"></iframe>',
                    "width": 640, "height": 360}
        return {"title": "", "media": embed_field_value(
            "media_bridge", oembed_url=f"https://p.test/media/{i}", oembed_response=response, size=EmbedSize(),
            object_id=i, provider_id=7, media_type=media_type)}

    objects = CountingObjects({
        MediaType.VIDEO: [{"id": i, "hs_title": f"Video {i}", "hs_duration": 61_000} for i in (1, 2, 4)],
        MediaType.AUDIO: [{"id": 3, "hs_title": "Audio 3", "hs_duration": 3_600_000}],
    })
    module = {"playlist": [row(1, "VIDEO"), row(2, "VIDEO"), row(3, "AUDIO"), row(4, "VIDEO")],
              "show_details": True, "poster": {}, "styles": {}}
    out = HublRenderer().render_module(_page_module_source(), module, media_objects=objects)
    assert objects.calls == [("7", MediaType.VIDEO), ("7", MediaType.AUDIO)]
    soup = BeautifulSoup(out.html, "html.parser")
    titles = [s.text for s in soup.select(".media-embed__playlist-title")]
    assert titles == ["Video 1", "Video 2", "Audio 3", "Video 4"]
    durations = [t.text for t in soup.select(".media-embed__playlist-link time")]
    assert durations == ["1:01", "1:01", "1:00:00", "1:01"]


def test_index_links_a_preview_of_each_item(preview_client):
    soup = soup_of(preview_client.get("/"))
    hrefs = [a["href"] for a in soup.find_all("a", href=re.compile("/_preview/"))]
    assert f"{PUBLIC_URL}/_preview/media_embed?media=sample-video" in hrefs
    assert f"{PUBLIC_URL}/_preview/media_email?media=sample-video" in hrefs
    assert len(hrefs) == 12  # page and email preview and an insights link for each of the 4 sample items


def test_preview_uses_the_connected_portal(preview_client, tmp_path, monkeypatch):
    root = soup_of(preview_client.get("/_preview/media_embed?media=sample-video")).select_one("[data-media-embed]")
    assert root["data-portal-id"] == "1234567"
    # Plays in the preview then reach the portal the worker sends to (hs_portal_id).
    monkeypatch.setenv("HUBSPOT_PORTAL_ID", "98765")
    connected = make_app(migrated_sqlite_url(tmp_path / "connected.sqlite3"), PREVIEW_ENABLED=True)
    load_sample_media(connected.extensions["catalog"], PUBLIC_URL)
    page = connected.test_client().get("/_preview/media_embed?media=sample-video")
    assert soup_of(page).select_one("[data-media-embed]")["data-portal-id"] == "98765"
    connected.extensions["catalog"].dispose()
    # The settings are read once, at start: a malformed id stops the server there, named.
    monkeypatch.setenv("HUBSPOT_PORTAL_ID", "not-a-number")
    with pytest.raises(ConfigError, match="HUBSPOT_PORTAL_ID must be a whole number, got 'not-a-number'"):
        make_app(migrated_sqlite_url(tmp_path / "malformed.sqlite3"))
