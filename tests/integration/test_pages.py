"""HTML pages: catalog index, media page (discovery, Open Graph) and the embeddable player page."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from oembed_server.domain.media import MediaType
from tests.support.apps import make_app
from tests.support.oembed_fixtures import XSS_TITLE, add_items, media_item

STATIC = Path(__file__).resolve().parents[2] / "oembed_server" / "web" / "static"


@pytest.fixture
def items(app):
    add_items(
        app,
        media_item("clip", width=1280, height=720, duration_ms=83_000, author_name="Ann",
                   author_url="https://ann.example/", thumbnail_url="http://media.test/t.png",
                   thumbnail_width=640, thumbnail_height=360, poster_url="http://media.test/p.png"),
        media_item("song", media_type=MediaType.AUDIO, file_url="http://media.test/static/sample/audio.mp3",
                   poster_url="http://media.test/p.png"),
        media_item("pic", media_type=MediaType.IMAGE, file_url="http://media.test/static/sample/image.png",
                   width=800, height=600),
        media_item("doc", media_type=MediaType.DOCUMENT, file_url="http://media.test/static/sample/document.pdf"),
        media_item("misc", media_type=MediaType.OTHER, file_url="http://media.test/files/data.zip"),
        media_item("nofile", file_url=None),
        media_item("secret", visibility="private"),
        media_item("hidden", visibility="unlisted", title="Unlisted clip"),
        media_item("xss", title=XSS_TITLE, thumbnail_url="http://media.test/t.png?a=1&b=2",
                   thumbnail_width=10, thumbnail_height=10),
        media_item("clip 1+2", title="Encoded id"),
    )
    return app


@pytest.fixture
def client(items):
    return items.test_client()


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


# Data blocks: browsers never run them (the title in them is JSON, its "<" escaped).
DATA_SCRIPT_TYPES = ("application/json", "application/ld+json")


def assert_no_injected_script(soup: BeautifulSoup):
    for script in soup.find_all("script"):
        assert "alert(1)" not in (script.string or "") or script.get("type") in DATA_SCRIPT_TYPES
        assert "</script" not in (script.string or "").lower()
    assert not soup.find_all(lambda tag: tag.name == "script" and tag.get("type") not in DATA_SCRIPT_TYPES
                             and tag.get("src") is None)


# --- index --------------------------------------------------------------------------------------
def test_index_lists_items_with_their_links(client):
    response = client.get("/")
    assert response.status_code == 200
    soup = soup_of(response)
    row = soup.find("tr", attrs={"data-external-id": "clip 1+2"})
    hrefs = [a["href"] for a in row.find_all("a")]
    assert "http://media.test/media/clip%201%2B2" in hrefs
    assert "http://media.test/embed/clip%201%2B2" in hrefs
    oembed_links = [urlsplit(h) for h in hrefs if urlsplit(h).path == "/oembed"]
    assert sorted(parse_qs(u.query)["format"][0] for u in oembed_links) == ["json", "xml"]
    assert all(parse_qs(u.query)["url"] == ["http://media.test/media/clip%201%2B2"] for u in oembed_links)
    assert not soup.find("a", class_="catalog__preview")  # PREVIEW_ENABLED is off by default


def test_index_links_the_preview_when_enabled(sqlite_url):
    app = make_app(sqlite_url, PREVIEW_ENABLED=True)
    try:
        add_items(app, media_item("clip 1+2"))
        link = soup_of(app.test_client().get("/")).find("a", class_="catalog__preview")
        assert link["href"] == "http://media.test/_preview/media_embed?media=clip+1%2B2"
    finally:
        app.extensions["catalog"].dispose()


def test_index_lists_public_items_only(client):
    rows = soup_of(client.get("/")).find_all("tr", class_="catalog__row")
    listed = {r["data-external-id"] for r in rows}
    assert "clip 1+2" in listed
    assert not {"secret", "hidden"} & listed  # unlisted resolve by URL only; private not at all
    assert client.get("/media/hidden").status_code == 200


def test_index_is_paginated(app):
    add_items(app, *[media_item(f"item-{n:03d}") for n in range(120)])
    client = app.test_client()
    first = soup_of(client.get("/"))
    assert len(first.find_all("tr", class_="catalog__row")) == 50
    assert "Page 1 of 3" in first.get_text()
    third = soup_of(client.get(first.find("a", rel="last")["href"]))
    rows = third.find_all("tr", class_="catalog__row")
    assert [r["data-external-id"] for r in rows] == [f"item-{n:03d}" for n in range(100, 120)]
    assert third.find("a", rel="prev")
    assert client.get("/?page=4").status_code == 404
    assert client.get("/?page=abc").status_code == 200
    assert client.get("/?page=" + "9" * 50).status_code == 200


def test_index_of_an_empty_catalog(app):
    response = app.test_client().get("/")
    assert response.status_code == 200
    assert "catalog is empty" in response.get_data(as_text=True)


# --- media page -----------------------------------------------------------------------------------
def test_media_page_discovery_links_and_headers(client):
    response = client.get("/media/clip%201%2B2")
    assert response.status_code == 200
    soup = soup_of(response)
    links = soup.head.find_all("link", rel="alternate")
    by_type = {link["type"]: link for link in links}
    assert set(by_type) == {"application/json+oembed", "text/xml+oembed"}
    for mime, fmt in (("application/json+oembed", "json"), ("text/xml+oembed", "xml")):
        href = urlsplit(by_type[mime]["href"])
        assert (href.scheme, href.netloc, href.path) == ("http", "media.test", "/oembed")  # absolute
        assert parse_qs(href.query) == {"url": ["http://media.test/media/clip%201%2B2"], "format": [fmt]}
        assert by_type[mime]["title"] == "Encoded id"
    headers = response.headers.getlist("Link")
    assert len(headers) == 2
    for header in headers:
        target = re.match(r"<([^>]+)>", header).group(1)
        assert target in {link["href"] for link in links}
        assert 'rel="alternate"' in header and 'title="Encoded id"' in header


def test_discovery_link_answers(client):
    soup = soup_of(client.get("/media/clip"))
    for link in soup.head.find_all("link", rel="alternate"):
        response = client.get(link["href"].removeprefix("http://media.test"))
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith(link["type"].replace("+oembed", ""))


def test_media_page_open_graph_and_details(client):
    soup = soup_of(client.get("/media/clip"))
    og = {m["property"]: m["content"] for m in soup.find_all("meta", property=True)}
    assert og["og:title"] == "Title of clip"
    assert og["og:type"] == "video.other"
    assert og["og:url"] == "http://media.test/media/clip"
    assert og["og:image"] == "http://media.test/t.png"
    assert og["og:video"] == "http://media.test/embed/clip"
    assert (og["og:video:width"], og["og:video:height"]) == ("1280", "720")
    frame = soup.find("iframe", class_="media__frame")
    assert frame["src"] == "http://media.test/embed/clip"
    assert (frame["width"], frame["height"]) == ("960", "540")
    text = soup.get_text()
    assert "1:23" in text and "Ann" in text
    assert soup.find("a", href="https://ann.example/")


def test_media_page_link_header_survives_non_ascii_titles(app):
    add_items(app, media_item("u", title='Café "quoted"\nline'))
    response = app.test_client().get("/media/u")
    assert response.status_code == 200
    assert all("title*=UTF-8''Caf%C3%A9" in h for h in response.headers.getlist("Link"))


def test_media_page_unknown_private_unlisted(client):
    assert client.get("/media/nope").status_code == 404
    assert "not found" in client.get("/media/nope").get_data(as_text=True).lower()
    private = client.get("/media/secret")
    assert private.status_code == 401
    assert "Title of secret" not in private.get_data(as_text=True)
    assert "Link" not in private.headers
    assert client.get("/media/hidden").status_code == 200


def test_media_page_trailing_slash_redirects(client):
    response = client.get("/media/clip/?x=1")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/media/clip?x=1")


# --- embed page -------------------------------------------------------------------------------------
def player(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.data
    soup = soup_of(response)
    return response, soup, soup.find(id="player")


@pytest.mark.parametrize("external_id, tag", [
    ("clip", "video"), ("song", "audio"), ("pic", "img"), ("doc", "div"), ("misc", "div"), ("nofile", "div"),
])
def test_embed_page_player_per_type(client, external_id, tag):
    _, soup, element = player(client, f"/embed/{external_id}")
    assert element.name == tag
    assert element["data-external-id"] == external_id
    assert element["data-media-type"] in {t.value for t in MediaType}
    if tag in ("video", "audio"):
        assert element.has_attr("controls")  # native controls are keyboard-usable
        assert not element.has_attr("autoplay")


def test_document_is_drawn_by_pdfjs_with_a_link_and_a_download(client):
    _, soup, element = player(client, "/embed/doc")
    pdf = "http://media.test/static/sample/document.pdf"
    assert element["data-document-src"] == pdf
    assert element.find("a", href=pdf, target="_blank")  # until PDF.js draws, and without script
    assert element.find("a", href=pdf, download=True).text == "Download"
    assert element.find("canvas", attrs={"data-document-canvas": True})
    [module] = soup.find_all("script", type="module")
    assert module["src"] == "/static/player-document.js"


def test_pdfjs_is_loaded_only_by_document_players(client):
    for external_id in ("clip", "song", "pic", "misc"):
        _, soup, _ = player(client, f"/embed/{external_id}")
        assert "player-document" not in str(soup) and "pdfjs" not in str(soup)


def test_other_is_a_link(client):
    _, soup, element = player(client, "/embed/misc")
    assert element.find("a", href="http://media.test/files/data.zip")


def test_embed_page_honours_player_options(client):
    _, soup, video = player(client, "/embed/clip?autoplay=1&muted=true&loop=1&start=12.5")
    assert video.has_attr("autoplay") and video.has_attr("muted") and video.has_attr("loop")
    assert video["src"].endswith("#t=12.5")
    config = json.loads(soup.find("script", id="player-config").string)
    assert config["options"] == {"autoplay": True, "muted": True, "loop": True, "start": 12.5}
    _, _, video = player(client, "/embed/clip?autoplay=no&start=-4")
    assert not video.has_attr("autoplay") and "#t=" not in video["src"]


def test_embed_page_exposes_hubspot_parameters_to_its_script(client):
    path = ("/embed/clip?hs_utk=abc123&hs_portal_id=987&hs_page_id=55&hs_page_url=https%3A%2F%2Fsite.example%2Fp"
            "&hs_page_name=Landing&other=ignored")
    response, soup, _ = player(client, path)
    config = json.loads(soup.find("script", type="application/json", id="player-config").string)
    assert config["tracking"] == {"hs_utk": "abc123", "hs_portal_id": "987", "hs_page_id": "55",
                                  "hs_page_url": "https://site.example/p", "hs_page_name": "Landing"}
    assert config["externalId"] == "clip" and config["mediaType"] == "VIDEO"
    assert response.headers["Cache-Control"].startswith("private")


def test_embed_page_tracking_values_cannot_break_out(client):
    response, soup, _ = player(client, "/embed/clip?hs_utk=%3C%2Fscript%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert "</script><script>alert(1)" not in response.get_data(as_text=True)
    config = json.loads(soup.find("script", id="player-config").string)
    assert config["tracking"]["hs_utk"] == "</script><script>alert(1)</script>"
    assert_no_injected_script(soup)


def test_embed_page_is_frameable_and_self_contained(client):
    response, soup, _ = player(client, "/embed/clip")
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors" not in response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]  # no inline or foreign scripts
    for tag, attr in (("script", "src"), ("link", "href")):
        for node in soup.find_all(tag, **{attr: True}):
            if tag == "link" and node.get("rel") == ["canonical"]:
                continue
            assert node[attr].startswith("/static/"), node  # assets come from this app only


def test_static_assets_make_no_external_requests(client):
    for name in ("player.js", "player.css", "site.css"):
        text = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://|//[a-z]|@import|fetch\(|XMLHttpRequest", text), name
        assert client.get(f"/static/{name}").status_code == 200


def test_embed_page_unknown_private_unlisted(client):
    assert client.get("/embed/nope").status_code == 404
    private = client.get("/embed/secret")
    assert private.status_code == 401
    assert BeautifulSoup(private.data, "html.parser").find(id="player") is None
    _, _, element = player(client, "/embed/hidden")
    assert element.name == "video"


def test_embed_page_percent_encoded_id(client):
    _, _, element = player(client, "/embed/clip%201%2B2")
    assert element["data-external-id"] == "clip 1+2"


def test_embed_trailing_slash_redirects_keeping_options(client):
    response = client.get("/embed/clip/?autoplay=1")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/embed/clip?autoplay=1")


# --- XSS on both pages ----------------------------------------------------------------------------
def test_xss_title_is_inert_on_the_media_page(client):
    response = client.get("/media/xss")
    assert response.status_code == 200
    soup = soup_of(response)
    assert_no_injected_script(soup)
    assert soup.find("h1").get_text() == XSS_TITLE
    assert {link["title"] for link in soup.find_all("link", rel="alternate")} == {XSS_TITLE}
    assert soup.find("meta", property="og:title")["content"] == XSS_TITLE
    assert soup.find("meta", property="og:image")["content"] == "http://media.test/t.png?a=1&b=2"
    assert soup.find("iframe")["title"] == XSS_TITLE
    assert all(h.isascii() for h in response.headers.getlist("Link"))


def test_xss_title_is_inert_on_the_embed_page(client):
    response = client.get("/embed/xss")
    soup = soup_of(response)
    assert_no_injected_script(soup)
    assert soup.title.get_text() == XSS_TITLE
    assert soup.find(id="player")["aria-label"] == XSS_TITLE
    config = json.loads(soup.find("script", id="player-config").string)
    assert config["title"] == XSS_TITLE
    assert "<script>alert(1)" not in response.get_data(as_text=True)


def test_xss_title_is_inert_on_the_index(client):
    soup = soup_of(client.get("/"))
    assert_no_injected_script(soup)
    assert soup.find("tr", attrs={"data-external-id": "xss"}).find("a").get_text() == XSS_TITLE


@pytest.mark.parametrize("path", ["/media/%00", "/embed/%00", "/media/a%01b", "/embed/" + "z" * 300])
def test_ids_that_cannot_exist_are_404_not_500(database_url, path):
    app = make_app(database_url)
    try:
        assert app.test_client().get(path).status_code == 404
    finally:
        app.extensions["catalog"].dispose()


def test_random_ids_on_the_pages_never_500(database_url):
    from urllib.parse import quote

    from hypothesis import given, settings
    from hypothesis import strategies as st

    app = make_app(database_url)
    app.testing = False  # let a server error surface as a 500, not an exception
    client = app.test_client()

    @settings(max_examples=150, deadline=None)
    @given(st.text(max_size=260), st.sampled_from(["/media/", "/embed/"]))
    def check(external_id, prefix):
        response = client.get(prefix + quote(external_id, safe=""))
        assert response.status_code in (200, 308, 404), (external_id, response.status_code)

    try:
        check()
    finally:
        app.extensions["catalog"].dispose()


# --- site chrome: 404 page, favicon, descriptions -------------------------------------------------
@pytest.mark.parametrize("path", ["/nope", "/static/nope.css", "/media", "/_preview/media_embed"])
def test_unknown_paths_get_the_sites_own_404_page(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.mimetype == "text/html"
    soup = soup_of(response)
    assert soup.h1.text == "Page not found"
    assert soup.find("a", class_="site-header__name") and soup.find("a", string="Browse the catalog")


def test_favicon_is_served_and_linked(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/x-icon" and icon.data[:4] == b"\x00\x00\x01\x00"
    for path in ("/", "/media/clip", "/embed/clip", "/nope"):
        link = soup_of(client.get(path)).find("link", rel="icon")
        assert link is not None and client.get(link["href"]).status_code == 200, path


def test_media_and_player_pages_describe_the_item(client):
    for path in ("/media/clip", "/embed/clip"):
        soup = soup_of(client.get(path))
        description = soup.find("meta", attrs={"name": "description"})["content"]
        assert description == "Title of clip – Video, 1:23, by Ann from Example Media.", path
    assert soup_of(client.get("/")).find("meta", attrs={"name": "description"})["content"]


def test_details_link_never_points_at_the_page_itself(app):
    add_items(app, media_item("self", details_page_link="http://media.test/media/self"),
              media_item("other", details_page_link="https://admin.example/m/1"))
    client = app.test_client()
    labels = [dt.text for dt in soup_of(client.get("/media/self")).select(".media__details dt")]
    assert "Details" not in labels
    other = soup_of(client.get("/media/other"))
    assert other.find("a", href="https://admin.example/m/1")
