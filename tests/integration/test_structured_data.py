"""Video SEO and social cards: the media pages of public items carry schema.org JSON-LD
(read back with extruct, as a crawler would), Open Graph and an X player card;
/sitemap.xml lists them with Google's video extension. Unlisted and private items carry none."""
from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import datetime

import extruct
import pytest
from bs4 import BeautifulSoup

from oembed_server.domain.media import CaptionTrack, MediaItem, MediaType, Visibility
from oembed_server.settings import ConfigError, load_settings
from oembed_server.usecases.sample_media import load_sample_media
from oembed_server.web import sitemap_routes
from tests.support.apps import make_app

HTTPS_URL = "https://media.example"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
VIDEO = "{http://www.google.com/schemas/sitemap-video/1.1}"
# Google's required VideoObject properties, and the ones this project always sends.
GOOGLE_REQUIRED = {"name", "thumbnailUrl", "uploadDate"}
ALWAYS_SENT = {"description", "duration", "embedUrl"}


@pytest.fixture
def site(sqlite_url):
    app = make_app(sqlite_url, OEMBED_PUBLIC_URL=HTTPS_URL, OEMBED_TWITTER_SITE="@examplemedia")
    catalog = app.extensions["catalog"]
    load_sample_media(catalog, HTTPS_URL)
    yield app
    catalog.dispose()


def _add(app, item: MediaItem) -> None:
    app.extensions["catalog"].upsert([item])


def _page(app, external_id: str) -> tuple[str, dict]:
    response = app.test_client().get(f"/media/{external_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    data = extruct.extract(html, base_url=f"{HTTPS_URL}/media/{external_id}",
                           syntaxes=["json-ld", "opengraph"], uniform=True)
    return html, data


def _meta(html: str, attribute: str, prefix: str) -> dict[str, str]:
    soup = BeautifulSoup(html, "html.parser")
    return {m[attribute]: m["content"] for m in soup.find_all("meta", attrs={attribute: True})
            if m[attribute].startswith(prefix)}


def test_public_video_page_has_a_video_object_with_googles_properties(site):
    catalog = site.extensions["catalog"]
    item = catalog.get("sample-video")
    _add(site, dataclasses.replace(item, description="A short tour of the spring release & its <new> editor."))
    html, data = _page(site, "sample-video")
    [video] = data["json-ld"]
    assert video["@type"] == "VideoObject"
    assert GOOGLE_REQUIRED | ALWAYS_SENT <= set(video)
    assert video["name"] == "Spring product tour"
    assert video["description"] == "A short tour of the spring release & its <new> editor."
    assert video["thumbnailUrl"] == [f"{HTTPS_URL}/static/sample/video-thumbnail.png"]
    uploaded = datetime.fromisoformat(video["uploadDate"])
    assert uploaded.utcoffset() is not None
    assert uploaded == catalog.get("sample-video").created_at.replace(microsecond=0)
    assert video["duration"] == "PT8S"
    assert video["embedUrl"] == f"{HTTPS_URL}/embed/sample-video"  # the player, not this page
    assert video["contentUrl"] == f"{HTTPS_URL}/static/sample/video.webm"
    # The default (English) track, through the same WebVTT reader as the transcript page.
    assert video["transcript"].startswith("Narrator: Dusk over the hills: the Spring product tour begins.\n")
    assert "<i>" not in video["transcript"] and "Français" not in video["transcript"]
    assert "<new>" not in html.split('type="application/ld+json">')[1].split("</script>")[0]  # \u003c escaped

    og = data["opengraph"][0]
    assert og["@type"] == "video.other"  # extruct's uniform form: og:type as @type
    assert og["og:video"] == og["og:video:secure_url"] == f"{HTTPS_URL}/embed/sample-video"
    assert og["og:video:type"] == "text/html"
    assert (og["og:video:width"], og["og:video:height"]) == ("640", "360")
    assert og["og:image"] == f"{HTTPS_URL}/static/sample/video-thumbnail.png"
    assert og["og:description"].startswith("A short tour")

    card = _meta(html, "name", "twitter:")
    assert card["twitter:card"] == "player"
    assert card["twitter:player"] == f"{HTTPS_URL}/embed/sample-video"
    assert (card["twitter:player:width"], card["twitter:player:height"]) == ("640", "360")
    assert card["twitter:image"] == f"{HTTPS_URL}/static/sample/video-thumbnail.png"
    assert card["twitter:site"] == "@examplemedia"
    assert card["twitter:title"] == "Spring product tour"


@pytest.mark.parametrize("external_id, schema_type, has_embed", [
    ("sample-audio", "AudioObject", True), ("sample-image", "ImageObject", False),
    ("sample-document", "DigitalDocument", False)])
def test_other_media_types_get_their_schema_type(site, external_id, schema_type, has_embed):
    html, data = _page(site, external_id)
    [thing] = data["json-ld"]
    assert thing["@type"] == schema_type
    assert {"name", "description", "uploadDate", "contentUrl"} <= set(thing)
    assert ("embedUrl" in thing) is has_embed
    card = _meta(html, "name", "twitter:")
    assert card["twitter:card"] == ("player" if has_embed else
                                    "summary_large_image" if external_id == "sample-image" else "summary")


@pytest.mark.parametrize("visibility", [Visibility.UNLISTED])
def test_unlisted_pages_carry_no_structured_data_or_cards(site, visibility):
    item = site.extensions["catalog"].get("sample-video")
    _add(site, dataclasses.replace(item, visibility=visibility))
    html, data = _page(site, "sample-video")
    assert data["json-ld"] == [] and data["opengraph"] == []
    assert _meta(html, "name", "twitter:") == {} and _meta(html, "property", "og:") == {}
    assert 'application/ld+json' not in html


def test_private_items_have_no_page_and_neither_unlisted_nor_private_are_in_the_sitemap(site):
    catalog = site.extensions["catalog"]
    _add(site, dataclasses.replace(catalog.get("sample-video"), visibility=Visibility.PRIVATE))
    _add(site, dataclasses.replace(catalog.get("sample-audio"), visibility=Visibility.UNLISTED))
    client = site.test_client()
    assert client.get("/media/sample-video").status_code == 401
    root = ET.fromstring(client.get("/sitemap.xml").data)
    locs = [u.findtext(f"{SM}loc") for u in root.iter(f"{SM}url")]
    assert locs == [f"{HTTPS_URL}/media/sample-image", f"{HTTPS_URL}/media/sample-document"]


def test_transcript_is_left_out_when_the_default_track_is_not_our_own_file(site):
    item = site.extensions["catalog"].get("sample-video")
    elsewhere = CaptionTrack("https://cdn.example/captions.vtt", "en", "English", default=True)
    _add(site, dataclasses.replace(item, captions=(elsewhere,)))
    _, data = _page(site, "sample-video")
    assert "transcript" not in data["json-ld"][0]


def test_no_twitter_site_tag_without_the_setting_and_no_player_card_over_http(sqlite_url):
    app = make_app(sqlite_url)  # http://media.test, OEMBED_TWITTER_SITE unset
    load_sample_media(app.extensions["catalog"], "http://media.test")
    html = app.test_client().get("/media/sample-video").get_data(as_text=True)
    card = _meta(html, "name", "twitter:")
    assert "twitter:site" not in card
    assert card["twitter:card"] == "summary_large_image"  # X takes player cards over HTTPS only
    app.extensions["catalog"].dispose()


@pytest.mark.parametrize("value", ["examplemedia", "@", "@has space", "@" + "x" * 16, "@dash-ed"])
def test_a_bad_twitter_site_setting_is_refused_naming_the_variable(value, tmp_path):
    with pytest.raises(ConfigError, match="OEMBED_TWITTER_SITE"):
        load_settings({"OEMBED_TWITTER_SITE": value}, str(tmp_path))


def test_sitemap_has_googles_video_entries_with_escaped_text(site):
    item = site.extensions["catalog"].get("sample-video")
    _add(site, dataclasses.replace(item, title="Tom & Jerry <live> ]]> \"quoted\"",
                                   description="Cats & mice\nin two lines"))
    response = site.test_client().get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert b'xmlns:video="http://www.google.com/schemas/sitemap-video/1.1"' in response.data
    assert b"Tom &amp; Jerry &lt;live&gt; ]]&gt;" in response.data
    root = ET.fromstring(response.data)
    assert root.tag == f"{SM}urlset"
    urls = {u.findtext(f"{SM}loc"): u for u in root.iter(f"{SM}url")}
    assert set(urls) == {f"{HTTPS_URL}/media/{name}" for name in
                         ("sample-video", "sample-audio", "sample-image", "sample-document")}
    video = urls[f"{HTTPS_URL}/media/sample-video"].find(f"{VIDEO}video")
    assert video.findtext(f"{VIDEO}title") == 'Tom & Jerry <live> ]]> "quoted"'
    assert video.findtext(f"{VIDEO}description") == "Cats & mice\nin two lines"
    assert video.findtext(f"{VIDEO}thumbnail_loc") == f"{HTTPS_URL}/static/sample/video-thumbnail.png"
    assert video.findtext(f"{VIDEO}player_loc") == f"{HTTPS_URL}/embed/sample-video"
    assert video.findtext(f"{VIDEO}content_loc") == f"{HTTPS_URL}/static/sample/video.webm"
    assert video.findtext(f"{VIDEO}duration") == "8"
    # Google's video entries are for video: audio and the rest are plain URLs.
    assert urls[f"{HTTPS_URL}/media/sample-audio"].find(f"{VIDEO}video") is None
    lastmod = datetime.fromisoformat(urls[f"{HTTPS_URL}/media/sample-video"].findtext(f"{SM}lastmod"))
    assert lastmod.utcoffset() is not None


def test_a_large_catalog_gets_a_sitemap_index_of_pages(site, monkeypatch):
    monkeypatch.setattr(sitemap_routes, "SITEMAP_PAGE_SIZE", 3)
    client = site.test_client()
    index = ET.fromstring(client.get("/sitemap.xml").data)
    assert index.tag == f"{SM}sitemapindex"
    assert [s.findtext(f"{SM}loc") for s in index.iter(f"{SM}sitemap")] == [
        f"{HTTPS_URL}/sitemap.xml?page=1", f"{HTTPS_URL}/sitemap.xml?page=2"]
    first = ET.fromstring(client.get("/sitemap.xml?page=1").data)
    second = ET.fromstring(client.get("/sitemap.xml?page=2").data)
    assert len(list(first.iter(f"{SM}url"))) == 3 and len(list(second.iter(f"{SM}url"))) == 1
    for bad in ("3", "0", "x", "1" * 40):
        assert client.get(f"/sitemap.xml?page={bad}").status_code == 404


def test_an_empty_catalog_has_an_empty_sitemap(sqlite_url):
    app = make_app(sqlite_url)
    root = ET.fromstring(app.test_client().get("/sitemap.xml").data)
    assert root.tag == f"{SM}urlset" and list(root) == []
    app.extensions["catalog"].dispose()


def test_description_survives_the_catalog(site):
    item = MediaItem("described", MediaType.VIDEO, "Described", description="Line one\nline two")
    _add(site, item)
    assert site.extensions["catalog"].get("described").description == "Line one\nline two"
