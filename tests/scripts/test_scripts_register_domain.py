"""register_domain: one registration per endpoint, PATCHed when it changes, deletable."""
from __future__ import annotations

import json

from oembed_server.hubspot.media_bridge_api import MediaBridgeSettings
from oembed_server.usecases.domain_registration import (
    delete_domain,
    desired_endpoints,
    register_domain,
    same_endpoints,
)
from tests.hubspot_emulator.testing import PUBLIC_URL, assert_no_secrets, make_client, run_script, script_env


def test_script_registers_once_then_patches_a_change_then_deletes(emulator, sqlite_url):
    env = script_env(emulator, sqlite_url)
    first = run_script("register_domain", "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["result"]["action"] == "created"
    [domain] = emulator.state.oembed_domains.values()
    assert domain["portalId"] == 777
    assert domain["endpoints"] == {"schemes": [f"{PUBLIC_URL}/media/*"], "url": f"{PUBLIC_URL}/oembed",
                                   "discovery": True}

    second = run_script("register_domain", env=env)
    assert "nothing to change" in second.stdout
    assert emulator.state.count("POST") == 1 and emulator.state.count("PATCH") == 0

    changed_env = env | {"OEMBED_URL_SCHEMES": f"{PUBLIC_URL}/media/* {PUBLIC_URL}/v/*"}
    third = run_script("register_domain", env=changed_env)
    assert third.returncode == 0 and "updated" in third.stdout
    assert len(emulator.state.oembed_domains) == 1
    assert domain["endpoints"]["schemes"] == [f"{PUBLIC_URL}/media/*", f"{PUBLIC_URL}/v/*"]

    deleted = run_script("register_domain", "--delete", env=env)
    assert deleted.returncode == 0 and "deleted" in deleted.stdout
    assert emulator.state.oembed_domains == {}
    again = run_script("register_domain", "--delete", env=env)
    assert "nothing to delete" in again.stdout
    assert_no_secrets(first.stdout + second.stdout + third.stdout + deleted.stdout + again.stdout, emulator)


def test_dry_run_sends_nothing(emulator, sqlite_url):
    result = run_script("register_domain", "--dry-run", "--json", env=script_env(emulator, sqlite_url))
    plan = json.loads(result.stdout)
    assert emulator.state.requests == []
    assert plan["dryRun"] and [r["method"] for r in plan["requests"]] == ["GET", "POST"]
    assert plan["requests"][1]["json"]["endpoints"]["url"] == f"{PUBLIC_URL}/oembed"
    assert_no_secrets(result.stdout, emulator)


def test_wrong_developer_key_is_one_readable_line(emulator, sqlite_url):
    env = script_env(emulator, sqlite_url, HUBSPOT_DEVELOPER_API_KEY="wrong-key-xyz", HUBSPOT_DEVELOPER_ACCESS_TOKEN="")
    result = run_script("register_domain", env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("error: HubSpot 401 INVALID_AUTHENTICATION")
    assert "(sent HUBSPOT_DEVELOPER_API_KEY)" in result.stderr
    assert "wrong-key-xyz" not in result.stderr + result.stdout


def test_unrestricted_registration_and_duplicates_are_reported(emulator):
    app = MediaBridgeSettings(make_client(emulator), 4242)
    endpoints = desired_endpoints("https://m.test", ("https://m.test/media/*",))
    assert register_domain(app, endpoints, None).action == "created"
    app.create_oembed_domain(endpoints)  # made by hand elsewhere
    report = register_domain(app, endpoints, None)
    assert report.action == "unchanged" and len(report.duplicates) == 1
    assert register_domain(app, endpoints, 777).action == "created"  # a portal-restricted one is separate
    assert delete_domain(app, endpoints, None).domain_ids == [d for d in report.domain_ids + report.duplicates]
    assert [d["portalId"] for d in emulator.state.oembed_domains.values()] == [777]


def test_scheme_order_does_not_count_as_a_change():
    a = {"schemes": ["x/*", "y/*"], "url": "u", "discovery": True}
    assert same_endpoints(a, a | {"schemes": ["y/*", "x/*"]})
    assert not same_endpoints(a, a | {"discovery": False})


def test_a_moved_endpoint_is_patched_not_duplicated(emulator):
    app = MediaBridgeSettings(make_client(emulator), 4242)
    schemes = ("https://m.test/media/*",)
    register_domain(app, desired_endpoints("https://old.m.test", schemes), 777)
    report = register_domain(app, desired_endpoints("https://m.test", schemes), 777)
    assert report.action == "updated" and report.duplicates == []
    [domain] = emulator.state.oembed_domains.values()
    assert domain["endpoints"]["url"] == "https://m.test/oembed"
    assert delete_domain(app, desired_endpoints("https://m.test", schemes), 777).action == "deleted"
    assert emulator.state.oembed_domains == {}
