"""The oEmbed endpoint over HTTP (Flask test client), and the service function behind it."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup

from oembed_server.domain.media import MediaType
from oembed_server.usecases.oembed_answer import OEmbedError, answer_oembed_request
from tests.support.apps import make_app
from tests.support.oembed_fixtures import XSS_TITLE, add_items, media_item, media_url, oembed_path

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"


@pytest.fixture
def items(app):
    add_items(
        app,
        media_item("clip", width=720, height=720, author_name="Ann",
                   thumbnail_url="http://media.test/t.png", thumbnail_width=320, thumbnail_height=320),
        media_item("clip 1+2", title="Spaces and plus"),
        media_item("café ☕", media_type=MediaType.AUDIO, title="Unicode id"),
        media_item("secret", visibility="private"),
        media_item("hidden", visibility="unlisted", title="Unlisted"),
        media_item("xss", title=XSS_TITLE, media_type=MediaType.IMAGE, width=800, height=600),
    )
    return app


@pytest.fixture
def client(items):
    return items.test_client()


def get_json(client, path, status=200, **kwargs):
    response = client.get(path, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == JSON_TYPE
    return response, json.loads(response.get_data(as_text=True))


def get_xml(client, path, status=200):
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == XML_TYPE
    return response, ET.fromstring(response.data)


# --- success --------------------------------------------------------------------------------
def test_json_answer(client):
    response, body = get_json(client, oembed_path(media_url("clip")))
    assert body["type"] == "video" and body["version"] == "1.0"
    assert body["title"] == "Title of clip"
    assert body["provider_name"] == "Example Media" and body["provider_url"] == "http://media.test"
    assert body["author_name"] == "Ann"
    assert (body["width"], body["height"]) == (720, 720)
    assert isinstance(body["width"], int) and isinstance(body["height"], int)
    assert BeautifulSoup(body["html"], "html.parser").iframe["src"] == "http://media.test/embed/clip"
    assert body["thumbnail_url"] == "http://media.test/t.png"


def test_720_square_at_maxwidth_400_comes_back_400_square(client):
    _, body = get_json(client, oembed_path(media_url("clip"), maxwidth="400"))
    assert (body["width"], body["height"]) == (400, 400)
    _, body = get_json(client, oembed_path(media_url("clip"), maxwidth="400", maxheight="100"))
    assert (body["width"], body["height"]) == (100, 100)


def test_no_upscaling_and_thumbnail_omitted_when_too_big(client):
    _, body = get_json(client, oembed_path(media_url("clip"), maxwidth="5000", maxheight="5000"))
    assert (body["width"], body["height"]) == (720, 720)
    assert body["thumbnail_width"] == 320
    _, body = get_json(client, oembed_path(media_url("clip"), maxwidth="300"))
    assert (body["width"], body["height"]) == (300, 300)
    assert not {"thumbnail_url", "thumbnail_width", "thumbnail_height"} & body.keys()


def test_headers(client):
    response, _ = get_json(client, oembed_path(media_url("clip")))
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "X-Frame-Options" not in response.headers


def test_cache_control_agrees_with_cache_age(sqlite_url):
    app = make_app(sqlite_url, OEMBED_CACHE_AGE="120")
    try:
        add_items(app, media_item("clip"))
        response, body = get_json(app.test_client(), oembed_path(media_url("clip")))
        assert body["cache_age"] == 120
        assert response.headers["Cache-Control"] == "public, max-age=120"
    finally:
        app.extensions["catalog"].dispose()


def test_etag_and_if_none_match(client):
    path = oembed_path(media_url("clip"))
    first = client.get(path)
    etag = first.headers["ETag"]
    assert client.get(path).headers["ETag"] == etag  # deterministic
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "public, max-age=3600"
    assert client.get(path, headers={"If-None-Match": '"something-else"'}).status_code == 200
    assert client.get(path, headers={"If-None-Match": f'"x", {etag}'}).status_code == 304
    # A different answer has a different tag.
    assert client.get(oembed_path(media_url("clip"), maxwidth="100")).headers["ETag"] != etag
    assert client.get(oembed_path(media_url("clip"), format="xml")).headers["ETag"] != etag


def test_etag_changes_when_the_item_changes(items, client):
    path = oembed_path(media_url("clip 1+2"))
    before = client.get(path).headers["ETag"]
    add_items(items, media_item("clip 1+2", title="Renamed"))
    after = client.get(path, headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["ETag"] != before


def test_head_has_headers_without_body(client):
    response = client.head(oembed_path(media_url("clip")))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSON_TYPE
    assert response.data == b""


def test_xml_answer_by_argument_and_by_path(client):
    for path in (oembed_path(media_url("clip"), format="xml"),
                 oembed_path(media_url("clip"), endpoint="/oembed.xml"),
                 oembed_path(media_url("clip"), endpoint="/oembed.xml", format="json")):
        response, root = get_xml(client, path)
        assert root.tag == "oembed"
        assert root.findtext("type") == "video"
        assert root.findtext("version") == "1.0"
        assert root.findtext("width") == "720"
        assert BeautifulSoup(root.findtext("html"), "html.parser").iframe["src"] == "http://media.test/embed/clip"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Cache-Control"] == "public, max-age=3600"


def test_json_path_ignores_format(client):
    get_json(client, oembed_path(media_url("clip"), endpoint="/oembed.json", format="xml"))
    get_json(client, oembed_path(media_url("clip"), endpoint="/oembed.json", format="yaml"))


def test_format_is_case_insensitive_and_json_by_default(client):
    get_xml(client, oembed_path(media_url("clip"), format="XML"))
    get_json(client, oembed_path(media_url("clip"), format=""))


def test_unknown_arguments_are_ignored(client):
    _, body = get_json(client, oembed_path(media_url("clip"), callback="evil", foo="bar", maxwidth="400"))
    assert body["width"] == 400


@pytest.mark.parametrize("url, expected_id", [
    ("http://media.test/embed/clip", "clip"),
    ("http://media.test/media/clip/", "clip"),
    ("http://media.test/media/clip?utm_source=mail#t=10", "clip"),
    ("http://media.test/media/clip%201%2B2", "clip 1+2"),
    ("http://media.test/media/caf%C3%A9%20%E2%98%95", "café ☕"),
    ("http://media.test/media/café ☕".replace(" ", "%20"), "café ☕"),
])
def test_url_forms(client, url, expected_id):
    _, body = get_json(client, oembed_path(url))
    src = BeautifulSoup(body["html"], "html.parser").iframe["src"]
    assert src == f"http://media.test/embed/{quote(expected_id, safe='')}"


def test_https_url_only_when_configured(client, sqlite_url):
    get_json(client, oembed_path("https://media.test/media/clip"), status=404)
    app = make_app(sqlite_url, OEMBED_URL_SCHEMES="http://media.test/media/*,https://media.test/media/*")
    try:
        add_items(app, media_item("clip"))
        get_json(app.test_client(), oembed_path("https://media.test/media/clip"))
    finally:
        app.extensions["catalog"].dispose()


def test_player_options_from_arguments_and_media_url(client):
    _, body = get_json(client, oembed_path(media_url("clip"), autoplay="1", start="30", loop="maybe"))
    assert BeautifulSoup(body["html"], "html.parser").iframe["src"] == \
        "http://media.test/embed/clip?autoplay=1&start=30"
    _, body = get_json(client, oembed_path(media_url("clip") + "?muted=true&start=5", start="7"))
    # Explicit arguments win over the media URL's own.
    assert BeautifulSoup(body["html"], "html.parser").iframe["src"] == \
        "http://media.test/embed/clip?muted=1&start=7"


def test_unlisted_resolves_by_url(client):
    _, body = get_json(client, oembed_path(media_url("hidden")))
    assert body["title"] == "Unlisted"


def test_xss_title_is_inert_in_json_and_xml(client):
    _, body = get_json(client, oembed_path(media_url("xss")))
    assert body["title"] == XSS_TITLE
    soup = BeautifulSoup(body["html"], "html.parser")
    assert soup.find("script") is None
    assert [t.name for t in soup.find_all(True)] == ["iframe"]
    assert soup.iframe["title"] == XSS_TITLE
    response, root = get_xml(client, oembed_path(media_url("xss"), format="xml"))
    assert b"<script>" not in response.data
    assert root.findtext("title") == XSS_TITLE
    assert [child.tag for child in root].count("title") == 1
    assert BeautifulSoup(root.findtext("html"), "html.parser").find("script") is None


# --- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("query, status, fragment", [
    ("", 400, "url is required"),
    ("url=", 400, "url is required"),
    ("url=not%20a%20url", 400, "url"),
    ("url=ftp%3A%2F%2Fmedia.test%2Fmedia%2Fclip", 400, "http"),
    ("url=http%3A%2F%2F%5B%3A%3A1%2Fmedia%2Fclip", 400, "valid URL"),
    ("url=http%3A%2F%2Fmedia.test%2Fmedia%2Fclip%00", 400, "control"),
    ("url=http%3A%2F%2Fmedia.test%2Fmedia%2Fclip&maxwidth=0", 400, "maxwidth"),
    ("url=http%3A%2F%2Fmedia.test%2Fmedia%2Fclip&maxwidth=-10", 400, "maxwidth"),
    ("url=http%3A%2F%2Fmedia.test%2Fmedia%2Fclip&maxheight=1.5", 400, "maxheight"),
    ("url=http%3A%2F%2Fmedia.test%2Fmedia%2Fclip&maxheight=abc", 400, "maxheight"),
    ("url=http%3A%2F%2Fmedia.test%2Fmedia%2Fclip&maxwidth=1_000", 400, "maxwidth"),
    ("url=http%3A%2F%2Fmedia.test%2Fmedia%2Fnope", 404, "no media"),
    ("url=http%3A%2F%2Fother.test%2Fmedia%2Fclip", 404, "scheme"),
    ("url=http%3A%2F%2Fmedia.test%2Fmedia%2Fsecret", 401, "private"),
    ("url=http%3A%2F%2Fmedia.test%2Fmedia%2Fclip&format=yaml", 501, "format"),
])
def test_errors_have_status_and_json_body(client, query, status, fragment):
    response, body = get_json(client, f"/oembed?{query}", status=status)
    assert body["status"] == status
    assert fragment in body["message"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers


@pytest.mark.parametrize("path, status", [
    ("/oembed.xml", 400),
    ("/oembed.xml?url=http%3A%2F%2Fmedia.test%2Fmedia%2Fnope", 404),
    ("/oembed.xml?url=http%3A%2F%2Fmedia.test%2Fmedia%2Fsecret", 401),
    ("/oembed?format=xml&url=http%3A%2F%2Fmedia.test%2Fmedia%2Fnope", 404),
])
def test_xml_errors_have_xml_bodies(client, path, status):
    _, root = get_xml(client, path, status=status)
    assert root.tag == "error"
    assert root.findtext("status") == str(status)
    assert root.findtext("message")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path, content_type", [
    ("/oembed", JSON_TYPE), ("/oembed.json", JSON_TYPE), ("/oembed.xml", XML_TYPE),
])
def test_other_methods_get_405_with_body_and_allow(client, method, path, content_type):
    response = getattr(client, method)(path + "?url=http%3A%2F%2Fmedia.test%2Fmedia%2Fclip")
    assert response.status_code == 405
    assert response.headers["Content-Type"] == content_type
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "HEAD"}
    assert "POST" not in response.headers["Allow"]
    assert "not allowed" in response.get_data(as_text=True)


def test_405_elsewhere_keeps_the_default(client):
    response = client.post("/media/clip")
    assert response.status_code == 405
    assert response.headers["Content-Type"].startswith("text/html")


def test_options_preflight_allows_cross_origin(client):
    response = client.options("/oembed", headers={"Origin": "https://site.example",
                                                  "Access-Control-Request-Method": "GET"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("query", [
    "url=%FF%FE%00",                                          # not UTF-8, NUL
    "url=http%3A%2F%2Fmedia.test%2Fmedia%2F%FF",
    "url=http://media.test/media/clip&maxwidth=" + "9" * 5000,  # more digits than int() accepts
    "url=http://media.test/media/clip&maxwidth=%EF%BC%91",      # full-width digit one
    "url=http://media.test/media/clip&url=http://other.test/x",  # repeated: the first counts
    "url=" + "a" * 10000,
    "url=http://media.test/media/" + "x" * 300,
    "url=http://media.test:99999/media/clip",
    "url=http://media.test/media/clip&start=%00&autoplay=%FF",
    "url=http://media.test/media/clip&format=%00",
])
def test_hostile_input_never_500(client, query):
    for path in ("/oembed", "/oembed.xml"):
        response = client.get(f"{path}?{query}")
        assert response.status_code in (200, 400, 404, 501), response.data
        assert response.get_data(as_text=True).strip()


def test_huge_maxwidth_means_no_limit(client):
    _, body = get_json(client, f"/oembed?url=http://media.test/media/clip&maxwidth={'9' * 5000}")
    assert body["width"] == 720


def test_repeated_url_uses_the_first(client):
    _, body = get_json(client, "/oembed?url=http://media.test/media/clip&url=http://other.test/x")
    assert body["title"] == "Title of clip"


# --- the service function ---------------------------------------------------------------------
def service(app, url, **kwargs):
    return answer_oembed_request(url, catalog=app.extensions["catalog"], settings=app.extensions["oembed_settings"],
                                 matcher=app.extensions["url_matcher"], **kwargs)


def test_service_accepts_ints_and_strings(items):
    assert service(items, media_url("clip"), maxwidth=400)["width"] == 400
    assert service(items, media_url("clip"), maxwidth="400", maxheight=" 200 ")["height"] == 200


@pytest.mark.parametrize("url, kwargs, status", [
    (None, {}, 400),
    ("http://media.test/media/clip", {"maxwidth": 0}, 400),
    ("http://media.test/media/clip", {"maxheight": -1}, 400),
    ("http://media.test/media/clip", {"maxwidth": True}, 400),
    ("http://media.test/media/clip", {"maxwidth": 1.5}, 400),
    ("http://media.test/media/unknown", {}, 404),
    ("http://media.test/media/secret", {}, 401),
])
def test_service_errors(items, url, kwargs, status):
    with pytest.raises(OEmbedError) as caught:
        service(items, url, **kwargs)
    assert caught.value.status == status
    assert caught.value.message


def test_service_passes_player_options(items):
    body = service(items, media_url("clip"), player_options={"autoplay": "1", "muted": "bogus"})
    assert "embed/clip?autoplay=1\"" in body["html"]
