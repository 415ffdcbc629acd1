"""Import files: validation collects every problem, and an invalid file imports nothing."""
from __future__ import annotations

import json

import pytest

from oembed_server.catalog_import import CatalogFileError, read_catalog_file, validate_rows
from oembed_server.media import MediaType, Visibility
from tests.conftest import make_app

GOOD = {
    "external_id": "clip-1",
    "media_type": "video",
    "title": "Launch keynote",
    "file_url": "https://cdn.example.com/clip-1.webm",
    "thumbnail_url": "https://cdn.example.com/clip-1.png",
    "thumbnail_width": 640,
    "thumbnail_height": 360,
    "duration_ms": 61000,
    "width": 1280,
    "height": 720,
    "visibility": "Unlisted",
}


def test_valid_row_is_normalised():
    items, problems = validate_rows([GOOD])
    assert problems == []
    (it,) = items
    assert it.media_type is MediaType.VIDEO and it.visibility is Visibility.UNLISTED
    assert it.width == 1280 and it.poster_url is None


def test_every_problem_is_reported_with_row_and_field():
    rows = [
        GOOD,
        {"external_id": "", "media_type": "MOVIE", "title": "x", "width": -3, "colour": "red"},
        {"external_id": "a/b", "title": "  ", "media_type": "VIDEO", "file_url": "ftp://x", "duration_ms": "12s"},
        {"external_id": "img", "media_type": "IMAGE", "title": "No file"},
        dict(GOOD),
        "not an object",
    ]
    items, problems = validate_rows(rows)
    assert items == []
    found = {(p.row, p.field) for p in problems}
    assert {(2, "external_id"), (2, "media_type"), (2, "width"), (2, "colour")} <= found
    assert {(3, "external_id"), (3, "title"), (3, "file_url"), (3, "duration_ms")} <= found
    assert (4, "file_url") in found  # HubSpot requires hs_file_url on images
    assert (5, "external_id") in found  # duplicate of row 1
    assert (6, None) in found
    assert "duplicate of row 1" in next(str(p) for p in problems if p.row == 5)
    assert str(next(p for p in problems if p.field == "media_type")).startswith("row 2, field 'media_type'")


@pytest.mark.parametrize("value", [True, 1.5, "1e3", [], 2**31])
def test_bad_integers(value):
    _, problems = validate_rows([GOOD | {"width": value}])
    assert [p.field for p in problems] == ["width"]


def test_csv_uses_the_same_headers_and_empty_cells_are_null():
    header = ",".join(GOOD)
    data = (header + "\n" + ",".join(str(v) for v in GOOD.values()) + "\n"
            + "clip-2,AUDIO,Podcast" + "," * (len(GOOD) - 3) + "\n").encode()
    rows = read_catalog_file("catalog.csv", data)
    items, problems = validate_rows(rows)
    assert problems == []
    assert items[0].duration_ms == 61000 and items[1].file_url is None


def test_csv_row_longer_than_the_header_is_named():
    rows = read_catalog_file("c.csv", b"external_id,media_type,title\nx,VIDEO,T,surplus\n")
    _, problems = validate_rows(rows)
    assert [str(p) for p in problems] == ["row 1: has more cells than the header has columns"]


def test_unreadable_files_name_the_problem():
    with pytest.raises(CatalogFileError, match="invalid JSON at line 1"):
        read_catalog_file("c.json", b"[{")
    with pytest.raises(CatalogFileError, match="expected a JSON array"):
        read_catalog_file("c.json", b'{"external_id": "x"}')
    with pytest.raises(CatalogFileError, match="not UTF-8"):
        read_catalog_file("c.json", b"\xff\xfe\x00")


def test_import_command_upserts_and_is_idempotent(database_url, tmp_path):
    app = make_app(database_url)
    runner = app.test_cli_runner()
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps([GOOD, GOOD | {"external_id": "clip-2"}]))
    result = runner.invoke(args=["import-catalog", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 added, 0 updated, 0 unchanged" in result.output
    path.write_text(json.dumps([GOOD | {"title": "Renamed"}, GOOD | {"external_id": "clip-2"}]))
    result = runner.invoke(args=["import-catalog", str(path)])
    assert "0 added, 1 updated, 1 unchanged" in result.output
    assert app.extensions["catalog"].get("clip-1").title == "Renamed"
    app.extensions["catalog"].dispose()


def test_import_command_with_an_invalid_row_imports_nothing(database_url, tmp_path):
    app = make_app(database_url)
    runner = app.test_cli_runner()
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps([GOOD, GOOD | {"external_id": "clip-2", "width": "wide"}]))
    result = runner.invoke(args=["import-catalog", str(path)])
    assert result.exit_code == 1
    assert "catalog.json: row 2, field 'width': 'wide' is not a whole number" in result.output
    assert "Nothing imported: 1 problem(s) in 2 row(s)." in result.output
    assert app.extensions["catalog"].count() == 0
    app.extensions["catalog"].dispose()


def test_import_command_reports_unreadable_file(app, tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text("not json")
    result = app.test_cli_runner().invoke(args=["import-catalog", str(path)])
    assert result.exit_code == 1
    assert "invalid JSON" in result.output
