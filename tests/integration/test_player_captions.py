"""Captions on the player and media pages: <track> markup, the cc/cc_lang options through
oEmbed, transcripts rendered from WebVTT (own static files only), and the WebVTT reader."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from oembed_server.domain.media import CaptionKind, CaptionTrack, MediaType
from oembed_server.domain.oembed_response import parse_player_options
from oembed_server.domain.page_metadata import own_static_file, shown_caption
from oembed_server.domain.webvtt import WebVTTError, parse_cues
from tests.support.oembed_fixtures import PUBLIC_URL, XSS_TITLE, add_items, media_item, oembed_path

EN = CaptionTrack(f"{PUBLIC_URL}/static/sample/video.en.vtt", "en", "English", default=True)
FR = CaptionTrack(f"{PUBLIC_URL}/static/sample/video.fr.vtt", "fr", "Français")
PT = CaptionTrack("https://subs.example.org/talk.pt-BR.vtt", "pt-BR", "Português", CaptionKind.CAPTIONS)


@pytest.fixture
def client(app):
    add_items(app,
              media_item("talk", captions=(EN, FR)),
              media_item("remote", captions=(PT,)),
              media_item("song", media_type=MediaType.AUDIO, file_url=f"{PUBLIC_URL}/static/sample/audio.mp3",
                         captions=(FR,)),
              media_item("xss", title=XSS_TITLE, captions=(CaptionTrack(EN.src, "en", XSS_TITLE),)),
              media_item("plain"))
    return app.test_client()


def tracks_of(client, path: str) -> list[dict]:
    page = BeautifulSoup(client.get(path).get_data(as_text=True), "html.parser")
    return [dict(t.attrs) for t in page.find_all("track")]


def test_tracks_are_offered_and_none_shown_by_default(client):
    assert tracks_of(client, "/embed/talk") == [
        {"kind": "subtitles", "src": EN.src, "srclang": "en", "label": "English"},
        {"kind": "subtitles", "src": FR.src, "srclang": "fr", "label": "Français"},
    ]
    assert tracks_of(client, "/embed/song")[0]["srclang"] == "fr"  # audio carries them too, for players that show them


@pytest.mark.parametrize("query, shown", [
    ("cc=1", "en"),              # the catalog's default track
    ("cc_lang=fr", "fr"),
    ("cc_lang=FR-ca", "fr"),     # the same primary language when no exact tag matches
    ("cc=1&cc_lang=de", "en"),   # no German: cc=1 still shows the default
    ("cc_lang=de", None),
    ("cc=0", None),
])
def test_cc_options_choose_the_default_track(client, query, shown):
    tracks = tracks_of(client, f"/embed/talk?{query}")
    assert [t["srclang"] for t in tracks if "default" in t] == ([shown] if shown else [])


def test_shown_caption_without_a_catalog_default_is_the_first():
    assert shown_caption((FR, PT), {"cc": "1"}) is FR
    assert shown_caption((), {"cc": "1", "cc_lang": "en"}) is None


def test_cross_origin_tracks_make_the_player_ask_for_cors(client):
    page = BeautifulSoup(client.get("/embed/remote").get_data(as_text=True), "html.parser")
    assert page.video["crossorigin"] == "anonymous"
    same_origin = BeautifulSoup(client.get("/embed/talk").get_data(as_text=True), "html.parser")
    assert not same_origin.video.has_attr("crossorigin")


def test_plain_player_page_has_no_caption_or_stream_markup(client):
    html = client.get("/embed/plain").get_data(as_text=True)
    assert "<track" not in html and "<source" not in html and "crossorigin" not in html
    assert "player-stream.js" not in html and "hls" not in html


def test_caption_labels_are_escaped(client):
    html = client.get("/embed/xss?cc=1").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert tracks_of(client, "/embed/xss")[0]["label"] == XSS_TITLE


@pytest.mark.parametrize("raw, expected", [
    ({"cc": "1"}, {"cc": "1"}), ({"cc": "true", "cc_lang": "pt-BR"}, {"cc": "1", "cc_lang": "pt-BR"}),
    ({"cc": "yes"}, {}), ({"cc_lang": "en_US"}, {}), ({"cc_lang": "<script>"}, {}),
    ({"cc_lang": " de "}, {"cc_lang": "de"}),
])
def test_cc_player_options_are_validated(raw, expected):
    assert parse_player_options(raw) == expected


def test_cc_options_pass_through_oembed_url_query_strings(client):
    body = client.get(oembed_path(f"{PUBLIC_URL}/media/talk?cc=1&cc_lang=fr&autoplay=1")).get_json()
    src = BeautifulSoup(body["html"], "html.parser").iframe["src"]
    assert src == f"{PUBLIC_URL}/embed/talk?autoplay=1&cc=1&cc_lang=fr"
    body = client.get(oembed_path(f"{PUBLIC_URL}/media/talk", cc_lang="de")).get_json()
    assert BeautifulSoup(body["html"], "html.parser").iframe["src"] == f"{PUBLIC_URL}/embed/talk?cc_lang=de"


def test_media_page_lists_languages_and_transcripts(client):
    page = BeautifulSoup(client.get("/media/talk").get_data(as_text=True), "html.parser")
    items = page.select(".media__captions li")
    assert [li.span.get_text() for li in items] == ["English", "Français"]
    assert [li.a["href"] for li in items] == ["/media/talk/transcript/en", "/media/talk/transcript/fr"]
    # A track on another host is listed, without a transcript (the server never fetches it).
    remote = BeautifulSoup(client.get("/media/remote").get_data(as_text=True), "html.parser")
    (item,) = remote.select(".media__captions li")
    assert item.span.get_text() == "Português" and item.a is None
    assert BeautifulSoup(client.get("/media/plain").get_data(as_text=True), "html.parser").select(
        ".media__captions") == []


def test_media_page_documents_the_control_api(client):
    page = BeautifulSoup(client.get("/media/plain").get_data(as_text=True), "html.parser")
    text = page.select_one(".media__api").get_text(" ", strip=True)
    assert "player.js" in text and "setCurrentTime" in text and "timeupdate" in text


def test_transcript_is_rendered_from_the_webvtt_without_javascript(client):
    response = client.get("/media/talk/transcript/en")
    assert response.status_code == 200
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.find("script") is None
    cues = [p.get_text(" ", strip=True) for p in page.select(".transcript__cue")]
    assert cues == [
        "0:00 Narrator: Dusk over the hills: the Spring product tour begins.",
        "0:03 A soft C major chord plays as the ridges drift by.",
        "0:06 Captions & transcripts come from this WebVTT file.",
    ]
    assert page.select_one(".transcript")["lang"] == "en"


@pytest.mark.parametrize("path", ["/media/remote/transcript/pt-BR", "/media/talk/transcript/de",
                                  "/media/plain/transcript/en", "/media/nope/transcript/en"])
def test_no_transcript_where_there_is_no_own_file(client, path):
    assert client.get(path).status_code == 404


def test_own_static_file_accepts_only_this_apps_static_urls():
    assert own_static_file(PUBLIC_URL, f"{PUBLIC_URL}/static/sample/a%20b.vtt?v=2") == "sample/a b.vtt"
    assert own_static_file(PUBLIC_URL, "https://elsewhere.test/static/a.vtt") is None
    assert own_static_file(PUBLIC_URL, f"{PUBLIC_URL}/media/a.vtt") is None
    assert own_static_file(PUBLIC_URL, f"{PUBLIC_URL}.evil.test/static/a.vtt") is None


def test_transcript_never_reads_outside_the_static_folder(app):
    escape = CaptionTrack(f"{PUBLIC_URL}/static/..%2F..%2Fpyproject.toml", "en", "Escape")
    add_items(app, media_item("escape", captions=(escape,)))
    assert app.test_client().get("/media/escape/transcript/en").status_code == 404


def test_webvtt_reader_skips_blocks_that_are_not_cues():
    text = ("\ufeffWEBVTT - with a title\r\nKind: captions\r\n\r\nSTYLE\r\n::cue { color: red }\r\n\r\n"
            "REGION\r\nid:r1\r\n\r\nNOTE a --> that is not a cue\r\n\r\n"
            "1\r\n01:02:03.500 --> 01:02:05.000 align:start\r\n"
            "<v.loud Ann>Hi &lt;there&gt;</v>\r\n<c.x>again</c>\r\n\r\n"
            "00:10.000 --> 00:12.000\r\n<00:10.500>karaoke\r\n\r\n00:13.000 --> 00:14.000\r\n<b></b>\r\n")
    cues = parse_cues(text)
    assert [(c.start_seconds, c.speaker, c.text) for c in cues] == [
        (3723.5, "Ann", "Hi <there> again"), (10.0, None, "karaoke")]
    with pytest.raises(WebVTTError):
        parse_cues("1\n00:00.000 --> 00:01.000\nNo signature\n")
