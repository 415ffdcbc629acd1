"""Security headers: nosniff and Referrer-Policy on everything, a CSP on every HTML page
(strict and unframeable by default, frameable for the player), 401 challenges, no Host
echo in redirects, and database faults answered without detail."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Response

from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.web.security_headers import REFERRER_POLICY
from tests.support.apps import make_app
from tests.support.oembed_fixtures import add_items, media_item

PLAYER_NEEDS = ("connect-src 'self' http: https:", "worker-src 'self' blob:",
                "media-src 'self' http: https: data: blob:", "img-src 'self' http: https: data: blob:",
                "script-src 'self';")


@pytest.fixture
def app(sqlite_url):
    app = make_app(sqlite_url, PREVIEW_ENABLED=True)

    @app.get("/_test/new-page")  # stands in for a page another blueprint adds later
    def new_page():
        return "<!doctype html><title>new</title>"

    add_items(app, media_item("clip", width=640, height=360), media_item("secret", visibility="private"))
    yield app
    app.extensions["catalog"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path, status", [
    ("/", 200), ("/media/clip", 200), ("/media/nope", 404), ("/media/secret", 401), ("/no/such/page", 404),
    ("/_test/new-page", 200),
])
def test_site_pages_refuse_framing_and_carry_a_strict_policy(client, path, status):
    response = client.get(path)
    assert response.status_code == status and response.mimetype == "text/html"
    policy = csp(response)
    assert policy["frame-ancestors"] == "'none'" and response.headers["X-Frame-Options"] == "DENY"
    assert policy["script-src"] == "'self'" and policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert "'unsafe-inline'" not in policy["style-src"] + policy["script-src"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == REFERRER_POLICY


def test_the_media_page_may_frame_its_player(client):
    assert "http://media.test" in csp(client.get("/media/clip"))["frame-src"].split()


@pytest.mark.parametrize("path, status", [("/embed/clip", 200), ("/embed/nope", 404), ("/embed/secret", 401)])
def test_the_player_and_its_error_pages_are_frameable_by_anyone(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors" not in policy and "X-Frame-Options" not in response.headers
    for needed in PLAYER_NEEDS:
        assert needed in policy + ";"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == REFERRER_POLICY


def test_the_preview_page_may_frame_the_player_and_use_inline_module_styles(client):
    response = client.get("/_preview/media_embed?media=clip")
    assert response.status_code == 200
    policy = csp(response)
    assert "http://media.test" in policy["frame-src"].split() and "'unsafe-inline'" in policy["style-src"]
    assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("path", ["/oembed?url=http://media.test/media/clip", "/oembed.xml?url=http://media.test/media/clip",
                                  "/static/player.js", "/oembed?url=http://media.test/media/nope"])
def test_every_other_answer_carries_nosniff_and_a_referrer_policy(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == REFERRER_POLICY


@pytest.mark.parametrize("path", ["/oembed?url=http://media.test/media/secret", "/media/secret", "/embed/secret",
                                  "/oembed.xml?url=http://media.test/media/secret"])
def test_401_answers_carry_a_challenge(client, path):
    response = client.get(path)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer ")


@pytest.mark.parametrize("path", ["/media//clip", "//media/clip", "/embed//clip", "/media/clip//"])
def test_doubled_slashes_never_redirect_to_the_request_host(client, path):
    response = client.get(path, headers={"Host": "evil.example"})
    assert "evil.example" not in response.headers.get("Location", "")
    assert not 300 <= response.status_code < 400 or response.headers["Location"].startswith("/")


@pytest.mark.parametrize("path, mimetype", [("/oembed?url=http://media.test/media/clip", "application/json"),
                                            ("/oembed?format=xml&url=http://media.test/media/clip", "text/xml"),
                                            ("/oembed.xml?url=http://media.test/media/clip", "text/xml")])
def test_a_database_fault_is_answered_in_the_requested_format_without_detail(app, monkeypatch, path, mimetype):
    def broken(self, external_id):
        raise sa.exc.OperationalError("SELECT secret_column FROM media_items", {},
                                      Exception("server closed the connection; password=hunter2"))
    monkeypatch.setattr(CatalogStore, "get", broken)
    response = app.test_client().get(path)
    body = response.get_data(as_text=True)
    assert response.status_code == 503 and response.mimetype == mimetype
    assert "unavailable" in body and "hunter2" not in body and "secret_column" not in body
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_an_unexpected_error_in_the_oembed_api_keeps_its_format(app, monkeypatch):
    def broken(self, external_id):
        raise RuntimeError("internal detail")
    monkeypatch.setattr(CatalogStore, "get", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production, not as in TESTING
    response = app.test_client().get("/oembed.xml?url=http://media.test/media/clip")
    assert response.status_code == 500 and response.mimetype == "text/xml"
    assert "internal detail" not in response.get_data(as_text=True)


def test_a_view_answering_its_own_csp_is_not_a_loophole(app):
    """Non-HTML answers need no policy; HTML always gets one, whatever the view did."""
    @app.get("/_test/own-headers")
    def own_headers():
        return Response("<p>x</p>", mimetype="text/html", headers={"Content-Security-Policy": "default-src *"})
    policy = csp(app.test_client().get("/_test/own-headers"))
    assert policy["frame-ancestors"] == "'none'" and policy["default-src"] == "'self'"
