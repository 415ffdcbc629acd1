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
    # The email marker (plays from email); no contact in a preview that names none.
    assert link["href"] == f"{PUBLIC_URL}/media/sample-video?play_from=email"
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


# --- any module directory (issue 21) ----------------------------------------------------------
def write_module(root: Path, name: str, html: str, fields: list, host_types=("PAGE",)) -> None:
    folder = root / f"{name}.module"
    folder.mkdir(parents=True)
    (folder / "module.html").write_text(html)
    (folder / "fields.json").write_text(json.dumps(fields))
    (folder / "meta.json").write_text(json.dumps({"label": name.title(), "host_template_types": list(host_types)}))


EMBED = {"name": "embed_field", "label": "Media", "type": "embed", "supported_source_types": ["media_bridge"]}


@pytest.fixture
def module_dir(sample_app, tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "macros.html").write_text(
        "{% macro size(f) %}{{ f.size_type }}:{{ f.width }}x{{ f.height }}:{{ f.source_type }}{% endmacro %}")
    write_module(tmp_path, "fields-demo",
                 "{% from '/design/lib/macros.html' import size %}"
                 "[{{ size(module.embed_field.media_bridge_object) }}][{{ module.mode }}][{{ module.flag }}]"
                 "[{{ module.poster.src }}|{{ module.poster.width }}][{{ module.tint.color }}][{{ module.label }}]",
                 [EMBED,
                  {"name": "mode", "label": "Mode", "type": "choice", "choices": [["a", "A"], ["b", "B"]],
                   "default": "a"},
                  {"name": "flag", "label": "Flag", "type": "boolean", "default": False},
                  {"name": "poster", "label": "Poster", "type": "image"},
                  {"name": "tint", "label": "Tint", "type": "color", "default": {"color": "", "opacity": 100}},
                  {"name": "label", "label": "Label", "type": "text", "default": "x"}])
    write_module(tmp_path, "both", "{{ module.embed_field.media_bridge_object.media_type }}", [EMBED],
                 host_types=("PAGE", "EMAIL"))
    write_module(tmp_path, "scripted", "<p>x</p>{% require_js %}<script>window.ran = 1</script>{% end_require_js %}"
                 "<script>window.blocked = 1</script>", [EMBED])
    write_module(tmp_path, "broken", "<p>one</p>\n{{ module.embed_field|no_such_filter }}", [EMBED])
    write_module(tmp_path, "missing-import", "one\n{% import '/lib/nope.html' as n %}", [EMBED])
    write_module(tmp_path, "tagged",
                 "{% media_bridge_embed media_bridge_object={{ module.embed_field.media_bridge_object }}"
                 " render_mode={{ module.mode }} %}",
                 [EMBED, {"name": "mode", "label": "Mode", "type": "choice", "default": "cached",
                          "choices": [["cached", "cached"], ["eager", "eager"], ["refetch", "refetch"]]}])
    sample_app.config["CMS_MODULE_DIR"] = str(tmp_path)
    return tmp_path


def module_text(response) -> str:
    return soup_of(response).select_one("#preview-module").text.strip()


def test_field_values_are_set_from_the_query_string(preview_client, module_dir):
    assert module_text(preview_client.get("/_preview/fields-demo?media=sample-video")) == \
        "[auto:640x360:media_bridge][a][false][|][][x]"
    text = module_text(preview_client.get(
        "/_preview/fields-demo?media=sample-video&size_type=exact&width=320&height=180&fields.mode=b"
        "&fields.flag=true&fields.poster.src=https://f.test/p.png&fields.poster.width=300"
        "&fields.tint=%23ff7a59&fields.label=hello"))
    assert text == "[exact:320x180:media_bridge][b][true][https://f.test/p.png|300][#ff7a59][hello]"


@pytest.mark.parametrize("query, named", [
    ("fields.nope=1&fields.other.x=2", "fields.nope, fields.other.x"),
    ("fields.mode=c", "fields.mode"),
    ("fields.flag=maybe", "fields.flag"),
    ("fields.poster.colour=1", "colour"),
    ("fields.poster.src=javascript:alert(1)", "fields.poster.src"),
    ("fields.poster.width=wide", "fields.poster.width"),
    ("fields.tint.color=red", "fields.tint.color"),
    ("fields.embed_field.size_type=exact", "media="),
    ("as=fax", "as"),
    ("as=email", "host_template_types"),
])
def test_bad_field_parameters_are_400_naming_them(preview_client, module_dir, query, named):
    response = preview_client.get(f"/_preview/fields-demo?media=sample-video&{query}")
    assert response.status_code == 400 and named in response.get_data(as_text=True)


def test_a_page_and_email_module_previews_as_either(preview_client, module_dir):
    page = preview_client.get("/_preview/both?media=sample-image")
    assert module_text(page) == "IMAGE" and soup_of(page).select_one("main.preview-page")
    email = preview_client.get("/_preview/both?media=sample-image&as=email")
    assert module_text(email) == "IMAGE" and not soup_of(email).select_one("main.preview-page")
    assert soup_of(preview_client.get("/_preview/both?media=sample-image&as=page")).select_one("main.preview-page")


def test_required_inline_scripts_run_by_a_per_response_nonce(preview_client, module_dir):
    first = preview_client.get("/_preview/scripted?media=sample-video")
    policy = csp_of(first)
    nonce = re.search(r"'nonce-([^']+)'", policy["script-src"]).group(1)
    scripts = soup_of(first).find_all("script")
    assert [s.get("nonce") for s in scripts if "ran" in s.text] == [nonce]
    assert [s.get("nonce") for s in scripts if "blocked" in s.text] == [None]  # refused by the policy
    second = csp_of(preview_client.get("/_preview/scripted?media=sample-video"))
    assert second["script-src"] != policy["script-src"]
    # A module with nothing inline gets the plain policy.
    assert csp_of(preview_client.get("/_preview/both?media=sample-video"))["script-src"] == "'self'"


def csp_of(response) -> dict[str, str]:
    return {p.split(" ", 1)[0]: p.split(" ", 1)[1] for p in response.headers["Content-Security-Policy"].split("; ")}


@pytest.mark.parametrize("module, file, line, construct", [
    ("broken", "broken.module/module.html", "2", "no_such_filter"),
    ("missing-import", "missing-import.module/module.html", "2", "/lib/nope.html"),
])
def test_template_errors_answer_an_error_page_naming_file_line_and_construct(
        preview_client, module_dir, module, file, line, construct):
    response = preview_client.get(f"/_preview/{module}?media=sample-video")
    assert response.status_code == 500 and response.mimetype == "text/html"
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert soup.select_one("[data-error-file]").text == file
    assert soup.select_one("[data-error-line]").text == line
    assert construct in soup.select_one("[data-error-message]").text
    assert construct in soup.select_one("[data-error-source]").text


def test_embed_tag_uses_the_local_stand_in_script(preview_client, module_dir):
    soup = soup_of(preview_client.get("/_preview/tagged?media=sample-video"))
    assert soup.select_one(".hs-mb-embed-wrapper")["data-oembed-url"] == f"{PUBLIC_URL}/media/sample-video"
    assert soup.select_one('script[src="/_preview/_embed-js/v1.js"]')
    assert not soup.find("script", src=re.compile("hsappstatic"))
    eager = soup_of(preview_client.get("/_preview/tagged?media=sample-video&fields.mode=eager"))
    assert eager.select_one(".hs-mb-iframe-wrapper iframe")["src"] == f"{PUBLIC_URL}/embed/sample-video"
    script = preview_client.get("/_preview/_embed-js/v1.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript" and b"hs_utk" in script.data


def test_preview_index_lists_the_modules_of_the_directory(preview_client, module_dir):
    soup = soup_of(preview_client.get("/_preview/"))
    assert [s["data-module"] for s in soup.select("[data-module]")] == [
        "both", "broken", "fields-demo", "missing-import", "scripted", "tagged"]
    hrefs = [a["href"] for a in soup.select("[data-module=both] a")]
    assert "/_preview/both?media=sample-video&as=email" in hrefs
    assert "/_preview/both?media=sample-video&as=page" in hrefs


def test_catalog_index_links_the_module_list_for_each_item(preview_client, module_dir):
    soup = soup_of(preview_client.get("/"))
    link = soup.select_one(".catalog__row[data-external-id='sample-audio'] a.catalog__preview")
    assert link["href"] == f"{PUBLIC_URL}/_preview/?media=sample-audio"
    listed = soup_of(preview_client.get("/_preview/?media=sample-audio"))
    assert [a["href"] for a in listed.select("[data-module=tagged] a")] == ["/_preview/tagged?media=sample-audio"]
    assert preview_client.get("/_preview/?media=nope").status_code == 404


def test_fields_inside_a_group_and_numbers_within_bounds(sample_app, preview_client, tmp_path):
    write_module(tmp_path, "grouped", "{{ module.style.size }}|{{ module.style.link.href }}|{{ module.count }}", [
        EMBED,
        {"name": "style", "label": "Style", "type": "group", "children": [
            {"name": "size", "label": "Size", "type": "number", "min": 1, "max": 10, "default": 2},
            {"name": "link", "label": "Link", "type": "url", "default": {"href": "", "type": "EXTERNAL"}}]},
        {"name": "count", "label": "Count", "type": "number", "default": 1}])
    sample_app.config["CMS_MODULE_DIR"] = str(tmp_path)
    base = "/_preview/grouped?media=sample-video"
    assert module_text(preview_client.get(base)) == "2||1"
    assert module_text(preview_client.get(
        base + "&fields.style.size=7&fields.style.link=https://x.test/a&fields.count=2.5")) == "7|https://x.test/a|2.5"
    for query, named in [("&fields.style.size=11", "fields.style.size"), ("&fields.style=1", "group"),
                         ("&fields.style.nope=1", "'nope'"), ("&fields.count=NaN", "fields.count")]:
        response = preview_client.get(base + query)
        assert response.status_code == 400 and named in response.get_data(as_text=True), query


def test_serve_with_module_dir_previews_that_directory(tmp_path, monkeypatch):
    import flask
    from click.testing import CliRunner

    from oembed_server.cli import cli

    write_module(tmp_path / "modules", "mine", "<p>{{ module.embed_field.media_bridge_object.media_type }}</p>",
                 [EMBED])
    monkeypatch.setattr(flask.Flask, "auto_find_instance_path", lambda self: str(tmp_path / "instance"))
    served = []
    monkeypatch.setattr("oembed_server.cli.commands.run_simple", lambda *args, **kwargs: served.append(args))
    result = CliRunner().invoke(cli, ["serve", "--port", "5998", "--module-dir", str(tmp_path / "modules")])
    assert result.exit_code == 0, result.output
    assert "Module previews: http://127.0.0.1:5998/_preview/" in result.output
    app = served[0][2]
    client = app.test_client()
    assert [s["data-module"] for s in soup_of(client.get("/_preview/")).select("[data-module]")] == ["mine"]
    assert module_text(client.get("/_preview/mine?media=sample-audio")) == "AUDIO"
    assert client.get("/_preview/media_embed?media=sample-video").status_code == 404  # ours are not there
    app.extensions["catalog"].dispose()
    missing = CliRunner().invoke(cli, ["serve", "--module-dir", str(tmp_path / "nope")])
    assert missing.exit_code != 0 and "nope" in missing.output


def test_a_module_whose_fields_json_is_broken_answers_the_error_page(sample_app, preview_client, tmp_path):
    write_module(tmp_path, "bad-json", "<p>x</p>", [EMBED])
    (tmp_path / "bad-json.module" / "fields.json").write_text("[{")
    sample_app.config["CMS_MODULE_DIR"] = str(tmp_path)
    response = preview_client.get("/_preview/bad-json?media=sample-video")
    assert response.status_code == 500 and response.mimetype == "text/html"
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert soup.select_one("[data-error-file]").text == "bad-json.module/fields.json"
    assert "not valid JSON" in soup.select_one("[data-error-message]").text
    assert [s["data-module"] for s in soup_of(preview_client.get("/_preview/")).select("[data-module]")] == []
