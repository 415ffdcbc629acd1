"""The catalog store on every available engine (SQLite always, PostgreSQL when configured)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from oembed_server.domain.media import MediaItem, MediaType, Visibility
from oembed_server.storage import schema_version
from oembed_server.storage.schema import media_items
from tests.support.catalog_rows import EN, PT, VIDEO, validate_rows


def item(external_id: str, **fields) -> MediaItem:
    return MediaItem(external_id=external_id, media_type=fields.pop("media_type", MediaType.VIDEO),
                     title=fields.pop("title", f"Title {external_id}"), **fields)


def test_upsert_inserts_then_reports_unchanged(store):
    report = store.upsert([item("a", width=640, height=360), item("b", media_type=MediaType.AUDIO)])
    assert (report.inserted, report.updated, report.unchanged) == (2, 0, 0)
    again = store.upsert([item("a", width=640, height=360), item("b", media_type=MediaType.AUDIO)])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert store.count() == 2


def test_upsert_updates_changed_fields_and_keeps_created_at(store):
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    store.upsert([item("a", title="Old")], now=t0)
    report = store.upsert([item("a", title="New", visibility=Visibility.PRIVATE)], now=t0 + timedelta(days=1))
    assert report.updated == 1
    got = store.get("a")
    assert got.title == "New" and got.visibility is Visibility.PRIVATE
    assert got.created_at == t0 and got.updated_at == t0 + timedelta(days=1)


def test_unchanged_upsert_does_not_touch_updated_at(store):
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    store.upsert([item("a")], now=t0)
    store.upsert([item("a")], now=t0 + timedelta(days=3))
    assert store.get("a").updated_at == t0


def test_get_round_trips_every_field(store):
    full = item("full", media_type=MediaType.IMAGE, file_url="https://cdn.test/a.png",
                thumbnail_url="https://cdn.test/t.png", thumbnail_width=320, thumbnail_height=240,
                poster_url="https://cdn.test/p.png", duration_ms=2**40, width=800, height=600,
                folder_path="/A/B", details_page_link="https://media.test/a", author_name="Ann",
                author_url="https://ann.test", visibility=Visibility.UNLISTED)
    store.upsert([full])
    got = store.get("full")
    assert got.content() == full.content()
    assert got.created_at.tzinfo is not None
    assert store.get("missing") is None


def test_upsert_is_one_transaction(store):
    store.upsert([item("keep")])
    # A NOT NULL violation in the middle of the batch must roll back the rows before it.
    bad = item("bad", title=None)  # type: ignore[arg-type]
    with pytest.raises(sa.exc.IntegrityError):
        store.upsert([item("new-1"), bad, item("new-2")])
    assert sorted(i.external_id for i in store.list_items()) == ["keep"]


def test_list_count_iter_and_get_many(store):
    store.upsert([item(f"id-{n:04d}") for n in range(1203)])
    assert store.count() == 1203
    page = store.list_items(limit=10, offset=1200)
    assert [i.external_id for i in page] == ["id-1200", "id-1201", "id-1202"]
    assert [i.external_id for i in store.iter_all(batch_size=500)] == [f"id-{n:04d}" for n in range(1203)]
    found = store.get_many(["id-0001", "nope", "id-1202", "id-0001"])
    assert set(found) == {"id-0001", "id-1202"}


def test_hubspot_object_ids_are_recorded(store):
    store.upsert([item("a"), item("b")])
    store.set_hubspot_object_ids({"a": "9001"})
    assert store.get("a").hubspot_object_id == "9001"
    assert store.get("b").hubspot_object_id is None
    # A re-import must not forget the sync state.
    store.upsert([item("a", title="changed")])
    assert store.get("a").hubspot_object_id == "9001"


def test_lookup_by_external_id_uses_an_index(store):
    store.upsert([item("a")])
    indexed = [ix for ix in sa.inspect(store.engine).get_indexes("media_items")]
    uniques = sa.inspect(store.engine).get_unique_constraints("media_items")
    columns = [tuple(ix["column_names"]) for ix in indexed] + [tuple(u["column_names"]) for u in uniques]
    assert ("external_id",) in columns
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            plan = conn.execute(sa.text("EXPLAIN QUERY PLAN SELECT * FROM media_items WHERE external_id = 'a'")).all()
        assert "USING INDEX" in " ".join(str(r) for r in plan)
    else:
        with store.engine.connect() as conn:
            conn.execute(sa.text("SET enable_seqscan = off"))
            plan = conn.execute(sa.text("EXPLAIN SELECT * FROM media_items WHERE external_id = 'a'")).all()
        assert "Index" in " ".join(str(r) for r in plan)


def test_schema_upgrade_is_idempotent(store):
    assert not schema_version.upgrade(store.engine).changed
    assert not schema_version.upgrade(store.engine).changed
    assert media_items.name in sa.inspect(store.engine).get_table_names()


@pytest.mark.parametrize("bad_id", ["", "a\x00b", "x" * 300, "a/b", "line\nbreak"])
def test_ids_that_cannot_exist_are_not_found_without_a_query(store, bad_id, monkeypatch):
    store.upsert([item("a")])
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(parameters)

    sa.event.listen(store.engine, "before_cursor_execute", record)
    # get() goes through a raw DBAPI cursor, which SQLAlchemy's events do not see.
    with monkeypatch.context() as patched:
        patched.setattr(store.engine, "raw_connection", lambda: pytest.fail(f"get({bad_id!r}) queried"))
        assert store.get(bad_id) is None
    assert store.get_many([bad_id]) == {} and sent == []
    assert store.get_many([bad_id, "a"]).keys() == {"a"}
    assert [v for p in sent for v in (p.values() if isinstance(p, dict) else p)] == ["a"]
    sa.event.remove(store.engine, "before_cursor_execute", record)


# --- player-only fields, and older databases gaining new columns ------------------------
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
