"""Every script against the emulator with spec validation on and the developer API key refused:
each request they send, and each answer the emulator gives them, matches HubSpot's published
specs. Prints the operations covered and the requests checked (run with -s to see them)."""
from __future__ import annotations

import json

import pytest

from oembed_server.domain.media import MediaType
from oembed_server.hubspot.crm_objects_api import CrmObjects
from oembed_server.hubspot.media_bridge_api import MediaBridgeSettings
from oembed_server.hubspot.media_events_api import MediaEvents
from oembed_server.usecases.domain_registration import desired_endpoints, register_domain
from oembed_server.usecases.media_sync import sync_catalog
from oembed_server.usecases.media_type_setup import load_extra_properties, setup_media_types
from tests.hubspot_emulator import LiveEmulator
from tests.hubspot_emulator.testing import PUBLIC_URL, make_catalog, make_client, run_script, script_env

EXTRA_PROPERTIES = [{"name": "genre", "label": "Genre", "type": "enumeration", "fieldType": "select",
                     "groupName": "media_information",
                     "options": [{"label": "Talk", "value": "talk"}, {"label": "Demo", "value": "demo"}]}]


@pytest.fixture
def strict():
    with LiveEmulator(rate_interval_ms=200, accept_developer_hapikey=False) as live:
        yield live


def _run(name: str, *args: str, env: dict) -> None:
    result = run_script(name, *args, env=env)
    assert result.returncode == 0, f"{name} {' '.join(args)}: {result.stderr}"


def test_all_five_scripts_speak_the_published_specs(strict, sqlite_url, tmp_path):
    catalog = make_catalog(sqlite_url, {MediaType.VIDEO: 3, MediaType.AUDIO: 1, MediaType.IMAGE: 1,
                                        MediaType.DOCUMENT: 1})
    props = tmp_path / "props.json"
    props.write_text(json.dumps({"VIDEO": EXTRA_PROPERTIES}))
    env = script_env(strict, sqlite_url, HUBSPOT_PUSH_RECORD=str(tmp_path / "record.json"),
                     HUBSPOT_DEVELOPER_API_KEY="")
    types = ("--types", "VIDEO,AUDIO,IMAGE,DOCUMENT")
    _run("setup_media_types", *types, "--properties", str(props), env=env)
    _run("register_domain", env=env)
    _run("push_module", env=env)
    _run("sync_media", env=env)
    _run("send_test_event", "--media", "video-00000", "--contact-utk", "utk-1", env=env)
    # The dated API version the specs publish, for app settings and events alike.
    dated = env | {"HUBSPOT_MEDIA_BRIDGE_VERSION": "2026-03", "HUBSPOT_MEDIA_EVENTS_VERSION": "2026-03"}
    _run("send_test_event", "--media", "video-00001", "--contact-id", "5", "--page-id", "9", env=dated)
    _run("register_domain", "--delete", env=dated)
    # What a second run of the scripts would change, through the same library calls in-process
    # (each script run costs a Python start-up): a property edit, a moved endpoint, a prune.
    client = make_client(strict)
    app = MediaBridgeSettings(client, strict.state.app_id)
    props.write_text(json.dumps({"VIDEO": [EXTRA_PROPERTIES[0] | {"label": "Kind"}]}))
    assert setup_media_types(app, ["VIDEO"], load_extra_properties(props, ["VIDEO"])).updated_properties
    endpoints = desired_endpoints(PUBLIC_URL, ("http://media.test/watch/*",))
    assert register_domain(app, endpoints, None).action == "created"
    assert register_domain(app, endpoints | {"discovery": False}, None).action == "updated"
    # The production default for events (v2, queued), held to the v1 schemas.
    played = {"mediaType": "VIDEO", "sessionId": "s-v2", "occurredTimestamp": 1_700_000_000_000, "state": "STARTED",
              "externalId": "video-00000", "contactUtk": "utk-1", "pageName": "P", "pageUrl": f"{PUBLIC_URL}/p"}
    assert MediaEvents(client).send("media-played", played) is None
    smaller = make_catalog(f"sqlite:///{tmp_path / 'smaller.sqlite3'}", {MediaType.VIDEO: 2})
    report = sync_catalog(smaller, CrmObjects(client), app, PUBLIC_URL, prune=True)
    assert sum(t.archived for t in report.types.values()) == 4
    smaller.dispose()
    catalog.dispose()

    state = strict.state
    assert state.spec_violations == []
    assert all(r.auth != "hapikey" for r in state.requests)
    operations = sorted(state.spec_operations)
    checked = sum(state.spec_operations.values())
    assert checked == len(state.requests)
    print(f"\nspec conformance: {checked} requests checked, {len(operations)} distinct operations, 0 violations")
    for name in operations:
        print(f"  {state.spec_operations[name]:4d}  {name}")
