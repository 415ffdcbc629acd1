"""oembed.py: sizing, the answer's fields, the iframe, player options and XML, without HTTP."""
from __future__ import annotations

import ast
import json
import xml.etree.ElementTree as ET

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from oembed_server.domain import oembed_response as oembed
from oembed_server.domain import url_schemes
from oembed_server.domain.media import MediaType
from oembed_server.domain.oembed_response import (
    DEFAULT_AUDIO_ARTWORK_SIZE,
    DEFAULT_AUDIO_SIZE,
    DEFAULT_DOCUMENT_SIZE,
    DEFAULT_IMAGE_SIZE,
    DEFAULT_OTHER_SIZE,
    DEFAULT_VIDEO_SIZE,
    build_oembed_response,
    fit_within,
    native_size,
    parse_player_options,
    to_xml,
)
from tests.support.oembed_fixtures import PUBLIC_URL, XSS_TITLE, media_item


def answer(item, **kwargs):
    return build_oembed_response(item, public_url=PUBLIC_URL, provider_name="Example Media",
                                 cache_age=1234, **kwargs)


# --- fit_within -------------------------------------------------------------------
@pytest.mark.parametrize("size, limits, expected", [
    ((720, 720), (400, None), (400, 400)),   # the case users complain about: never 400x720
    ((720, 720), (None, 300), (300, 300)),
    ((640, 360), (320, 1000), (320, 180)),
    ((640, 360), (1000, 90), (160, 90)),
    ((640, 360), (300, None), (300, 169)),   # 168.75 rounds to 169
    ((640, 360), (None, None), (640, 360)),
    ((640, 360), (2000, 2000), (640, 360)),  # no upscaling
    ((640, 360), (640, 360), (640, 360)),
    ((10000, 1), (100, 100), (100, 1)),      # the short side never rounds to 0
    ((1, 10000), (100, 100), (1, 100)),
    ((333, 777), (100, 100), (43, 100)),
])
def test_fit_within(size, limits, expected):
    assert fit_within(*size, *limits) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10**6), st.integers(1, 10**6),
       st.none() | st.integers(1, 10**7), st.none() | st.integers(1, 10**7))
def test_fit_within_respects_limits_and_never_upscales(width, height, max_w, max_h):
    new_w, new_h = fit_within(width, height, max_w, max_h)
    assert isinstance(new_w, int) and isinstance(new_h, int)
    assert 1 <= new_w <= width and 1 <= new_h <= height
    assert max_w is None or new_w <= max_w
    assert max_h is None or new_h <= max_h
    # One side hits its limit (or the native size) exactly: the fit is as large as allowed.
    assert new_w in (width, max_w) or new_h in (height, max_h)


@pytest.mark.parametrize("args", [(0, 10, None, None), (10, -1, None, None), (10, 10, 0, None), (10, 10, None, -5)])
def test_fit_within_rejects_non_positive_numbers(args):
    with pytest.raises(ValueError):
        fit_within(*args)


# --- default sizes per type ----------------------------------------------------------
@pytest.mark.parametrize("media_type, extra, expected", [
    (MediaType.VIDEO, {}, DEFAULT_VIDEO_SIZE),
    (MediaType.AUDIO, {}, DEFAULT_AUDIO_SIZE),
    (MediaType.AUDIO, {"poster_url": f"{PUBLIC_URL}/p.png"}, DEFAULT_AUDIO_ARTWORK_SIZE),
    (MediaType.IMAGE, {}, DEFAULT_IMAGE_SIZE),
    (MediaType.DOCUMENT, {}, DEFAULT_DOCUMENT_SIZE),
    (MediaType.OTHER, {}, DEFAULT_OTHER_SIZE),
    (MediaType.IMAGE, {"width": 800, "height": 600}, (800, 600)),
    (MediaType.VIDEO, {"width": 720}, DEFAULT_VIDEO_SIZE),  # one dimension alone says nothing
])
def test_native_size_defaults(media_type, extra, expected):
    assert native_size(media_item(media_type=media_type, **extra)) == expected


def test_video_without_dimensions_is_640x360():
    result = answer(media_item(media_type=MediaType.VIDEO))
    assert (result["width"], result["height"]) == (640, 360)


# --- the answer ------------------------------------------------------------------------
def test_answer_fields_and_order():
    item = media_item("clip", width=1280, height=720, author_name="Ann", author_url="https://ann.example/",
                      thumbnail_url=f"{PUBLIC_URL}/t.png", thumbnail_width=320, thumbnail_height=180)
    result = answer(item)
    assert list(result) == ["type", "version", "title", "provider_name", "provider_url", "author_name",
                            "author_url", "cache_age", "html", "width", "height", "thumbnail_url",
                            "thumbnail_width", "thumbnail_height"]
    assert result["version"] == "1.0"
    assert result["type"] == "video"
    assert result["cache_age"] == 1234
    assert result["provider_url"] == PUBLIC_URL
    assert (result["width"], result["height"]) == (1280, 720)
    assert (result["thumbnail_width"], result["thumbnail_height"]) == (320, 180)
    json.dumps(result)  # plain JSON-serialisable data


def test_author_fields_absent_when_unknown():
    result = answer(media_item())
    assert "author_name" not in result and "author_url" not in result


@pytest.mark.parametrize("media_type, expected", [
    (MediaType.VIDEO, "video"), (MediaType.AUDIO, "video"),
    (MediaType.IMAGE, "rich"), (MediaType.DOCUMENT, "rich"), (MediaType.OTHER, "rich"),
])
def test_type_per_media_type(media_type, expected):
    assert answer(media_item(media_type=media_type))["type"] == expected


def test_720_square_at_maxwidth_400_is_400_square():
    result = answer(media_item(width=720, height=720), maxwidth=400)
    assert (result["width"], result["height"]) == (400, 400)
    frame = BeautifulSoup(result["html"], "html.parser").iframe
    assert (frame["width"], frame["height"]) == ("400", "400")


def test_no_upscaling_past_native_size():
    result = answer(media_item(width=320, height=240), maxwidth=1000, maxheight=1000)
    assert (result["width"], result["height"]) == (320, 240)


THUMB = {"thumbnail_url": f"{PUBLIC_URL}/t.png", "thumbnail_width": 640, "thumbnail_height": 360}


@pytest.mark.parametrize("limits, present", [
    ({}, True), ({"maxwidth": 640, "maxheight": 360}, True),
    ({"maxwidth": 639}, False), ({"maxheight": 200}, False),
])
def test_thumbnail_only_when_it_fits(limits, present):
    result = answer(media_item(**THUMB), **limits)
    keys = {"thumbnail_url", "thumbnail_width", "thumbnail_height"}
    assert (keys <= result.keys()) is present
    assert not (keys & result.keys()) or keys <= result.keys()


@pytest.mark.parametrize("missing", ["thumbnail_url", "thumbnail_width", "thumbnail_height"])
def test_thumbnail_triple_all_or_nothing(missing):
    result = answer(media_item(**(THUMB | {missing: None})))
    assert not {"thumbnail_url", "thumbnail_width", "thumbnail_height"} & result.keys()


# --- the iframe ------------------------------------------------------------------------
def test_html_is_one_iframe_with_the_expected_attributes():
    result = answer(media_item("clip 1+2"))
    soup = BeautifulSoup(result["html"], "html.parser")
    assert [tag.name for tag in soup.find_all(True)] == ["iframe"]
    frame = soup.iframe
    assert frame["src"] == f"{PUBLIC_URL}/embed/clip%201%2B2"
    assert frame.has_attr("allowfullscreen")
    assert "autoplay" in frame["allow"] and "fullscreen" in frame["allow"]
    assert frame["loading"] == "lazy"
    assert frame["title"] == "Title of clip 1+2"
    assert (frame["width"], frame["height"]) == (str(result["width"]), str(result["height"]))


def test_title_is_escaped_in_html():
    result = answer(media_item(title=XSS_TITLE))
    assert "<script>" not in result["html"]
    soup = BeautifulSoup(result["html"], "html.parser")
    assert soup.find("script") is None
    assert soup.iframe["title"] == XSS_TITLE
    assert [tag.name for tag in soup.find_all(True)] == ["iframe"]


def test_player_options_pass_into_iframe_src():
    result = answer(media_item(), player_options={"autoplay": "true", "muted": "1", "loop": "0", "start": "12.50"})
    assert BeautifulSoup(result["html"], "html.parser").iframe["src"] == \
        f"{PUBLIC_URL}/embed/clip?autoplay=1&muted=1&start=12.5"


# --- player options ----------------------------------------------------------------------
@pytest.mark.parametrize("raw, expected", [
    ({"autoplay": "1"}, {"autoplay": "1"}),
    ({"autoplay": "TRUE", "muted": "true", "loop": "1"}, {"autoplay": "1", "muted": "1", "loop": "1"}),
    ({"autoplay": "0", "muted": "false"}, {}),
    ({"autoplay": "yes", "muted": "2", "loop": ""}, {}),       # invalid values are ignored
    ({"start": "30"}, {"start": "30"}),
    ({"start": "007.250"}, {"start": "7.25"}),
    ({"start": "0"}, {}),
    ({"start": "-3"}, {}), ({"start": "1e9"}, {}), ({"start": "nan"}, {}), ({"start": "99999999"}, {}),
    ({"start": "12abc"}, {}), ({"unknown": "1"}, {}),
])
def test_parse_player_options(raw, expected):
    assert parse_player_options(raw) == expected


# --- XML -----------------------------------------------------------------------------------
def test_xml_has_one_child_per_key_and_round_trips():
    result = answer(media_item(title=XSS_TITLE, **THUMB))
    root = ET.fromstring(to_xml(result).encode("utf-8"))
    assert root.tag == "oembed"
    assert [child.tag for child in root] == list(result)
    assert {child.tag: child.text for child in root} == {k: str(v) for k, v in result.items()}


def test_xml_escapes_markup():
    text = to_xml(answer(media_item(title=XSS_TITLE)))
    assert "<script>" not in text and "<iframe" not in text
    assert "&lt;iframe" in text


def test_xml_drops_characters_xml_cannot_carry():
    text = to_xml({"title": "bell\x07 and nul\x00 and \ufffe end"})
    assert ET.fromstring(text.encode("utf-8")).find("title").text == "bell and nul and  end"


@pytest.mark.parametrize("module", [oembed, url_schemes])
def test_domain_modules_import_no_web_or_storage_code(module):
    tree = ast.parse(open(module.__file__, encoding="utf-8").read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    assert not imported & {"flask", "werkzeug", "sqlalchemy", "requests", "socket", "os", "io"}
    calls = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert "open" not in calls
