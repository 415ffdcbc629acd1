"""Property-based: whatever url/maxwidth/maxheight/format arrive, never a 500, and every 200 fits."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oembed_server.domain.media import MediaType
from tests.support.oembed_fixtures import add_items, media_item

IDS = ["clip", "square", "tall", "song", "pic", "doc", "misc", "clip 1+2", "café", "secret"]
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def client(app):
    add_items(
        app,
        media_item("clip", width=1920, height=1080, thumbnail_url="http://media.test/t.png",
                   thumbnail_width=640, thumbnail_height=360),
        media_item("square", width=720, height=720),
        media_item("tall", width=9, height=4000),
        media_item("song", media_type=MediaType.AUDIO),
        media_item("pic", media_type=MediaType.IMAGE, width=3000, height=1),
        media_item("doc", media_type=MediaType.DOCUMENT),
        media_item("misc", media_type=MediaType.OTHER),
        media_item("clip 1+2"),
        media_item("café", media_type=MediaType.VIDEO),
        media_item("secret", visibility="private"),
    )
    return app.test_client()


media_urls = st.builds(
    lambda scheme, form, external_id, tail: f"{scheme}://media.test/{form}/{quote(external_id, safe='')}{tail}",
    st.sampled_from(["http", "https", "HTTP"]),
    st.sampled_from(["media", "embed", "other"]),
    st.sampled_from(IDS) | st.text(max_size=20),
    st.sampled_from(["", "/", "?autoplay=1", "#t=3", "/?x=1#y", "%00", "%FF"]),
)
urls = media_urls | st.text(max_size=60) | st.binary(max_size=40).map(lambda b: b.decode("latin-1"))
sizes = (st.none() | st.integers(-5, 5000).map(str) | st.integers(0, 10**40).map(str)
         | st.text(max_size=12) | st.sampled_from(["", " 300 ", "1e3", "0x10", "1_000", "٣٠٠", "+5"]))
formats = st.none() | st.sampled_from(["json", "xml", "JSON", "", "yaml", "xml\x00"]) | st.text(max_size=8)
endpoints = st.sampled_from(["/oembed", "/oembed.json", "/oembed.xml"])


def query_string(**args) -> str:
    # Percent-encode every byte of every value (surrogates included) as a real client might send it.
    return "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in args.items()
                    if v is not None)


def parse_answer(response) -> dict:
    if response.headers["Content-Type"].startswith("text/xml"):
        root = ET.fromstring(response.data)
        return {child.tag: child.text for child in root}
    return json.loads(response.data)


@PROPERTY_SETTINGS
@given(endpoint=endpoints, url=urls, maxwidth=sizes, maxheight=sizes, fmt=formats)
def test_never_500_and_200s_fit_the_limits(client, endpoint, url, maxwidth, maxheight, fmt):
    response = client.get(f"{endpoint}?{query_string(url=url, maxwidth=maxwidth, maxheight=maxheight, format=fmt)}")
    assert response.status_code in (200, 400, 401, 404, 501), response.data
    assert response.headers["Content-Type"] in ("application/json; charset=utf-8", "text/xml; charset=utf-8")
    body = parse_answer(response)
    if response.status_code != 200:
        assert int(body["status"]) == response.status_code and body["message"]
        return
    width, height = int(body["width"]), int(body["height"])
    assert width >= 1 and height >= 1
    for limit, value in ((maxwidth, width), (maxheight, height)):
        if limit is not None and limit.strip():
            assert value <= int(limit.strip())
    if "thumbnail_url" in body:
        for limit, key in ((maxwidth, "thumbnail_width"), (maxheight, "thumbnail_height")):
            if limit is not None and limit.strip():
                assert int(body[key]) <= int(limit.strip())


@PROPERTY_SETTINGS
@given(external_id=st.sampled_from(IDS[:-1]), maxwidth=st.integers(1, 3000), maxheight=st.integers(1, 3000))
def test_valid_requests_always_answer_within_limits(client, external_id, maxwidth, maxheight):
    url = f"http://media.test/media/{quote(external_id, safe='')}"
    response = client.get(f"/oembed?{query_string(url=url, maxwidth=str(maxwidth), maxheight=str(maxheight))}")
    assert response.status_code == 200
    body = response.get_json()
    assert 1 <= body["width"] <= maxwidth and 1 <= body["height"] <= maxheight
