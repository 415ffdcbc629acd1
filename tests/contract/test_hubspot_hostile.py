"""The standing hostile suite: every script, against every answer mangling, on every
endpoint it calls. After the mangled run: exit non-zero with one line of error, or exit 0
with HubSpot already in the state a clean run leaves; never a traceback, never a secret in
the output. A clean run afterwards must then converge with no duplicate object,
definition, property or registration.

Scripts run in-process (testing.invoke_script) against one live emulator reset per case:
a subprocess per case would cost the suite minutes."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from oembed_server.domain.media import MediaType, Visibility
from oembed_server.hubspot.crm_objects_api import CrmObjects
from oembed_server.storage.catalog_store import CatalogStore
from tests.hubspot_emulator import LiveEmulator
from tests.hubspot_emulator.mangling import GENERIC, PAGING, RESULTS
from tests.hubspot_emulator.testing import invoke_script, make_catalog, make_client, media_item, script_env, secrets_of
from tests.support.databases import migrated_sqlite_url

VIDEOS = "a4242_Videos"
MODULE_FILES = {
    "meta.json": json.dumps({"label": "Media embed", "host_template_types": ["PAGE"], "icon": "x"}),
    "fields.json": json.dumps([{"name": "media", "type": "embed", "supported_source_types": ["media_bridge"]}]),
    "module.html": "{# Media #}<div class=\"media-embed\">{{ module.media.oembed_response.html }}</div>",
}
EXTRA_PROPERTY = {"name": "media_rating", "label": "Rating", "type": "number", "fieldType": "number",
                  "groupName": "media_information"}


@dataclasses.dataclass
class Case:
    """What one scenario needs: files and HubSpot state before, the run, and the check
    that HubSpot (and the catalog) ended where a clean run leaves them."""
    tmp: Path
    live: LiveEmulator
    catalog: CatalogStore


@dataclasses.dataclass(frozen=True)
class Scenario:
    script: str
    args: tuple[str, ...]
    # name -> (method, path regex, manglings)
    endpoints: dict[str, tuple[str, str, tuple[str, ...]]]
    prepare: Callable[[Case], None]
    converged: Callable[[Case], None]
    # False for scripts that record something new on every run (events): no clean rerun.
    rerun: bool = True


# --- sync_media --prune ---------------------------------------------------------------------
SYNCED = ["unlisted", "video-00000", "video-00001", "video-00002"]


def _prepare_sync(case: Case) -> None:
    case.live.state.define_media_types("VIDEO")
    case.catalog.upsert([media_item("unlisted", visibility=Visibility.UNLISTED),
                         media_item("secret", visibility=Visibility.PRIVATE)])
    objects = CrmObjects(make_client(case.live))
    # An object whose item left the catalog (for --prune), and one whose item turned private.
    objects.create(VIDEOS, {"hs_title": "gone", "hs_oembed_url": "http://media.test/media/gone",
                            "hs_external_id": "gone"})
    secret = objects.create(VIDEOS, {"hs_title": "secret", "hs_oembed_url": "http://media.test/media/secret",
                                     "hs_external_id": "secret"})
    case.catalog.set_hubspot_object_ids({"secret": secret["id"]})
    case.live.state.requests.clear()


def _sync_converged(case: Case) -> None:
    live = {o.properties.get("hs_external_id"): o.id for o in case.live.state.live_objects()}
    assert sorted(live) == SYNCED and len(case.live.state.live_objects()) == len(SYNCED)
    recorded = {i.external_id: i.hubspot_object_id for i in case.catalog.iter_all()}
    assert recorded == live | {"secret": None}


# --- register_domain --------------------------------------------------------------------------
ENDPOINTS = {"schemes": ["http://media.test/media/*"], "url": "http://media.test/oembed", "discovery": True}


def _domain(case: Case, **endpoints) -> None:
    case.live.state.oembed_domains["1"] = {"id": "1", "appId": 4242, "portalId": 777, "createdAt": "x",
                                           "updatedAt": "x", "endpoints": ENDPOINTS | endpoints}


def _one_domain(case: Case) -> None:
    [domain] = case.live.state.oembed_domains.values()
    assert domain["endpoints"] == ENDPOINTS and domain["portalId"] == 777


def _no_domain(case: Case) -> None:
    assert case.live.state.oembed_domains == {}


# --- setup_media_types ------------------------------------------------------------------------
def _prepare_setup(case: Case) -> None:
    (case.tmp / "props.json").write_text(json.dumps([EXTRA_PROPERTY]))


def _prepare_setup_changed(case: Case) -> None:
    _prepare_setup(case)
    state = case.live.state
    state.define_media_types("VIDEO", "AUDIO")
    for media_type in ("VIDEO", "AUDIO"):
        state.properties[state.object_type_name(media_type)].append(
            EXTRA_PROPERTY | {"label": "Old label", "modificationMetadata": {"readOnlyValue": False}})


def _setup_converged(case: Case) -> None:
    state = case.live.state
    assert sorted(state.definitions) == ["AUDIO", "VIDEO"]
    for media_type in ("VIDEO", "AUDIO"):
        names = [p["name"] for p in state.properties[state.object_type_name(media_type)]]
        assert len(names) == len(set(names)) and "media_rating" in names
        [rating] = [p for p in state.properties[state.object_type_name(media_type)] if p["name"] == "media_rating"]
        assert rating["label"] == "Rating"


# --- push_module ------------------------------------------------------------------------------
def _prepare_push(case: Case) -> None:
    folder = case.tmp / "modules" / "media_embed.module"
    folder.mkdir(parents=True)
    for name, content in MODULE_FILES.items():
        (folder / name).write_text(content)
    # An older meta.json in the portal, so its metadata answers 200 (a 404 is never mangled).
    case.live.state.source_files[("draft", "media-bridge/media_embed.module/meta.json")] = {
        "id": "9", "createdAt": 1, "updatedAt": 1, "content": b"{}"}


def _push_converged(case: Case) -> None:
    held = {path: record["content"] for (env, path), record in case.live.state.source_files.items()}
    assert held == {f"media-bridge/media_embed.module/{n}": c.encode() for n, c in MODULE_FILES.items()}


# --- send_test_event --------------------------------------------------------------------------
def _prepare_event(case: Case) -> None:
    case.live.state.define_media_types("VIDEO")
    CrmObjects(make_client(case.live)).create(VIDEOS, {"hs_title": "v", "hs_oembed_url": "http://media.test/media/v",
                                                       "hs_external_id": "video-00000"})


def _events_sent(case: Case) -> None:
    assert [e["kind"] for e in case.live.state.events] == ["media-played", "media-played-percent",
                                                           "attention-span"]


TOKEN = ("POST", r"^/oauth/v1/token$", GENERIC)
SCENARIOS = {
    "sync_media": Scenario("sync_media", ("--prune",), {
        "definition": ("GET", r"/object-definitions/VIDEO$", GENERIC),
        "batch-read": ("POST", r"/batch/read$", GENERIC + RESULTS),
        "batch-upsert": ("POST", r"/batch/upsert$", GENERIC + RESULTS),
        "batch-archive": ("POST", r"/batch/archive$", GENERIC),
        "list": ("GET", rf"/objects/{VIDEOS}$", GENERIC + RESULTS + PAGING),
        "token": TOKEN,
    }, _prepare_sync, _sync_converged),
    "register_domain": Scenario("register_domain", (), {
        "list": ("GET", r"/oembed-domains$", GENERIC + RESULTS),
        "create": ("POST", r"/oembed-domains$", GENERIC),
    }, lambda case: None, _one_domain),
    "register_domain-changed": Scenario("register_domain", (), {
        "update": ("PATCH", r"/oembed-domains/1$", GENERIC),
    }, lambda case: _domain(case, discovery=False), _one_domain),
    "register_domain-delete": Scenario("register_domain", ("--delete",), {
        "delete": ("DELETE", r"/oembed-domains$", GENERIC),
    }, _domain, _no_domain),
    "setup_media_types": Scenario("setup_media_types", ("--types", "VIDEO,AUDIO", "--properties", "{tmp}/props.json"), {
        "definition": ("GET", r"/object-definitions/VIDEO$", GENERIC),
        "create-definitions": ("POST", r"/object-definitions$", GENERIC),
        "properties": ("GET", r"/properties/", GENERIC + RESULTS),
        "create-property": ("POST", r"/properties/", GENERIC),
    }, _prepare_setup, _setup_converged),
    "setup_media_types-changed": Scenario("setup_media_types", ("--types", "VIDEO,AUDIO", "--properties",
                                                                "{tmp}/props.json"), {
        "update-property": ("PATCH", r"/properties/.+/media_rating$", GENERIC),
    }, _prepare_setup_changed, _setup_converged),
    "push_module": Scenario("push_module", ("--source-dir", "{tmp}/modules"), {
        "metadata": ("GET", r"/metadata/", GENERIC),
        "validate": ("POST", r"/validate/", GENERIC),
        "upload": ("PUT", r"/content/", GENERIC),
        "token": TOKEN,
    }, _prepare_push, _push_converged),
    "send_test_event": Scenario("send_test_event", ("--media", "video-00000", "--contact-utk", "utk-1"), {
        "event": ("POST", r"^/media-bridge/v1/events/", GENERIC),
        "token": TOKEN,
    }, _prepare_event, _events_sent, rerun=False),
}
MATRIX = [pytest.param(name, endpoint, how, id=f"{name}:{endpoint}:{how}")
          for name, scenario in SCENARIOS.items()
          for endpoint, (_, _, manglings) in scenario.endpoints.items()
          for how in manglings]


@pytest.fixture(scope="module")
def live():
    with LiveEmulator(rate_interval_ms=200) as server:
        yield server


def _run(scenario: Scenario, case: Case, env: dict[str, str]):
    return invoke_script(scenario.script, *[a.replace("{tmp}", str(case.tmp)) for a in scenario.args], env=env)


def _clean_output(result, secrets: list[str]) -> None:
    text = result.stdout + result.stderr
    assert "Traceback" not in text, result.stderr
    for secret in secrets:
        assert secret not in text, "a credential leaked into the output"


@pytest.mark.parametrize("name,endpoint,how", MATRIX)
def test_every_script_survives_every_mangled_answer(live, tmp_path, name, endpoint, how):
    scenario = SCENARIOS[name]
    live.reset(rate_interval_ms=200)
    catalog = make_catalog(f"sqlite:///{tmp_path / 'catalog.sqlite3'}", {MediaType.VIDEO: 3})
    case = Case(tmp_path, live, catalog)
    scenario.prepare(case)
    # No access token, so the OAuth scripts call the token endpoint first.
    env = script_env(live, catalog.engine.url.render_as_string(hide_password=False),
                     HUBSPOT_ACCESS_TOKEN="", HUBSPOT_PUSH_RECORD=str(tmp_path / "push-record.json"))
    method, path, _ = scenario.endpoints[endpoint]
    fault = live.state.mangle_next(how, method=method, path=path)

    mangled = _run(scenario, case, env)
    assert fault.times == 0, f"{name} never called {method} {path}"
    _clean_output(mangled, secrets_of(live))
    if mangled.returncode == 0:
        scenario.converged(case)
    else:
        assert mangled.returncode == 1
        lines = mangled.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: HubSpot"), mangled.stderr
    if scenario.rerun:
        clean = _run(scenario, case, env)
        _clean_output(clean, secrets_of(live))
        assert clean.returncode == 0, clean.stderr
        scenario.converged(case)
    catalog.dispose()


def test_the_suite_would_see_a_traceback(live, tmp_path, monkeypatch):
    """invoke_script must surface an escaping exception as a process would, or the checks
    above could never fail."""
    from oembed_server.usecases import domain_registration
    live.reset()

    def crash(*args):
        raise KeyError("results")

    monkeypatch.setattr(domain_registration, "_matching", crash)
    result = invoke_script("register_domain", env=script_env(live, migrated_sqlite_url(tmp_path / 'c.sqlite3')))
    assert result.returncode == 1 and "Traceback" in result.stderr and "KeyError: 'results'" in result.stderr


def test_manglings_can_be_switched_on_over_http(live):
    import requests
    live.reset()
    live.state.define_media_types("VIDEO")
    refused = requests.post(f"{live.url}/_emulator/faults", json={"kind": "mangle", "mangle": "nonsense"}, timeout=5)
    assert refused.status_code == 400
    added = requests.post(f"{live.url}/_emulator/faults", json={"kind": "mangle", "mangle": "html", "path": "VIDEO"},
                          timeout=5)
    assert added.status_code == 201
    url = f"{live.url}/media-bridge/v1/4242/settings/object-definitions/VIDEO"
    first = requests.get(url, params={"hapikey": live.state.developer_api_key}, timeout=5)
    assert first.status_code == 200 and first.text.startswith("<html>")
    assert requests.get(url, params={"hapikey": live.state.developer_api_key}, timeout=5).json()["objectTypeName"]
