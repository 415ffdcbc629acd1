"""The chapters and ctas catalog keys: import checks (naming the row and key), the WebVTT
chapters file built from them (read back with domain.webvtt), and the JSON-LD Clip parts."""
from __future__ import annotations

import json

import pytest

from oembed_server.domain.calls_to_action import keyed_ctas
from oembed_server.domain.chapters import Chapter, chapters_file_path, chapters_vtt, vtt_timestamp
from oembed_server.domain.media import MediaItem, MediaType
from oembed_server.domain.structured_data import json_ld
from oembed_server.domain.webvtt import parse_cues
from tests.support.catalog_rows import VIDEO, validate_rows

TIMED = VIDEO | {"duration_ms": 300_000}
LINES = "chapter 1: title may not contain line breaks, control characters or '-->'"
NOT_OURS = "is not a WebVTT file (.vtt) among this server's /static/ files"
CHAPTERS = [{"start": 0, "title": "Intro"}, {"start": 95, "title": "New editor"},
            {"start": 180.5, "title": "Pricing & <plans>"}]


def _problems(row) -> list[tuple[int, str | None, str]]:
    _, problems = validate_rows([row])
    return [(p.row, p.field, p.message) for p in problems]


def test_chapters_are_read_in_order_and_stored_as_given():
    (item,), problems = validate_rows([TIMED | {"chapters": CHAPTERS}])
    assert problems == []
    assert item.chapters == (Chapter(0, "Intro"), Chapter(95, "New editor"), Chapter(180.5, "Pricing & <plans>"))
    assert item.content()["chapters"] == CHAPTERS


def test_chapters_in_a_csv_cell_are_json_text():
    (item,), problems = validate_rows([TIMED | {"chapters": json.dumps(CHAPTERS), "duration_ms": "300000"}])
    assert problems == [] and len(item.chapters) == 3


@pytest.mark.parametrize("chapters, message", [
    ([{"start": 0, "title": "A"}, {"start": 0, "title": "B"}], "chapter 2: start 0 is not after chapter 1's (0)"),
    ([{"start": 10, "title": "A"}, {"start": 5, "title": "B"}], "chapter 2: start 5 is not after chapter 1's (10)"),
    ([{"start": 300, "title": "A"}], "chapter 1: start 300 is not within the duration (300 s)"),
    ([{"start": -1, "title": "A"}], "chapter 1: start must be a number of seconds, got -1"),
    ([{"start": "0", "title": "A"}], "chapter 1: start must be a number of seconds, got '0'"),
    ([{"start": True, "title": "A"}], "chapter 1: start must be a number of seconds, got True"),
    ([{"start": 0, "title": " "}], "chapter 1: title must be non-empty text"),
    ([{"start": 0, "title": "a --> b"}], LINES),
    ([{"start": 0, "title": "two\nlines"}], LINES),
    ([{"start": 0, "title": "A", "end": 4}], "chapter 1: unknown key 'end' (allowed: start, title)"),
    ([], "must list at least one chapter (leave the key out for none)"),
    ({"start": 0}, "expected a list of chapters or a WebVTT file URL, got an object"),
    ("[{]", "is not a JSON list (Expecting property name enclosed in double quotes at column 3)"),
])
def test_bad_chapters_are_refused_naming_the_row_and_key(chapters, message):
    assert _problems(TIMED | {"chapters": chapters}) == [(1, "chapters", message)]


def test_chapters_need_the_duration_they_must_lie_within():
    assert _problems(VIDEO | {"chapters": CHAPTERS}) == [
        (1, "chapters", "need the item's duration_ms, which chapters must lie within")]


def test_chapters_are_only_for_timed_media():
    row = TIMED | {"media_type": "IMAGE", "file_url": "https://cdn.example.com/a.png", "chapters": CHAPTERS}
    assert _problems(row) == [(1, "chapters", "is only for VIDEO and AUDIO media")]


def test_a_chapters_file_among_our_static_files_is_read_at_import():
    row = VIDEO | {"duration_ms": 8000, "chapters": "https://media.example/static/sample/video.chapters.vtt"}
    (item,), problems = validate_rows([row])
    assert problems == []
    assert item.chapters == (Chapter(0, "Welcome"), Chapter(3, "The new editor"), Chapter(6, "Pricing & plans"))


@pytest.mark.parametrize("url, message", [
    ("/static/sample/missing.vtt",
     "'/static/sample/missing.vtt': no readable UTF-8 file 'sample/missing.vtt' among this "
     "server's static files (at most 262144 bytes)"),
    ("https://cdn.example.com/chapters.vtt", f"'https://cdn.example.com/chapters.vtt' {NOT_OURS}"),
    ("/static/../settings.vtt", f"'/static/../settings.vtt' {NOT_OURS}"),
    ("/static/sample/video.webm", f"'/static/sample/video.webm' {NOT_OURS}"),
])
def test_other_chapters_files_are_refused(url, message):
    assert _problems(VIDEO | {"duration_ms": 8000, "chapters": url}) == [(1, "chapters", message)]


def test_a_chapters_file_is_held_to_the_duration():
    row = VIDEO | {"duration_ms": 5000, "chapters": "/static/sample/video.chapters.vtt"}
    assert _problems(row) == [(1, "chapters", "'/static/sample/video.chapters.vtt': chapter 3: start 6 is not "
                                              "within the duration (5 s)")]


def test_a_chapters_file_url_names_a_path_under_static():
    assert chapters_file_path("/static/sample/video.en.vtt") == "sample/video.en.vtt"
    assert chapters_file_path("javascript:/static/x.vtt") is None
    assert chapters_file_path("//evil.example/static/x.vtt") is None


def test_the_chapters_file_is_webvtt_with_chapters_end_to_end():
    chapters = (Chapter(0, "Intro"), Chapter(95, "New editor"), Chapter(3723.25, "Pricing & <plans>"))
    text = chapters_vtt(chapters, 4000_000)
    assert text.startswith("WEBVTT\n\nchapter-1\n00:00:00.000 --> 00:01:35.000\nIntro\n\n")
    assert "01:02:03.250 --> 01:06:40.000\nPricing &amp; &lt;plans&gt;\n" in text
    cues = parse_cues(text)
    assert [(cue.start_seconds, cue.text) for cue in cues] == [(0, "Intro"), (95, "New editor"),
                                                               (3723.25, "Pricing & <plans>")]
    assert vtt_timestamp(59.9996) == "00:01:00.000"


def test_ctas_timed_and_end_screen_are_read_with_their_keys():
    ctas = [{"start": 5, "end": 15, "text": " Start a trial ", "url": "https://example.com/trial"},
            {"start": "end", "text": "Book a demo", "url": "https://example.com/demo?x=1"},
            {"start": 20, "end": 30.5, "text": "Pricing", "url": "https://example.com/pricing"}]
    (item,), problems = validate_rows([TIMED | {"ctas": ctas}])
    assert problems == []
    assert [(key, cta.start, cta.end, cta.text) for key, cta in keyed_ctas(item.ctas)] == [
        ("1", 5, 15, "Start a trial"), ("end", None, None, "Book a demo"), ("2", 20, 30.5, "Pricing")]
    assert item.content()["ctas"][0] == {"start": 5, "end": 15, "text": "Start a trial",
                                         "url": "https://example.com/trial"}


CTA = {"start": 5, "end": 15, "text": "Go", "url": "https://example.com/go"}


@pytest.mark.parametrize("ctas, message", [
    ([CTA | {"url": "http://example.com/go"}], "cta 1: url 'http://example.com/go' is not an absolute https URL"),
    ([CTA | {"url": "javascript:alert(1)"}], "cta 1: url 'javascript:alert(1)' is not an absolute https URL"),
    ([CTA | {"url": "https:///path"}], "cta 1: url 'https:///path' is not an absolute https URL"),
    ([CTA | {"end": 5}], "cta 1: end 5 is not after start 5"),
    ([CTA | {"end": 301}], "cta 1: end 301 is not within the duration (300 s)"),
    ([CTA, CTA | {"start": 10, "end": 20}], "cta 2: starts at 10, before the previous timed call to action ends "
                                            "(15); timed ones must be in order and may not overlap"),
    ([{"start": "end", "text": "A", "url": "https://a.example"}, {"start": "end", "text": "B", "url": "https://b.example"}],
     "cta 2: only one call to action may be the end screen"),
    ([{"start": "end", "end": 4, "text": "A", "url": "https://a.example"}],
     "cta 1: an end-screen call to action (start \"end\") has no end"),
    ([CTA | {"start": "soon"}], "cta 1: start must be a number of seconds or \"end\", got 'soon'"),
    ([CTA | {"text": ""}], "cta 1: text must be non-empty text"),
    ([CTA | {"target": "_blank"}], "cta 1: unknown key 'target' (allowed: start, end, text, url)"),
    ([], "must list at least one call to action (leave the key out for none)"),
])
def test_bad_ctas_are_refused_naming_the_row_and_key(ctas, message):
    assert _problems(TIMED | {"ctas": ctas}) == [(1, "ctas", message)]


def test_json_ld_carries_one_clip_per_chapter_starting_the_media_page_there():
    item = MediaItem("talk", MediaType.VIDEO, "Talk", duration_ms=300_000,
                     chapters=(Chapter(0, "Intro"), Chapter(95.5, "New editor")))
    data = json_ld("https://media.example", "Media", item)
    assert data["hasPart"] == [
        {"@type": "Clip", "name": "Intro", "startOffset": 0, "endOffset": 95.5,
         "url": "https://media.example/media/talk?start=0"},
        {"@type": "Clip", "name": "New editor", "startOffset": 95.5, "endOffset": 300,
         "url": "https://media.example/media/talk?start=95.5"},
    ]
    assert "hasPart" not in json_ld("https://media.example", "Media", MediaItem("x", MediaType.VIDEO, "X"))
