"""The catalog's library key: import validation, per-library reads, which libraries an
import touched, and older databases gaining the column on start."""
from __future__ import annotations

import sqlalchemy as sa

from oembed_server.domain.media import MediaItem, MediaType
from oembed_server.storage import schema_version
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.usecases.catalog_import import validate_row


def test_library_is_optional_checked_and_defaults_to_default():
    first, problems = validate_row(1, {"external_id": "a", "media_type": "VIDEO", "title": "A"})
    second, more = validate_row(2, {"external_id": "b", "media_type": "VIDEO", "title": "B", "library": "acme"})
    assert not problems + more and [first.library, second.library] == ["default", "acme"]
    _, problems = validate_row(3, {"external_id": "c", "media_type": "VIDEO", "title": "C", "library": "Acme/../x"})
    assert [(p.field, "lower-case" in p.message) for p in problems] == [("library", True)]


def test_reads_by_library_and_the_libraries_an_upsert_touched(database_url):
    catalog = CatalogStore.from_url(database_url)
    schema_version.upgrade(catalog.engine)
    video = dict(media_type=MediaType.VIDEO)
    report = catalog.upsert([MediaItem("a", title="A", **video), MediaItem("b", title="B", library="acme", **video)])
    assert report.libraries == ("acme", "default")
    assert [i.external_id for i in catalog.iter_all(library="acme")] == ["b"]
    # Moving an item touches both libraries; an unchanged one touches none.
    report = catalog.upsert([MediaItem("a", title="A", library="acme", **video),
                             MediaItem("b", title="B", library="acme", **video)])
    assert report.libraries == ("acme", "default") and report.unchanged == 1
    assert catalog.libraries() == ["acme"] and catalog.media_types() == [MediaType.VIDEO]
    catalog.dispose()


def test_an_older_database_gains_the_library_column(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE media_items (id INTEGER PRIMARY KEY, external_id VARCHAR(255) NOT NULL UNIQUE, "
            "media_type VARCHAR(16) NOT NULL, title TEXT NOT NULL, file_url TEXT, thumbnail_url TEXT, "
            "thumbnail_width INTEGER, thumbnail_height INTEGER, poster_url TEXT, duration_ms BIGINT, width INTEGER, "
            "height INTEGER, folder_path TEXT, details_page_link TEXT, author_name TEXT, author_url TEXT, "
            "visibility VARCHAR(16) NOT NULL DEFAULT 'public', created_at DATETIME NOT NULL, "
            "updated_at DATETIME NOT NULL, hubspot_object_id VARCHAR(64))"))
        conn.execute(sa.text("INSERT INTO media_items (external_id, media_type, title, created_at, updated_at) "
                             "VALUES ('old-1', 'VIDEO', 'Old', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
    engine.dispose()
    catalog = CatalogStore.from_url(url)
    schema_version.upgrade(catalog.engine)
    assert [(i.external_id, i.library) for i in catalog.iter_all(library="default")] == [("old-1", "default")]
    catalog.dispose()
