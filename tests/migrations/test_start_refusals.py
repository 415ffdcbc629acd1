"""Nothing but `oembed-server db upgrade` changes a named database's schema: the app, gunicorn,
the worker and the scripts started against a database that is not at the newest revision
stop with one line naming that command, and leave the database as they found it. The
embedded default stays one command: `serve` upgrades its own file."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import flask
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from oembed_server.cli import cli
from oembed_server.storage import schema_version
from oembed_server.storage.schema_version import SchemaNotCurrent
from tests.hubspot_emulator.testing import invoke_script, script_env
from tests.support.apps import make_app
from tests.support.databases import create_legacy_schema

REPO = Path(__file__).resolve().parents[2]
UPGRADE = "run `oembed-server db upgrade` first"


def refusal(database_url: str) -> str:
    """The one line every process gives for this database."""
    head = schema_version.head_revision()
    engine = sa.create_engine(database_url)
    legacy = bool(sa.inspect(engine).get_table_names())
    engine.dispose()
    where = f"has {schema_version.PRE_MIGRATION_SCHEMA}" if legacy else "has no schema yet"
    return f"the database {where}, this version needs {head}: {UPGRADE}"


def table_names(database_url: str) -> set[str]:
    engine = sa.create_engine(database_url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture(params=["empty", "legacy"])
def behind_database_url(request, empty_database_url) -> str:
    """A named database with no schema, or with the schema of the release before migrations."""
    if request.param == "legacy":
        create_legacy_schema(empty_database_url)
    return empty_database_url


def run(args: list[str], database_url: str, tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OEMBED_", "HUBSPOT_"))}
    env |= {"HOME": str(tmp_path), "OEMBED_DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)


def test_create_app_refuses_a_database_behind_the_newest_revision(behind_database_url):
    tables = table_names(behind_database_url)
    with pytest.raises(SchemaNotCurrent) as refused:
        make_app(behind_database_url)
    assert str(refused.value) == refusal(behind_database_url)
    assert table_names(behind_database_url) == tables  # refused, not repaired


def test_db_current_says_the_database_is_behind_and_names_the_command(behind_database_url, monkeypatch):
    monkeypatch.setenv("OEMBED_DATABASE_URL", behind_database_url)
    result = CliRunner().invoke(cli, ["db", "current"])
    where = schema_version.PRE_MIGRATION_SCHEMA if table_names(behind_database_url) else schema_version.NO_SCHEMA
    assert result.output == f"{where} (newest is {schema_version.head_revision()}: run `oembed-server db upgrade`)\n"


def test_gunicorn_on_a_database_behind_says_so_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    result = run(["gunicorn", "--workers", "1", "--bind", "127.0.0.1:0", "oembed_server:create_app()"], url, tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.count(UPGRADE) == 1, result.stderr
    assert f"oembed_server: {refusal(url)}\n" in result.stderr
    assert "App failed to load" in result.stderr
    assert table_names(url) == set()


@pytest.mark.parametrize("legacy", [False, True], ids=["empty", "legacy"])
def test_the_worker_on_a_database_behind_stops_with_one_line(tmp_path, legacy):
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    if legacy:
        create_legacy_schema(url)
    tables = table_names(url)
    result = run(["oembed_server.cli", "worker", "--once"], url, tmp_path)
    assert result.returncode == 1
    assert result.stderr == f"Error: {refusal(url)}\n"
    assert table_names(url) == tables


def test_a_script_on_a_database_behind_stops_with_one_line(behind_database_url):
    tables = table_names(behind_database_url)
    result = invoke_script("setup_media_types", "--dry-run", env=script_env(None, behind_database_url))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and refusal(behind_database_url) in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert table_names(behind_database_url) == tables


def test_serve_on_the_embedded_default_upgrades_its_own_database(tmp_path, monkeypatch):
    """OEMBED_DATABASE_URL unset: the quick start's `serve` makes and upgrades the instance
    folder's catalog, which `db current` then finds at the newest revision."""
    instance = tmp_path / "instance"
    monkeypatch.setattr(flask.Flask, "auto_find_instance_path", lambda self: str(instance))
    served = []
    monkeypatch.setattr("oembed_server.cli.commands.run_simple", lambda *args, **kwargs: served.append(args))
    result = CliRunner().invoke(cli, ["serve", "--port", "5999"])
    assert result.exit_code == 0, result.output
    assert [args[:2] for args in served] == [("127.0.0.1", 5999)]
    assert "Sample media: 4 added" in result.output
    assert (instance / "catalog.sqlite3").exists()
    current = CliRunner().invoke(cli, ["db", "current"])
    assert current.output == f"{schema_version.head_revision()} (newest)\n"
