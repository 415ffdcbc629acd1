"""setup_media_types: creates only what is missing, prints object type names, adds extra properties."""
from __future__ import annotations

import json

import pytest

from oembed_server.domain.media import MediaType
from oembed_server.hubspot.media_bridge_api import MediaBridgeSettings
from oembed_server.usecases.media_type_setup import (
    PropertiesFileError,
    load_extra_properties,
    setup_media_types,
)
from tests.hubspot_emulator.testing import assert_no_secrets, make_catalog, make_client, run_script, script_env
from tests.support.databases import migrated_sqlite_url

RATING = {"name": "rating", "label": "Rating", "type": "number", "fieldType": "number",
          "groupName": "media_information"}


def test_script_creates_missing_types_once_and_prints_their_names(emulator, sqlite_url):
    emulator.state.define_media_types("VIDEO")
    env = script_env(emulator, sqlite_url)
    first = run_script("setup_media_types", "--types", "VIDEO,AUDIO,IMAGE", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["VIDEO: a4242_Videos (already defined)", "AUDIO: a4242_Audio (created)",
                                         "IMAGE: a4242_Images (created)"]
    creates = [r.json for r in emulator.state.requests if r.method == "POST"]
    assert creates == [{"mediaTypes": ["AUDIO", "IMAGE"]}]

    second = run_script("setup_media_types", "--types", "VIDEO,AUDIO,IMAGE", "--json", env=env)
    result = json.loads(second.stdout)["result"]
    assert result["changed"] is False and result["created_types"] == []
    assert result["object_types"] == {"VIDEO": "a4242_Videos", "AUDIO": "a4242_Audio", "IMAGE": "a4242_Images"}
    assert emulator.state.count("POST") == 1
    assert_no_secrets(first.stdout + first.stderr + second.stdout, emulator)


def test_dry_run_sends_nothing(emulator, sqlite_url):
    result = run_script("setup_media_types", "--types", "VIDEO", "--dry-run", env=script_env(emulator, sqlite_url))
    assert result.returncode == 0, result.stderr
    assert emulator.state.requests == []
    assert "POST" in result.stdout and "object-definitions" in result.stdout and "[developer]" in result.stdout
    assert_no_secrets(result.stdout, emulator)


def test_bad_types_and_missing_key_are_one_line_errors(emulator, sqlite_url):
    bad = run_script("setup_media_types", "--types", "VIDEO,GIF", env=script_env(emulator, sqlite_url))
    assert bad.returncode == 1 and "GIF" in bad.stderr and bad.stderr.count("\n") == 1
    nokey = run_script("setup_media_types", "--types", "VIDEO",
                       env=script_env(emulator, sqlite_url, HUBSPOT_DEVELOPER_API_KEY="",
                                      HUBSPOT_DEVELOPER_ACCESS_TOKEN=""))
    assert nokey.returncode == 1 and "HUBSPOT_DEVELOPER_ACCESS_TOKEN" in nokey.stderr
    assert "HUBSPOT_DEVELOPER_API_KEY" in nokey.stderr
    noapp = run_script("setup_media_types", "--types", "VIDEO", env=script_env(emulator, sqlite_url, HUBSPOT_APP_ID=""))
    assert noapp.returncode == 1 and "--app-id" in noapp.stderr
    assert emulator.state.requests == []


def test_extra_properties_are_created_then_updated_then_left_alone(emulator, tmp_path):
    app = MediaBridgeSettings(make_client(emulator), 4242)
    path = tmp_path / "props.json"
    path.write_text(json.dumps({"VIDEO": [RATING]}))
    report = setup_media_types(app, ["VIDEO", "AUDIO"], load_extra_properties(path, ["VIDEO", "AUDIO"]))
    assert report.created_properties == ["a4242_Videos.rating"]
    path.write_text(json.dumps([RATING | {"label": "Stars"}]))
    report = setup_media_types(app, ["VIDEO", "AUDIO"], load_extra_properties(path, ["VIDEO", "AUDIO"]))
    assert report.updated_properties == ["a4242_Videos.rating"] and report.created_properties == ["a4242_Audio.rating"]
    again = setup_media_types(app, ["VIDEO", "AUDIO"], load_extra_properties(path, ["VIDEO", "AUDIO"]))
    assert not again.changed
    assert [p["label"] for p in emulator.state.properties["a4242_Videos"] if p["name"] == "rating"] == ["Stars"]


def test_keys_hubspot_adds_to_options_do_not_make_every_run_an_update(emulator, tmp_path):
    genre = {"name": "genre", "label": "Genre", "type": "enumeration", "fieldType": "select",
             "groupName": "media_information",
             "options": [{"label": "Talk", "value": "talk"}, {"label": "Demo", "value": "demo"}]}
    app = MediaBridgeSettings(make_client(emulator), 4242)
    path = tmp_path / "props.json"
    path.write_text(json.dumps([genre]))
    assert setup_media_types(app, ["VIDEO"], load_extra_properties(path, ["VIDEO"])).created_properties
    # HubSpot answers options with keys of its own (unconfirmed: the emulator stores what it gets).
    held = next(p for p in emulator.state.properties["a4242_Videos"] if p["name"] == "genre")
    held["options"] = [o | {"displayOrder": n, "hidden": False} for n, o in enumerate(held["options"])]
    assert not setup_media_types(app, ["VIDEO"], load_extra_properties(path, ["VIDEO"])).changed
    path.write_text(json.dumps([genre | {"options": [{"label": "Talks", "value": "talk"}, genre["options"][1]]}]))
    report = setup_media_types(app, ["VIDEO"], load_extra_properties(path, ["VIDEO"]))
    assert report.updated_properties == ["a4242_Videos.genre"]


@pytest.mark.parametrize("content, message", [
    ("{not json", "cannot read JSON"),
    (json.dumps([{"name": "rating"}]), "missing label, type, fieldType, groupName"),
    (json.dumps([RATING | {"name": "hs_mine"}]), "hs_ prefix"),
    (json.dumps({"AUDIO": [RATING]}), "not in --types"),
    (json.dumps("rating"), "expected a list"),
])
def test_bad_property_files_are_refused_before_sending(tmp_path, content, message):
    path = tmp_path / "props.json"
    path.write_text(content)
    with pytest.raises(PropertiesFileError, match=message):
        load_extra_properties(path, ["VIDEO"])


def test_a_property_type_change_is_refused(emulator, tmp_path):
    app = MediaBridgeSettings(make_client(emulator), 4242)
    setup_media_types(app, ["VIDEO"], {"VIDEO": [RATING]})
    with pytest.raises(PropertiesFileError, match="cannot change"):
        setup_media_types(app, ["VIDEO"], {"VIDEO": [RATING | {"type": "string", "fieldType": "text"}]})


def test_types_default_to_the_catalogs_and_a_narrower_list_warns(emulator, sqlite_url, tmp_path):
    make_catalog(sqlite_url, {MediaType.VIDEO: 1, MediaType.DOCUMENT: 2}).dispose()
    env = script_env(emulator, sqlite_url)
    result = run_script("setup_media_types", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["VIDEO: a4242_Videos (created)", "DOCUMENT: a4242_Documents (created)"]
    narrowed = run_script("setup_media_types", "--types", "VIDEO", env=env)
    assert narrowed.returncode == 0 and "the catalog also holds DOCUMENT" in narrowed.stderr
    empty = run_script("setup_media_types", env=script_env(emulator, migrated_sqlite_url(tmp_path / "empty.sqlite3")))
    assert empty.returncode == 1 and "catalog is empty" in empty.stderr
