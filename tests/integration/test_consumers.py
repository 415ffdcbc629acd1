"""Interoperability: real oEmbed consumers (micawber, pyembed) against a live server on 127.0.0.1."""
from __future__ import annotations

import warnings

import pytest
from bs4 import BeautifulSoup

from oembed_server.domain.media import MediaType
from tests.support.environment import SECRET_KEY
from tests.support.live_server import serve_in_thread
from tests.support.oembed_fixtures import XSS_TITLE, add_items, media_item

with warnings.catch_warnings():
    # pyembed imports pkg_resources, which setuptools marks deprecated; harmless here.
    warnings.simplefilter("ignore", DeprecationWarning)
    from pyembed.core import PyEmbed, consumer
    from pyembed.core.discovery import AutoDiscoverer

from micawber import Provider, ProviderRegistry


@pytest.fixture
def live_server(sqlite_url):
    """The app served on a free loopback port, its public URL being that address."""
    from oembed_server import create_app

    apps = []

    def build(public_url):
        app = create_app({"OEMBED_DATABASE_URL": sqlite_url, "OEMBED_PUBLIC_URL": public_url,
                          "OEMBED_SECRET_KEY": SECRET_KEY, "TESTING": True})
        add_items(
            app,
            media_item("clip", title="Consumer clip", width=720, height=720,
                       file_url=f"{public_url}/static/sample/video.webm",
                       thumbnail_url=f"{public_url}/static/sample/video-thumbnail.png",
                       thumbnail_width=640, thumbnail_height=360),
            media_item("pic", media_type=MediaType.IMAGE, title="Consumer picture", width=800, height=600,
                       file_url=f"{public_url}/static/sample/image.png"),
            media_item("xss", title=XSS_TITLE),
            media_item("secret", visibility="private"),
        )
        apps.append(app)
        return app

    with serve_in_thread(build) as public_url:
        yield public_url
    apps[0].extensions["catalog"].dispose()


# --- micawber: a registered endpoint, JSON only ---------------------------------------------------
@pytest.fixture
def micawber_registry(live_server):
    registry = ProviderRegistry()
    registry.register(rf"{live_server}/media/\S+", Provider(f"{live_server}/oembed"))
    return registry


def test_micawber_fetches_an_answer(micawber_registry, live_server):
    answer = micawber_registry.request(f"{live_server}/media/clip", maxwidth=400)
    assert answer["title"] == "Consumer clip"
    assert answer["type"] == "video"
    assert (answer["width"], answer["height"]) == (400, 400)
    frame = BeautifulSoup(answer["html"], "html.parser").iframe
    assert frame["src"] == f"{live_server}/embed/clip"
    assert (frame["width"], frame["height"]) == ("400", "400")
    assert "thumbnail_url" not in answer  # 640 wide does not fit maxwidth=400


def test_micawber_parse_text_embeds_the_iframe(micawber_registry, live_server):
    from micawber import parse_text
    rendered = parse_text(f"Watch this:\n{live_server}/media/pic\n", micawber_registry)
    frame = BeautifulSoup(rendered, "html.parser").iframe
    assert frame is not None and frame["src"] == f"{live_server}/embed/pic"
    assert frame["width"] == "800"


def test_micawber_sees_errors_as_failures(micawber_registry, live_server):
    from micawber.exceptions import ProviderException
    with pytest.raises(ProviderException):
        micawber_registry.request(f"{live_server}/media/secret")
    with pytest.raises(ProviderException):
        micawber_registry.request(f"{live_server}/media/unknown")


def test_micawber_gets_escaped_html(micawber_registry, live_server):
    answer = micawber_registry.request(f"{live_server}/media/xss")
    assert answer["title"] == XSS_TITLE
    assert BeautifulSoup(answer["html"], "html.parser").find("script") is None


# --- pyembed: discovery through <link> tags on the media page -----------------------------------
# pyembed's DefaultDiscoverer also fetches oembed.com's provider list; AutoDiscoverer alone
# only reads the page's <link> tags, which keeps the test offline.
def test_pyembed_discovers_and_embeds(live_server):
    html = PyEmbed(discoverer=AutoDiscoverer()).embed(f"{live_server}/media/clip", max_width=300)
    frame = BeautifulSoup(html, "html.parser").iframe
    assert frame["src"] == f"{live_server}/embed/clip"
    assert (frame["width"], frame["height"]) == ("300", "300")


# pyembed parses XML with BeautifulSoup's HTML parser, which warns about it; the parse works.
@pytest.mark.filterwarnings("ignore::bs4.XMLParsedAsHTMLWarning")
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_pyembed_reads_both_formats(live_server, fmt):
    media_url = f"{live_server}/media/pic"
    urls = list(AutoDiscoverer().get_oembed_urls(media_url, fmt))
    assert len(urls) == 1 and urls[0].startswith(f"{live_server}/oembed?") and f"format={fmt}" in urls[0]
    # pyembed compares the content type strictly (application/json, text/xml) before parsing.
    answer = consumer.get_first_oembed_response(urls, max_width=400, max_height=400)
    assert answer.type == "rich"
    assert answer.title == "Consumer picture"
    assert (answer.width, answer.height) == (400, 300)
    assert BeautifulSoup(answer.html, "html.parser").iframe["src"] == f"{live_server}/embed/pic"


def test_pyembed_finds_nothing_for_a_private_item(live_server):
    assert list(AutoDiscoverer().get_oembed_urls(f"{live_server}/media/secret")) == []
