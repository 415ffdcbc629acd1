"""The player-only catalog fields (captions, stream_url): import validation, storage on
every engine, and older databases gaining the new columns on start."""
from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa

from oembed_server.catalog_import import read_catalog_file, validate_rows
from oembed_server.catalog_store import CatalogStore, add_missing_columns, media_items
from oembed_server.media import CaptionKind, CaptionTrack, MediaItem, MediaType, is_language_tag

VIDEO = {"external_id": "talk", "media_type": "VIDEO", "title": "Talk",
         "file_url": "https://cdn.example.com/talk.webm"}
EN = {"src": "https://cdn.example.com/talk.en.vtt", "srclang": "en", "label": "English", "default": True}
PT = {"src": "https://subs.example.org/talk.pt-BR.vtt", "srclang": "pt-BR", "label": "Português",
      "kind": "captions"}


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


@pytest.fixture
def store(database_url):
    store = CatalogStore.from_url(database_url)
    store.create_schema()
    yield store
    store.dispose()


def test_player_fields_round_trip_and_update(store):
    (item,), _ = validate_rows([VIDEO | {"captions": [EN, PT], "stream_url": "https://cdn.example.com/m.m3u8"}])
    store.upsert([item])
    assert store.get("talk").content() == item.content()
    assert store.list_items()[0].captions == item.captions
    assert store.upsert([item]).unchanged == 1
    fewer = MediaItem(**{**item.__dict__, "captions": item.captions[:1], "stream_url": None})
    assert store.upsert([fewer]).updated == 1
    got = store.get("talk")
    assert got.captions == item.captions[:1] and got.stream_url is None
    bare = MediaItem(**{**item.__dict__, "captions": ()})
    store.upsert([bare])
    assert store.get("talk").captions == ()
    with store.engine.connect() as conn:  # no captions is SQL NULL, not a JSON 'null' or '[]'
        assert conn.execute(sa.select(media_items.c.captions.is_(None))).scalar_one()


def test_an_older_catalog_gains_the_new_columns_on_start(database_url):
    """A database made before captions/stream_url existed keeps its rows and gets the columns."""
    engine = sa.create_engine(database_url)
    media_items.create(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE media_items DROP COLUMN captions"))
        conn.execute(sa.text("ALTER TABLE media_items DROP COLUMN stream_url"))
        conn.execute(sa.text("INSERT INTO media_items (external_id, media_type, title, visibility, created_at,"
                             " updated_at) VALUES ('old', 'VIDEO', 'Old', 'public', '2025-01-01 00:00:00',"
                             " '2025-01-01 00:00:00')"))
    store = CatalogStore(engine)
    store.create_schema()
    columns = {c["name"] for c in sa.inspect(engine).get_columns("media_items")}
    assert {"captions", "stream_url"} <= columns
    old_item = store.get("old")
    assert old_item.title == "Old" and old_item.captions == () and old_item.stream_url is None
    # Idempotent: a second start adds nothing, and the new fields are usable at once.
    assert add_missing_columns(engine, media_items.metadata) == []
    (item,), _ = validate_rows([VIDEO | {"external_id": "old", "captions": [EN]}])
    assert store.upsert([item]).updated == 1
    assert store.get("old").captions[0].srclang == "en"
    engine.dispose()


def test_columns_that_need_a_real_migration_are_refused(sqlite_url):
    engine = sa.create_engine(sqlite_url)
    before, after = sa.MetaData(), sa.MetaData()
    sa.Table("t", before, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("t", after, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("note", sa.Text), sa.Column("must", sa.Text, nullable=False))
    before.create_all(engine)
    with pytest.raises(RuntimeError, match="cannot add t.must"):
        add_missing_columns(engine, after)
    # Nothing half-done: the nullable column before it was not added either.
    assert [c["name"] for c in sa.inspect(engine).get_columns("t")] == ["id"]
    engine.dispose()
