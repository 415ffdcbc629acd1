"""`oembed-server hubspot-project`: the developer project (platform 2026.03) it writes
passes its own --check; the check reports problems the way `hs project validate` does;
loopback, private and plain-http public URLs are refused; and the install flow asks for
exactly the scopes and redirect URL the project declares."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from oembed_server.cli import cli
from oembed_server.domain import hubspot_app
from tests.hubspot_emulator import LiveEmulator
from tests.support.portal_installs import authorize_link, make_install_app

PUBLIC = "https://media.example.com"


def run(*args: str, public_url: str | None = PUBLIC, **env: str):
    environ = {"OEMBED_PUBLIC_URL": public_url} if public_url else {}
    return CliRunner().invoke(cli, ["hubspot-project", *args], env=environ | env)


def read(folder, relative: str):
    return json.loads((folder / relative).read_text())


@pytest.fixture
def project(tmp_path):
    result = run("--out", str(tmp_path), "--distribution", "private", "--name", "Acme Media",
                 "--support-email", "help@acme.example", "--support-url", "https://acme.example/help",
                 "--documentation-url", "https://acme.example/docs", "--support-phone", "+1 800 555 0100")
    assert result.exit_code == 0, result.output
    return tmp_path


def test_the_written_project_declares_the_app_and_passes_its_check(project):
    assert read(project, "hsproject.json") == {"name": "Acme Media", "srcDir": "src", "platformVersion": "2026.03"}
    app = read(project, hubspot_app.APP_META_PATH)
    assert app["type"] == "app" and app["uid"] == "acme_media"
    config = app["config"]
    assert config["distribution"] == "private" and config["auth"]["type"] == "oauth"
    assert config["auth"]["redirectUrls"] == [f"{PUBLIC}/hubspot/oauth-callback"]
    assert config["auth"]["requiredScopes"] == ["oauth", "media_bridge.read", "media_bridge.write", "content",
                                                "crm.objects.contacts.read"]
    assert config["auth"]["optionalScopes"] == ["forms"]
    assert config["support"] == {"supportEmail": "help@acme.example", "documentationUrl": "https://acme.example/docs",
                                 "supportUrl": "https://acme.example/help", "supportPhone": "+1 800 555 0100"}
    hooks = read(project, hubspot_app.WEBHOOKS_META_PATH)
    assert hooks["config"]["settings"]["targetUrl"] == f"{PUBLIC}/hubspot/webhooks"
    assert hooks["config"]["subscriptions"]["hubEvents"] == [{"subscriptionType": "contact.privacyDeletion",
                                                              "active": True}]
    assert hooks["config"]["subscriptions"]["legacyCrmObjects"] == [{"subscriptionType": "contact.deletion",
                                                                     "active": True}]
    checked = run("--check", str(project))
    assert checked.exit_code == 0 and checked.output.strip() == "Project Acme Media is valid and ready to upload"
    again = run("--out", str(project))
    assert again.exit_code == 1 and "--force" in again.output
    assert run("--out", str(project), "--force").exit_code == 0


@pytest.mark.parametrize("public_url, reason", [
    ("http://127.0.0.1:5000", "loopback"), ("https://localhost", "local name"), ("https://10.1.2.3", "private"),
    ("http://media.example.com", "plain http"), (None, "OEMBED_PUBLIC_URL is not set"),
])
def test_a_public_url_hubspot_cannot_reach_is_refused_and_nothing_written(tmp_path, public_url, reason):
    result = run("--out", str(tmp_path / "p"), public_url=public_url)
    assert result.exit_code == 1 and reason in result.output and "OEMBED_PUBLIC_URL" in result.output
    assert not (tmp_path / "p").exists()


def test_support_flags_are_checked_against_the_schema(tmp_path):
    result = run("--out", str(tmp_path), "--support-email", "not-an-email")
    assert result.exit_code == 1 and "config.support.supportEmail" in result.output
    assert not (tmp_path / "hsproject.json").exists()


def edit(folder, relative: str, change) -> None:
    value = read(folder, relative)
    change(value)
    (folder / relative).write_text(json.dumps(value))


def test_check_lists_every_problem_per_file_like_hs_project_validate(project):
    edit(project, hubspot_app.APP_META_PATH, lambda v: (
        v["config"].update(distribution="public"), v["config"]["auth"].pop("redirectUrls"),
        v.update(extra=1)))
    edit(project, hubspot_app.WEBHOOKS_META_PATH, lambda v: (
        v["config"]["settings"].update(targetUrl="https://127.0.0.1/hubspot/webhooks"),
        v["config"]["subscriptions"]["hubEvents"][0].update(active=False)))
    result = run("--check", str(project))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "Project validation failed:"
    assert f"Encountered the following errors for {hubspot_app.APP_META_PATH}:" in lines
    assert "\t- Unexpected top-level properties found: extra" in lines
    assert "\t- Missing required field: 'config.auth.redirectUrls'" in lines
    assert "\t- config.distribution: must be equal to one of the allowed values" in lines
    assert "\t\t-  allowedValues: marketplace, private" in lines
    assert f"Encountered the following errors for {hubspot_app.WEBHOOKS_META_PATH}:" in lines
    assert any("config.settings.targetUrl" in line and "loopback" in line for line in lines)
    assert any("no active contact.privacyDeletion subscription" in line for line in lines)
    assert lines[-1] == "Project Acme Media is invalid"


def test_check_refuses_scopes_that_differ_from_what_connect_asks_for(project):
    edit(project, hubspot_app.APP_META_PATH, lambda v: v["config"]["auth"]["requiredScopes"].remove("content"))
    result = run("--check", str(project))
    assert result.exit_code == 1 and "differs from what /hubspot/connect asks for" in result.output
    # The same scopes as HUBSPOT_SCOPES, which /hubspot/connect asks for then: valid.
    assert run("--check", str(project), HUBSPOT_SCOPES="oauth media_bridge.read media_bridge.write "
                                                      "crm.objects.contacts.read").exit_code == 0


def test_check_finds_misplaced_duplicated_and_broken_files(project):
    (project / "src/app/cards").mkdir()
    (project / "src/app/cards/second-hsmeta.json").write_text(json.dumps(read(project, hubspot_app.APP_META_PATH)))
    (project / "src/app/webhooks/broken-hsmeta.json").write_text("{")
    result = run("--check", str(project))
    assert "The directory 'app/cards' is incorrect for type 'app'" in result.output
    assert "Only one app component is allowed" in result.output and "Duplicate uid 'acme_media'" in result.output
    assert "Invalid JSON" in result.output and result.exit_code == 1


def test_check_of_a_folder_that_is_no_project(tmp_path):
    result = run("--check", str(tmp_path))
    assert result.exit_code == 1 and "hsproject.json is missing" in result.output
    (tmp_path / "hsproject.json").write_text(json.dumps({"name": "X", "srcDir": "../elsewhere",
                                                         "platformVersion": "2026.03"}))
    assert "srcDir" in run("--check", str(tmp_path)).output
    (tmp_path / "hsproject.json").write_text(json.dumps({"name": "X", "srcDir": "src", "platformVersion": "2023.2"}))
    assert "platformVersion: must be equal to one of the allowed values" in run("--check", str(tmp_path)).output
    assert run().exit_code == 2 and run("--out", "a", "--check", str(tmp_path)).exit_code == 2


def test_the_install_flow_asks_for_exactly_the_projects_scopes_and_redirect_url(project, sqlite_url):
    declared = read(project, hubspot_app.APP_META_PATH)["config"]["auth"]
    with LiveEmulator() as emulator:
        app = make_install_app(sqlite_url, emulator, public_url=PUBLIC)
        page = app.test_client().get("/hubspot/connect")
        assert page.status_code == 200, page.get_data(as_text=True)
        query = parse_qs(urlsplit(authorize_link(page.get_data(as_text=True))).query)
        app.extensions["catalog"].dispose()
    assert query["scope"][0].split() == declared["requiredScopes"]
    assert query["optional_scope"][0].split() == declared["optionalScopes"]
    assert query["redirect_uri"] == declared["redirectUrls"]
    assert {rule.rule for rule in app.url_map.iter_rules()} >= {hubspot_app.OAUTH_CALLBACK_PATH,
                                                                hubspot_app.WEBHOOK_PATH}
