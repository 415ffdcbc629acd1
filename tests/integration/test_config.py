"""Settings: defaults, and a message naming the variable for every bad value."""
from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from oembed_server.hubspot.client_config import HubSpotConfig
from oembed_server.hubspot.oauth_api import DEFAULT_AUTHORIZE_URL, DEFAULT_SCOPES
from oembed_server.jobs import worker as worker_module
from oembed_server.settings import ConfigError, load_settings
from oembed_server.web.install_routes import install_settings
from tests.support.apps import command_runner, make_app

KEY = "7vQ2-x9KpLm3RtYb8WcZ1nHd5FgJ0sAe4Uo6Ii"


def load(**env):
    return load_settings(env, "/tmp/instance")


def test_defaults():
    s = load()
    assert s.public_url == "http://127.0.0.1:5000"
    assert s.database_url == "sqlite:////tmp/instance/catalog.sqlite3" and s.embedded_database
    assert s.effective_url_schemes == ("http://127.0.0.1:5000/media/*",)
    assert s.cache_age == 3600 and not s.production
    assert len(s.secret_key) >= 32


def test_values_are_normalised():
    s = load(OEMBED_PUBLIC_URL="https://media.example.com/",
             OEMBED_DATABASE_URL="postgresql://u:p@db/catalog",
             OEMBED_URL_SCHEMES="https://media.example.com/media/*, http://media.example.com/media/*",
             OEMBED_SECRET_KEY=KEY)
    assert s.public_url == "https://media.example.com"
    assert s.database_url == "postgresql+psycopg://u:p@db/catalog"
    assert s.effective_url_schemes == ("https://media.example.com/media/*", "http://media.example.com/media/*")


@pytest.mark.parametrize("env, named", [
    ({"OEMBED_PUBLIC_URL": "media.example.com"}, "OEMBED_PUBLIC_URL"),
    ({"OEMBED_PUBLIC_URL": "ftp://media.example.com"}, "OEMBED_PUBLIC_URL"),
    ({"OEMBED_PUBLIC_URL": "http://media.example.com:99999"}, "OEMBED_PUBLIC_URL"),
    ({"OEMBED_PUBLIC_URL": "https://m.example.com/?x=1"}, "OEMBED_PUBLIC_URL"),
    ({"OEMBED_DATABASE_URL": "not a url"}, "OEMBED_DATABASE_URL"),
    ({"OEMBED_DATABASE_URL": "mysql://u@h/db"}, "OEMBED_DATABASE_URL"),
    ({"OEMBED_SECRET_KEY": "short"}, "OEMBED_SECRET_KEY"),
    ({"OEMBED_SECRET_KEY": " " * 32}, "OEMBED_SECRET_KEY"),
    ({"OEMBED_SECRET_KEY": " " * 40 + "abc"}, "OEMBED_SECRET_KEY"),
    ({"OEMBED_SECRET_KEY": "k" * 64}, "OEMBED_SECRET_KEY"),
    ({"OEMBED_SECRET_KEY": "password" * 5}, "OEMBED_SECRET_KEY"),
    ({"OEMBED_SECRET_KEY": "abcd" * 8 + "e"}, "OEMBED_SECRET_KEY"),
    ({"OEMBED_ENV": "production"}, "OEMBED_SECRET_KEY"),
    ({"OEMBED_ENV": "staging"}, "OEMBED_ENV"),
    ({"OEMBED_CACHE_AGE": "-1"}, "OEMBED_CACHE_AGE"),
    ({"OEMBED_CACHE_AGE": "soon"}, "OEMBED_CACHE_AGE"),
    ({"OEMBED_CACHE_AGE": "1_000"}, "OEMBED_CACHE_AGE"),
    ({"OEMBED_CACHE_AGE": "+5"}, "OEMBED_CACHE_AGE"),
    ({"OEMBED_CACHE_AGE": "\u0663"}, "OEMBED_CACHE_AGE"),
    ({"OEMBED_PROVIDER_NAME": "  "}, "OEMBED_PROVIDER_NAME"),
    ({"OEMBED_EVENTS_RETENTION_DAYS": "a month"}, "OEMBED_EVENTS_RETENTION_DAYS"),
    ({"OEMBED_EVENTS_RETENTION_DAYS": "-1"}, "OEMBED_EVENTS_RETENTION_DAYS"),
    ({"OEMBED_EVENTS_FLUSH_MS": "soon"}, "OEMBED_EVENTS_FLUSH_MS"),
    ({"OEMBED_EVENTS_FLUSH_MS": "-5"}, "OEMBED_EVENTS_FLUSH_MS"),
    ({"OEMBED_EVENTS_FLUSH_MS": "nan"}, "OEMBED_EVENTS_FLUSH_MS"),
    ({"OEMBED_EVENTS_FLUSH_MS": "60000"}, "OEMBED_EVENTS_FLUSH_MS"),
    ({"OEMBED_URL_SCHEMES": "ftp://media.example.com/*"}, "OEMBED_URL_SCHEMES"),
    ({"HUBSPOT_READ_TIMEOUT_S": "nan"}, "HUBSPOT_READ_TIMEOUT_S"),
    ({"HUBSPOT_RATE_LIMIT": "lots"}, "HUBSPOT_RATE_LIMIT"),
    ({"HUBSPOT_RATE_LIMIT": "0"}, "HUBSPOT_RATE_LIMIT"),
    ({"HUBSPOT_APP_ID": "0"}, "HUBSPOT_APP_ID"),
    ({"HUBSPOT_PORTAL_ID": "0"}, "HUBSPOT_PORTAL_ID"),
    ({"HUBSPOT_API_BASE": "ftp://x"}, "HUBSPOT_API_BASE"),
    ({"HUBSPOT_MEDIA_EVENTS_VERSION": "v9"}, "HUBSPOT_MEDIA_EVENTS_VERSION"),
    ({"HUBSPOT_AUTHORIZE_URL": "app.hubspot.com/oauth/authorize"}, "HUBSPOT_AUTHORIZE_URL"),
])
def test_bad_settings_name_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        load(**env)


@pytest.mark.parametrize("also_wrong", [
    {"OEMBED_ENV": "production"},  # the secret key it then requires is missing
    {"OEMBED_ENV": "production", "HUBSPOT_CLIENT_ID": "", "HUBSPOT_APP_ID": ""},  # and what installs need
])
@pytest.mark.parametrize("malformed, message", [
    ({"HUBSPOT_READ_TIMEOUT_S": "nan"}, "HUBSPOT_READ_TIMEOUT_S must be a finite number, got 'nan'"),
    ({"OEMBED_CACHE_AGE": "soon"}, "OEMBED_CACHE_AGE must be a whole number, got 'soon'"),
    ({"HUBSPOT_AUTHORIZE_URL": "nowhere"}, "HUBSPOT_AUTHORIZE_URL must be an absolute http(s) URL, got 'nowhere'"),
])
def test_a_malformed_value_is_named_before_any_cross_check(also_wrong, malformed, message):
    with pytest.raises(ConfigError) as err:
        load(**also_wrong, **malformed)
    assert str(err.value) == message


def test_settings_hold_the_hubspot_config_and_need_no_hubspot_variable():
    bare = load()
    assert bare.hubspot == HubSpotConfig()
    assert bare.hubspot_authorize_url == DEFAULT_AUTHORIZE_URL and bare.hubspot_scopes == DEFAULT_SCOPES
    s = load(HUBSPOT_APP_ID="4242", HUBSPOT_READ_TIMEOUT_S="2.5", HUBSPOT_CLIENT_SECRET="shh",
             HUBSPOT_SCOPES="oauth, content", HUBSPOT_PUSH_RECORD="/tmp/record.json")
    assert (s.hubspot.app_id, s.hubspot.read_timeout_s, s.hubspot.client_secret) == (4242, 2.5, "shh")
    assert s.hubspot_scopes == ("oauth", "content") and s.push_record_path == "/tmp/record.json"
    assert load().push_record_path == "/tmp/instance/hubspot-push-record.json"
    assert "shh" not in repr(s) and s.secret_key not in repr(s)


def test_database_password_is_not_echoed():
    with pytest.raises(ConfigError) as err:
        load(OEMBED_DATABASE_URL="oracle://user:hunter2@db/x")
    assert "hunter2" not in str(err.value)


def test_cli_fails_at_start_with_the_setting_named(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "oembed_server.cli", "serve", "--port", "5999"],
        env={"PATH": "/usr/bin:/bin", "OEMBED_PUBLIC_URL": "nope", "HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "OEMBED_PUBLIC_URL" in result.stderr
    assert "Traceback" not in result.stderr


def _run(args: list[str], tmp_path, **env) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": sys.path[0],
            "OEMBED_DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.sqlite3'}"}
    return subprocess.run(args, env=base | env, capture_output=True, text=True, timeout=60, cwd=tmp_path)


def test_gunicorn_without_a_secret_in_production_says_so_in_one_line(tmp_path):
    result = _run([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", "127.0.0.1:0",
                   "oembed_server:create_app()"], tmp_path, OEMBED_ENV="production")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.count("configuration error: OEMBED_SECRET_KEY is required") == 1, result.stderr


def test_the_random_key_warning_is_not_printed_by_commands_that_do_not_serve(tmp_path):
    catalog = tmp_path / "catalog.json"
    catalog.write_text('[{"external_id": "a", "media_type": "VIDEO", "title": "A"}]')
    # A named database is upgraded by `db upgrade` (or its other name init-db) before use.
    for args in (["--help"], ["init-db"], ["db", "upgrade"], ["import-catalog", str(catalog)]):
        result = _run([sys.executable, "-m", "oembed_server.cli", *args], tmp_path)
        assert result.returncode == 0, result.stderr
        assert "OEMBED_SECRET_KEY" not in result.stdout + result.stderr, args


def test_app_install_pages_worker_and_commands_share_one_frozen_settings(sqlite_url, monkeypatch):
    app = make_app(sqlite_url, HUBSPOT_APP_ID="4242", HUBSPOT_RATE_LIMIT="7", HUBSPOT_CLIENT_ID="client")
    settings = app.extensions["oembed_settings"]
    assert "hubspot_environ" not in app.extensions
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.public_url = "https://elsewhere.example.com"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.hubspot.rate_limit = 1  # type: ignore[misc]
    with app.test_request_context("/hubspot/connect"):
        assert install_settings().config is settings.hubspot

    worker = worker_module.build_worker(app.extensions["catalog"], settings)
    assert worker.settings is settings and worker.portals.config is settings.hubspot

    built = []
    real_build = worker_module.build_worker
    monkeypatch.setattr(worker_module, "build_worker", lambda *a, **kw: built.append(a) or real_build(*a, **kw))
    result = command_runner(app).invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    [(catalog, passed)] = built
    assert passed is settings and catalog is app.extensions["catalog"]
    app.extensions["catalog"].dispose()


def test_the_app_refuses_to_start_on_a_malformed_hubspot_setting(sqlite_url):
    with pytest.raises(ConfigError, match="HUBSPOT_READ_TIMEOUT_S must be a finite number"):
        make_app(sqlite_url, HUBSPOT_READ_TIMEOUT_S="nan")


def test_gunicorn_names_a_malformed_hubspot_setting_in_one_line(tmp_path):
    result = _run([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", "127.0.0.1:0",
                   "oembed_server:create_app()"], tmp_path, OEMBED_ENV="production", HUBSPOT_READ_TIMEOUT_S="nan")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.count("configuration error: HUBSPOT_READ_TIMEOUT_S must be a finite number") == 1, \
        result.stderr
