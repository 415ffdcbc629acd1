"""The player-only catalog fields (captions, stream_url) on import; their storage is in
test_catalog_store.py."""
from __future__ import annotations

import csv
import io
import json

import pytest

from oembed_server.domain.media import CaptionKind, CaptionTrack, is_language_tag
from tests.support.catalog_rows import EN, PT, VIDEO, read_catalog_file, validate_rows


def problems_of(row: dict) -> list[str]:
    _, problems = validate_rows([row])
    return [str(p) for p in problems]


def test_captions_and_stream_are_read_from_json():
    (item,), problems = validate_rows([VIDEO | {"captions": [EN, PT],
                                               "stream_url": "https://cdn.example.com/talk/master.m3u8"}])
    assert problems == []
    assert item.captions == (
        CaptionTrack("https://cdn.example.com/talk.en.vtt", "en", "English", CaptionKind.SUBTITLES, True),
        CaptionTrack("https://subs.example.org/talk.pt-BR.vtt", "pt-BR", "Português", CaptionKind.CAPTIONS, False),
    )
    assert item.stream_url == "https://cdn.example.com/talk/master.m3u8"
    assert item.content()["captions"][1] == PT | {"default": False}


def test_captions_are_a_json_text_cell_in_csv():
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*VIDEO, "captions"])
    writer.writeheader()
    writer.writerow(VIDEO | {"captions": json.dumps([EN])})
    writer.writerow(VIDEO | {"external_id": "talk-2", "captions": ""})
    items, problems = validate_rows(read_catalog_file("c.csv", buffer.getvalue().encode()))
    assert problems == []
    assert [t.srclang for t in items[0].captions] == ["en"] and items[1].captions == ()


@pytest.mark.parametrize("captions, message", [
    ([EN | {"src": "/talk.vtt"}], "track 1: src '/talk.vtt' is not an absolute http(s) URL"),
    ([EN | {"srclang": "en_GB"}], "track 1: srclang 'en_GB' is not a BCP 47 language tag"),
    ([EN, PT | {"default": True}], "more than one track is marked default"),
    ([EN | {"kind": "chapters"}], "track 1: kind 'chapters' is not one of subtitles, captions"),
    ([EN | {"lang": "en"}], "track 1: unknown key 'lang'"),
    ([EN | {"label": " "}], "track 1: label must be text"),
    ([EN | {"default": "yes"}], "track 1: default must be true or false"),
    ([EN, "en"], "track 2: expected an object, got str"),
    ({"src": "x"}, "expected a list of tracks, got dict"),
    ("[{", "is not a JSON list of tracks"),
])
def test_bad_captions_are_named(captions, message):
    (problem,) = problems_of(VIDEO | {"captions": captions})
    assert problem.startswith("row 1, field 'captions': ") and message in problem


def test_bad_stream_url_and_player_fields_on_other_media():
    assert problems_of(VIDEO | {"stream_url": "master.m3u8"}) == [
        "row 1, field 'stream_url': 'master.m3u8' is not an absolute http(s) URL"]
    image = VIDEO | {"media_type": "IMAGE", "captions": [EN], "stream_url": "https://cdn.example.com/m.m3u8"}
    assert problems_of(image) == ["row 1, field 'captions': is only for VIDEO and AUDIO media",
                                  "row 1, field 'stream_url': is only for VIDEO and AUDIO media"]


@pytest.mark.parametrize("tag", ["en", "pt-BR", "zh-Hant-TW", "es-419", "sr-Latn-RS", "de-CH-1996", "x-klingon",
                                 "en-US-x-twain", "yue"])
def test_well_formed_language_tags(tag):
    assert is_language_tag(tag)


@pytest.mark.parametrize("tag", ["", "e", "english1", "en_US", "en-", "-en", "en--US", "\u212aa", "en-US-x", 42, None])
def test_malformed_language_tags(tag):
    assert not is_language_tag(tag)
