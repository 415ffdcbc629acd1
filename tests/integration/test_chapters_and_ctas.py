"""Chapters and calls to action end to end: imported into the catalog (on each engine),
served as /media/<id>/chapters.vtt, linked from the media page and in its JSON-LD, drawn
only by the players of items that have them, and CTA clicks counted on the insights page."""
from __future__ import annotations

import json

import extruct
import pytest
from bs4 import BeautifulSoup

from oembed_server.domain.chapters import Chapter
from oembed_server.domain.session_links import media_insights_url
from oembed_server.domain.webvtt import parse_cues
from oembed_server.hubl import HublRenderer
from oembed_server.hubl.embed_field import EmbedSize, embed_field_value
from oembed_server.usecases.catalog_import import import_catalog
from tests.support.apps import make_app
from tests.support.cms_modules import PAGE_MODULE
from tests.support.environment import PUBLIC_URL
from tests.support.insights_links import app_link_keys

VIDEO = {"external_id": "tour", "media_type": "VIDEO", "title": "Spring tour", "duration_ms": 8000,
         "file_url": f"{PUBLIC_URL}/static/sample/video.webm",
         "thumbnail_url": f"{PUBLIC_URL}/static/sample/video-thumbnail.png"}
CHAPTERS = [{"start": 0, "title": "Welcome"}, {"start": 3, "title": "The new editor"},
            {"start": 6.5, "title": "Pricing & plans"}]
CTAS = [{"start": 1, "end": 4, "text": "Start a trial", "url": "https://example.com/trial"},
        {"start": "end", "text": "Book a demo", "url": "https://example.com/demo"}]
ROWS = [VIDEO | {"chapters": CHAPTERS, "ctas": CTAS},
        VIDEO | {"external_id": "from-file", "chapters": f"{PUBLIC_URL}/static/sample/video.chapters.vtt"},
        VIDEO | {"external_id": "plain"},
        VIDEO | {"external_id": "secret", "visibility": "private", "chapters": CHAPTERS}]


@pytest.fixture
def site(database_url):
    app = make_app(database_url)
    catalog = app.extensions["catalog"]
    problems: list = []
    outcome = import_catalog(catalog, ROWS, problems.append)
    assert problems == [] and outcome.report is not None
    yield app
    catalog.dispose()


def _soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.get_data(as_text=True)
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def test_the_catalog_keeps_chapters_and_ctas_and_a_second_import_changes_nothing(site):
    catalog = site.extensions["catalog"]
    item = catalog.get("tour")
    assert item.chapters == (Chapter(0, "Welcome"), Chapter(3, "The new editor"), Chapter(6.5, "Pricing & plans"))
    assert [cta.plain() for cta in item.ctas] == CTAS
    assert catalog.get("from-file").chapters[2] == Chapter(6, "Pricing & plans")
    assert catalog.get("plain").chapters == () and catalog.get("plain").ctas == ()
    outcome = import_catalog(catalog, ROWS, lambda problem: pytest.fail(str(problem)))
    assert outcome.report is not None and outcome.report.unchanged == len(ROWS)


def test_a_bad_key_imports_nothing_and_names_the_row(site):
    problems: list = []
    rows = [VIDEO | {"external_id": "new"}, VIDEO | {"ctas": [CTAS[0] | {"url": "http://example.com/x"}]}]
    outcome = import_catalog(site.extensions["catalog"], rows, problems.append)
    assert outcome.report is None
    assert [str(p) for p in problems] == [
        "row 2, field 'ctas': cta 1: url 'http://example.com/x' is not an absolute https URL"]
    assert site.extensions["catalog"].get("new") is None


def test_chapters_vtt_is_webvtt_of_the_catalogs_chapters(site):
    client = site.test_client()
    response = client.get("/media/tour/chapters.vtt")
    assert response.status_code == 200
    assert response.content_type == "text/vtt; charset=utf-8"
    text = response.get_data(as_text=True)
    assert "00:00:06.500 --> 00:00:08.000\nPricing &amp; plans" in text
    assert [(cue.start_seconds, cue.text) for cue in parse_cues(text)] == [
        (0, "Welcome"), (3, "The new editor"), (6.5, "Pricing & plans")]
    assert client.get("/media/plain/chapters.vtt").status_code == 404
    assert client.get("/media/nothing/chapters.vtt").status_code == 404
    assert client.get("/media/secret/chapters.vtt").status_code == 401


def test_media_page_lists_chapters_linking_to_the_page_started_there(site):
    client = site.test_client()
    soup = _soup(client.get("/media/tour"))
    links = [(a["href"], " ".join(a.text.split())) for a in soup.select(".media__chapters a")]
    assert links == [(f"{PUBLIC_URL}/media/tour?start=0", "0:00 Welcome"),
                     (f"{PUBLIC_URL}/media/tour?start=3", "0:03 The new editor"),
                     (f"{PUBLIC_URL}/media/tour?start=6.5", "0:06 Pricing & plans")]
    started = _soup(client.get("/media/tour?start=6.5"))
    assert started.select_one("iframe.media__frame")["src"] == f"{PUBLIC_URL}/embed/tour?start=6.5"
    assert _soup(client.get("/media/plain")).select_one(".media__chapters") is None
    # From an email link too: the start and the email's parameters both reach the player.
    emailed = _soup(client.get("/media/tour?start=3&play_from=email&contact_id=901"))
    src = emailed.select_one("iframe.media__frame")["src"]
    assert src.startswith(f"{PUBLIC_URL}/embed/tour?start=3&") and "play_from=email" in src and "contact_id=901" in src


def test_the_structured_data_has_a_clip_per_chapter(site):
    html = site.test_client().get("/media/tour").get_data(as_text=True)
    (video,) = extruct.extract(html, base_url=f"{PUBLIC_URL}/media/tour", syntaxes=["json-ld"])["json-ld"]
    assert [(c["@type"], c["name"], c["startOffset"], c["endOffset"], c["url"]) for c in video["hasPart"]] == [
        ("Clip", "Welcome", 0, 3, f"{PUBLIC_URL}/media/tour?start=0"),
        ("Clip", "The new editor", 3, 6.5, f"{PUBLIC_URL}/media/tour?start=3"),
        ("Clip", "Pricing & plans", 6.5, 8, f"{PUBLIC_URL}/media/tour?start=6.5")]


def _player(client, path: str) -> tuple[BeautifulSoup, dict]:
    soup = _soup(client.get(path))
    return soup, json.loads(soup.select_one("#player-config").string)


def _assets(soup: BeautifulSoup) -> set[str]:
    return ({s["src"].rsplit("/", 1)[-1] for s in soup.find_all("script", src=True)}
            | {link["href"].rsplit("/", 1)[-1] for link in soup.find_all("link", rel="stylesheet")})


def test_only_players_with_chapters_or_ctas_load_their_files(site):
    client = site.test_client()
    soup, config = _player(client, "/embed/tour")
    assert {"player-chapters.js", "player-chapters.css", "player-cta.js", "player-cta.css"} <= _assets(soup)
    track = soup.select_one('track[kind="chapters"]')
    assert track["src"] == "/media/tour/chapters.vtt" and track.has_attr("default")
    assert config["chapters"][1] == {"start": 3, "end": 6.5, "title": "The new editor"}
    assert config["ctas"] == [
        {"key": "1", "start": 1, "end": 4, "text": "Start a trial", "url": "https://example.com/trial"},
        {"key": "end", "start": None, "end": None, "text": "Book a demo", "url": "https://example.com/demo"}]
    assert config["ctaClicks"] == "/cta-clicks"

    soup, config = _player(client, "/embed/tour?ctas=0")  # the module's "Hide calls to action"
    assert "player-cta.js" not in _assets(soup) and "ctas" not in config
    assert "player-chapters.js" in _assets(soup)

    soup, config = _player(client, "/embed/plain")
    assert not {a for a in _assets(soup) if "chapters" in a or "cta" in a}
    assert soup.select_one('track[kind="chapters"]') is None and "chapters" not in config


def test_cta_clicks_are_counted_per_item_and_cta_on_the_insights_page(site):
    client = site.test_client()
    _, config = _player(client, "/embed/tour")
    token = config["events"]["token"]
    for key, expected in (("1", True), ("end", True), ("end", False)):  # a page view counts once per CTA
        response = client.post("/cta-clicks", data=json.dumps({"token": token, "cta": key}), content_type="text/plain")
        assert response.status_code == 202 and response.json == {"counted": expected}
    _, other_view = _player(client, "/embed/tour?hs_portal_id=42")
    client.post("/cta-clicks", json={"token": other_view["events"]["token"], "cta": "end"})

    insights = _soup(client.get(media_insights_url(PUBLIC_URL, app_link_keys(site), "tour").removeprefix(PUBLIC_URL)))
    rows = insights.select(".insights__ctas tr[data-cta]")
    counts = {row["data-cta"]: int(row.select_one("[data-clicks]").text) for row in rows}
    assert counts == {"1": 1, "end": 2}
    assert "Start a trial" in insights.select_one('.insights__ctas tr[data-cta="1"]').text


@pytest.mark.parametrize("body, content_type, status, field", [
    ('{"token": "forged", "cta": "1"}', "text/plain", 403, "token"),
    ('{"cta": "1"}', "text/plain", 403, "token"),
    ("not json", "text/plain", 400, "body"),
    ("[1]", "application/json", 400, "body"),
    ('{"cta": "1"}', "application/x-www-form-urlencoded", 415, "Content-Type"),
    ("x" * 5000, "text/plain", 413, "body"),
])
def test_bad_click_reports_are_refused_naming_the_field(site, body, content_type, status, field):
    response = site.test_client().post("/cta-clicks", data=body, content_type=content_type)
    assert response.status_code == status and response.json["field"] == field


def test_a_click_on_a_cta_the_item_does_not_have_is_refused(site):
    client = site.test_client()
    for path, key in (("/embed/tour", "7"), ("/embed/plain", "1"), ("/embed/tour", 1)):
        _, config = _player(client, path)
        response = client.post("/cta-clicks", json={"token": config["events"]["token"], "cta": key})
        assert response.status_code == 400 and response.json["field"] == "cta"


def test_the_page_module_field_hides_ctas_by_passing_ctas_0():
    module_html = (PAGE_MODULE / "module.html").read_text("utf-8")
    answer = {"type": "video", "html": f'<iframe src="{PUBLIC_URL}/embed/tour"></iframe>', "width": 640, "height": 360}
    field = embed_field_value("oembed", oembed_url=f"{PUBLIC_URL}/media/tour", oembed_response=answer,
                              size=EmbedSize())
    module = {"playlist": [{"title": "", "media": field}], "show_details": True, "poster": {}, "styles": {}}
    shown = BeautifulSoup(HublRenderer().render_module(module_html, module).html, "html.parser")
    assert not shown.select_one("[data-media-embed]").has_attr("data-player-ctas")
    hidden = BeautifulSoup(HublRenderer().render_module(module_html, module | {"hide_ctas": True}).html,
                           "html.parser")
    assert hidden.select_one("[data-media-embed]")["data-player-ctas"] == "0"
    fields = json.loads((PAGE_MODULE / "fields.json").read_text("utf-8"))
    assert {"name": "hide_ctas", "type": "boolean", "default": False}.items() <= next(
        f for f in fields if f["name"] == "hide_ctas").items()
