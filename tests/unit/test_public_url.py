"""One public-URL rule for server and scripts; what HubSpot's real API is never sent."""
from __future__ import annotations

import json

import pytest

from oembed_server.domain.media import MediaType
from oembed_server.domain.public_url import (
    DEFAULT_PUBLIC_URL,
    fallback_warning,
    hubspot_reachability_problem,
    local_server_url,
    unreachable_reason,
)
from tests.hubspot_emulator.testing import make_catalog, run_script, script_env

REAL_API = "https://api.hubapi.com"


@pytest.mark.parametrize("url, reason", [
    ("http://127.0.0.1:5000", "loopback"),
    ("https://localhost:8443", "local name"),
    ("https://10.1.2.3", "private"),
    ("https://192.168.0.7", "private"),
    ("https://[::1]:5000", "loopback"),
    ("https://169.254.1.1", "private"),
    ("https://media.internal", "local name"),
    ("http://media.example.com", "plain http"),
])
def test_addresses_hubspot_cannot_reach(url, reason):
    assert reason in unreachable_reason(url)


def test_public_https_passes_and_only_the_real_api_refuses():
    assert unreachable_reason("https://media.example.com") is None
    assert unreachable_reason("https://93.184.216.34/base") is None
    assert hubspot_reachability_problem("http://127.0.0.1:5000", "http://127.0.0.1:8765", from_default=True) is None
    problem = hubspot_reachability_problem("http://127.0.0.1:5000", REAL_API, from_default=True)
    assert "OEMBED_PUBLIC_URL is not set" in problem and "--allow-local-url" in problem
    explicit = hubspot_reachability_problem("http://10.0.0.5", "https://api.hubapi.com/", from_default=False)
    assert explicit.startswith("OEMBED_PUBLIC_URL=http://10.0.0.5 ") and "private" in explicit


def test_schemes_on_local_hosts_are_refused_but_http_forms_are_fine():
    from oembed_server.domain.public_url import scheme_problem
    assert scheme_problem("http://media.example.com/media/*", REAL_API) is None
    assert scheme_problem("https://*.example.com/v/*", REAL_API) is None
    assert "loopback" in scheme_problem("http://127.0.0.1:5000/media/*", REAL_API)
    assert scheme_problem("http://127.0.0.1:5000/media/*", "http://127.0.0.1:8765") is None


def test_server_fallback_names_where_scripts_point():
    assert local_server_url("0.0.0.0", 5001) == "http://127.0.0.1:5001"
    assert local_server_url("::1", 5000) == "http://[::1]:5000"
    assert "Scripts run without it assume " + DEFAULT_PUBLIC_URL in fallback_warning("http://127.0.0.1:5001")
    assert "Scripts run without" not in fallback_warning(DEFAULT_PUBLIC_URL)


def _real_api_env(sqlite_url, **extra):
    env = script_env(None, sqlite_url, HUBSPOT_API_BASE=REAL_API, HUBSPOT_APP_ID="4242", HUBSPOT_PORTAL_ID="777",
                     HUBSPOT_DEVELOPER_API_KEY="dev-key", HUBSPOT_ACCESS_TOKEN="token")
    env.pop("OEMBED_PUBLIC_URL")
    return env | extra


@pytest.mark.parametrize("script", ["register_domain", "sync_media"])
def test_scripts_refuse_a_loopback_url_against_hubspot_before_sending(script, sqlite_url):
    make_catalog(sqlite_url, {MediaType.VIDEO: 1}).dispose()
    # Nothing reaches the network: the refusal comes before a client is built.
    result = run_script(script, env=_real_api_env(sqlite_url))
    assert result.returncode == 1
    assert "OEMBED_PUBLIC_URL is not set" in result.stderr and "warning:" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: OEMBED_PUBLIC_URL is not set, so the default "
                                                     f"{DEFAULT_PUBLIC_URL} cannot be sent to HubSpot")


def test_dry_run_lists_every_problem_the_real_run_stops_on(sqlite_url):
    make_catalog(sqlite_url, {MediaType.VIDEO: 1, MediaType.DOCUMENT: 1}).dispose()
    env = _real_api_env(sqlite_url, OEMBED_PUBLIC_URL="http://10.0.0.5", HUBSPOT_ACCESS_TOKEN="",
                        OEMBED_URL_SCHEMES="http://localhost/media/*")
    result = run_script("sync_media", "--dry-run", "--json", env=env)
    assert result.returncode == 1
    plan = json.loads(result.stdout)
    assert plan["ok"] is False and plan["requests"]
    assert "VIDEO, DOCUMENT" in plan["needs"]
    [url_problem, scheme_problem, oauth_problem] = plan["problems"]
    assert "OEMBED_PUBLIC_URL=http://10.0.0.5" in url_problem and "HUBSPOT_ACCESS_TOKEN" in oauth_problem
    assert "OEMBED_URL_SCHEMES entry http://localhost/media/*" in scheme_problem

    allowed = run_script("sync_media", "--dry-run", "--allow-local-url", env=env | {"HUBSPOT_ACCESS_TOKEN": "t"})
    assert allowed.returncode == 0, allowed.stderr
    assert "problem:" not in allowed.stderr
    assert "A run against a portal without these objects would send" in allowed.stdout
