"""Every script reads its settings once, at start: a malformed value is named before any
other check (the public URL HubSpot cannot reach, an empty catalog, a missing module
folder) gets the chance to hide it."""
from __future__ import annotations

import dataclasses

import pytest

from oembed_server.cli.script_support import load_script_settings
from tests.hubspot_emulator.testing import invoke_script, run_script, script_env

NAN_TIMEOUT = "error: HUBSPOT_READ_TIMEOUT_S must be a finite number, got 'nan'"


def _env_with_everything_else_wrong(sqlite_url: str) -> dict[str, str]:
    """HubSpot's real API (the default base) with no OEMBED_PUBLIC_URL, so the loopback
    default would be refused; the catalog is empty; and one timeout is nan."""
    env = script_env(None, sqlite_url, HUBSPOT_APP_ID="4242", HUBSPOT_PORTAL_ID="777",
                     HUBSPOT_DEVELOPER_API_KEY="dev-key", HUBSPOT_ACCESS_TOKEN="token",
                     HUBSPOT_READ_TIMEOUT_S="nan")
    env.pop("OEMBED_PUBLIC_URL")
    return env


@pytest.mark.parametrize("args", [(), ("--dry-run",), ("--delete",)])
def test_register_domain_names_a_nan_timeout_before_the_public_url(args, sqlite_url):
    # A real interpreter, as `python scripts/register_domain.py` is run.
    result = run_script("register_domain", *args, env=_env_with_everything_else_wrong(sqlite_url))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [NAN_TIMEOUT], result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("script, args", [
    ("sync_media", ()),
    ("sync_media", ("--dry-run", "--json")),
    ("setup_media_types", ()),
    ("send_test_event", ("--media", "not-in-the-catalog", "--contact-utk", "utk")),
    ("push_module", ("--source-dir", "{tmp}/no-modules-here")),
])
def test_every_script_names_a_nan_timeout_first(script, args, sqlite_url, tmp_path):
    args = tuple(a.replace("{tmp}", str(tmp_path)) for a in args)
    result = invoke_script(script, *args, env=_env_with_everything_else_wrong(sqlite_url))
    assert result.returncode == 1, result.stdout
    assert result.stderr.splitlines() == [NAN_TIMEOUT], result.stderr
    if "--json" in args:
        assert '"text": "HUBSPOT_READ_TIMEOUT_S must be a finite number' in result.stdout


def test_a_script_names_a_malformed_oembed_setting_before_hubspot_checks(sqlite_url):
    env = _env_with_everything_else_wrong(sqlite_url) | {"HUBSPOT_READ_TIMEOUT_S": "5",
                                                         "OEMBED_EVENTS_FLUSH_MS": "soon"}
    result = invoke_script("register_domain", env=env)
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["error: OEMBED_EVENTS_FLUSH_MS must be a number, got 'soon'"]


def test_flags_override_the_environment_on_the_one_settings_object(sqlite_url):
    env = script_env(None, sqlite_url, HUBSPOT_APP_ID="4242", HUBSPOT_PORTAL_ID="777", HUBSPOT_RATE_LIMIT="9")
    unchanged = load_script_settings(env, app_id=None, portal_id=None)
    assert (unchanged.hubspot.app_id, unchanged.hubspot.portal_id) == (4242, 777)
    flagged = load_script_settings(env, app_id=5, portal_id=None)
    assert (flagged.hubspot.app_id, flagged.hubspot.portal_id, flagged.hubspot.rate_limit) == (5, 777, 9)
    assert dataclasses.replace(flagged, hubspot=unchanged.hubspot) == unchanged
    with pytest.raises(dataclasses.FrozenInstanceError):
        flagged.hubspot.app_id = 6  # type: ignore[misc]
