"""Import files: read as a stream, every problem reported with its row, and an invalid
file (or a failure half way) imports nothing."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from oembed_server.domain.media import MediaType, Visibility
from oembed_server.usecases.catalog_import import (
    _CHUNK_CHARS,
    CatalogFileError,
    import_catalog,
    read_catalog_rows,
    validate_row,
)
from tests.support.apps import command_runner, make_app
from tests.support.catalog_rows import read_catalog_file

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


def check(store, rows) -> tuple[list, list]:
    """Import ``rows``; (problems, imported items in the catalog)."""
    problems: list = []
    import_catalog(store, rows, problems.append)
    return problems, store.list_items()


def test_valid_row_is_normalised():
    it, problems = validate_row(1, GOOD)
    assert problems == []
    assert it.media_type is MediaType.VIDEO and it.visibility is Visibility.UNLISTED
    assert it.width == 1280 and it.poster_url is None


def test_every_problem_is_reported_with_row_and_field(store):
    rows = [
        GOOD,
        {"external_id": "", "media_type": "MOVIE", "title": "x", "width": -3, "colour": "red"},
        {"external_id": "a/b", "title": "  ", "media_type": "VIDEO", "file_url": "ftp://x", "duration_ms": "12s"},
        {"external_id": "img", "media_type": "IMAGE", "title": "No file"},
        dict(GOOD),
        "not an object",
    ]
    problems, imported = check(store, rows)
    assert imported == []
    found = {(p.row, p.field) for p in problems}
    assert {(2, "external_id"), (2, "media_type"), (2, "width"), (2, "colour")} <= found
    assert {(3, "external_id"), (3, "title"), (3, "file_url"), (3, "duration_ms")} <= found
    assert (4, "file_url") in found  # HubSpot requires hs_file_url on images
    assert (5, "external_id") in found  # duplicate of row 1
    assert (6, None) in found
    assert "duplicate of row 1" in next(str(p) for p in problems if p.row == 5)
    assert str(next(p for p in problems if p.field == "media_type")).startswith("row 2, field 'media_type'")


@pytest.mark.parametrize("value", [True, 1.5, 1280.0, "1e3", [], 2**31, "1_000", "+5", "-5", "\u0663\u0660",
                                   "\uff15", "5" * 10_000])
def test_bad_integers(value):
    _, problems = validate_row(1, GOOD | {"width": value})
    assert [p.field for p in problems] == ["width"]


def test_integers_in_text_are_ascii_digits(store):
    it, problems = validate_row(1, GOOD | {"width": " 0640 ", "duration_ms": "0"})
    assert problems == [] and it.width == 640 and it.duration_ms == 0


@pytest.mark.parametrize("external_id", [".", "..", "rtl\u202egpj.exe", "a\u2066b", "x\u0085y", "x\u009fy", "x\x7f"])
def test_ids_browsers_would_rewrite_or_that_display_misleadingly_are_refused(external_id):
    _, problems = validate_row(1, GOOD | {"external_id": external_id})
    assert [p.field for p in problems] == ["external_id"]


def test_repeated_json_keys_are_refused_with_the_row():
    rows = read_catalog_file("c.json", b'[{"external_id": "a", "media_type": "VIDEO", "title": "A"},'
                                       b' {"external_id": "b", "media_type": "VIDEO", "title": "B", "title": "C"}]')
    assert validate_row(1, rows[0])[1] == []
    assert [str(p) for p in validate_row(2, rows[1])[1]] == ["row 2, field 'title': is given more than once"]


def test_repeated_csv_columns_are_refused():
    with pytest.raises(CatalogFileError, match="header row: column 'title' appears more than once"):
        read_catalog_file("c.csv", b"external_id,media_type,title,title\nx,VIDEO,A,B\n")


def test_csv_uses_the_same_headers_and_empty_cells_are_null(store):
    header = ",".join(GOOD)
    data = (header + "\n" + ",".join(str(v) for v in GOOD.values()) + "\n"
            + "clip-2,AUDIO,Podcast" + "," * (len(GOOD) - 3) + "\n").encode()
    problems, imported = check(store, read_catalog_file("catalog.csv", data))
    assert problems == []
    assert imported[0].duration_ms == 61000 and imported[1].file_url is None


def test_csv_row_longer_than_the_header_is_named():
    rows = read_catalog_file("c.csv", b"external_id,media_type,title\nx,VIDEO,T,surplus\n")
    assert [str(p) for p in validate_row(1, rows[0])[1]] == ["row 1: has more cells than the header has columns"]


def test_unreadable_files_name_the_problem():
    with pytest.raises(CatalogFileError, match="invalid JSON at line 1"):
        read_catalog_file("c.json", b"[{")
    with pytest.raises(CatalogFileError, match="invalid JSON at line 3 column 2: Expecting ',' delimiter"):
        read_catalog_file("c.json", b'[\n{"a": 1}\n {"b": 2}]')
    with pytest.raises(CatalogFileError, match="expected a JSON array"):
        read_catalog_file("c.json", b'{"external_id": "x"}')
    with pytest.raises(CatalogFileError, match="not UTF-8"):
        read_catalog_file("c.json", b"\xff\xfe\x00")
    with pytest.raises(CatalogFileError, match="row 1: nested too deeply"):
        read_catalog_file("c.json", b"[" * 200_000)
    with pytest.raises(CatalogFileError, match="row 2: a number too long to read"):
        read_catalog_file("c.json", b'[1, {"width": ' + b"9" * 5000 + b"}]")
    with pytest.raises(CatalogFileError, match="row 2: NaN is not a JSON value"):
        read_catalog_file("c.json", b"[1, NaN]")
    with pytest.raises(CatalogFileError, match="line 2: a cell is longer than 131072 characters"):
        read_catalog_file("c.csv", b"external_id,media_type,title\nx,VIDEO," + b"t" * 200_000 + b"\n")


def test_json_rows_are_read_one_at_a_time_across_chunks():
    rows = [GOOD | {"external_id": f"clip-{i}", "title": "\u00e9" * 300 + "\\"} for i in range(20_000)]
    data = json.dumps(rows, indent=1).encode()
    stream = io.BytesIO(data)
    reader = read_catalog_rows("big.json", stream)
    assert next(reader)["external_id"] == "clip-0"
    # The first row came from the first chunk, not from the whole file read up front.
    assert stream.tell() <= 4 * _CHUNK_CHARS < len(data)
    assert [r["external_id"] for r in reader] == [f"clip-{i}" for i in range(1, 20_000)]


def test_a_broken_row_far_into_the_file_names_its_line():
    lines = ["["] + [json.dumps(GOOD | {"external_id": f"c{i}"}) + "," for i in range(9_000)] + ['{"a": tru}]']
    with pytest.raises(CatalogFileError, match="invalid JSON at line 9002 column 7"):
        read_catalog_file("c.json", "\n".join(lines).encode())


def test_staged_rows_are_applied_in_batches_inside_one_transaction(store):
    rows = [GOOD | {"external_id": f"clip-{i}"} for i in range(5_001)]
    problems: list = []
    outcome = import_catalog(store, rows, problems.append)
    assert problems == [] and outcome.report.inserted == 5_001 and store.count() == 5_001
    assert [i.external_id for i in store.list_items(limit=3)] == ["clip-0", "clip-1", "clip-2"]
    changed = [GOOD | {"external_id": f"clip-{i}", "title": "New" if i % 1000 == 0 else GOOD["title"]}
               for i in range(5_001)] + [GOOD | {"external_id": "clip-new"}]
    outcome = import_catalog(store, changed, problems.append)
    report = outcome.report
    assert (report.inserted, report.updated, report.unchanged) == (1, 6, 4_995)
    assert store.get("clip-3000").title == "New"


def test_a_duplicate_at_the_end_of_a_long_file_imports_nothing(store):
    rows = [GOOD | {"external_id": f"clip-{i}"} for i in range(3_000)] + [GOOD | {"external_id": "clip-7"}]
    problems, imported = check(store, rows)
    assert [str(p) for p in problems] == ["row 3001, field 'external_id': duplicate of row 8 ('clip-7')"]
    assert imported == []


def test_a_file_error_after_good_rows_imports_nothing(store):
    data = (json.dumps([GOOD | {"external_id": f"clip-{i}"} for i in range(3_000)])[:-1] + ", oops]").encode()
    with pytest.raises(CatalogFileError):
        check(store, read_catalog_rows("c.json", io.BytesIO(data)))
    assert store.count() == 0


def test_import_command_upserts_and_is_idempotent(database_url, tmp_path):
    app = make_app(database_url)
    runner = command_runner(app)
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
    runner = command_runner(app)
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
    result = command_runner(app).invoke(args=["import-catalog", str(path)])
    assert result.exit_code == 1
    assert "invalid JSON" in result.output and "nothing imported" in result.output


def test_a_database_error_half_way_is_one_line_and_rolls_back(sqlite_url, tmp_path):
    app = make_app(sqlite_url)
    catalog = app.extensions["catalog"]
    catalog.upsert([validate_row(1, GOOD)[0]])
    with catalog.engine.begin() as conn:  # a real database refusal, after the update statement ran
        conn.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON media_items WHEN NEW.external_id = 'boom' "
                             "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END")
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps([GOOD | {"title": "Renamed"}, GOOD | {"external_id": "boom"}]))
    result = command_runner(app).invoke(args=["import-catalog", str(path)])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: database error, nothing imported: refused by a trigger"
    assert catalog.get("clip-1").title == GOOD["title"] and catalog.count() == 1
    catalog.dispose()


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps([GOOD]))
    with socket_bound_port() as port:  # nothing listens there
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
               "OEMBED_DATABASE_URL": f"postgresql://importer:hunter2secret@127.0.0.1:{port}/catalog"}
        result = subprocess.run([sys.executable, "-m", "oembed_server.cli", "import-catalog", str(path)],
                                env=env | {"PYTHONPATH": sys.path[0]}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "database" in lines[0] and "refused" in lines[0], result.stderr
    assert "hunter2secret" not in result.stderr + result.stdout and "Traceback" not in result.stderr


def socket_bound_port():
    import contextlib
    import socket

    @contextlib.contextmanager
    def bound():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
            yield s.getsockname()[1]
    return bound()
