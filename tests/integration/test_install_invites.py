"""Installs by invitation (issue 17 item 5), end to end against the live emulator: an
invite is required where the operator says so, its lifetime is bounded, it is single use
unless told otherwise, listed and revocable, and a reinstall through another library's
invite does not move a portal."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from oembed_server.storage.portal_store import hubspot_portals
from tests.hubspot_emulator import LiveEmulator
from tests.support.apps import command_runner
from tests.support.portal_installs import (
    PORTAL_A,
    PORTAL_B,
    PORTAL_C,
    TEST_PORTALS,
    install,
    item,
    make_install_app,
    start_install,
)


@pytest.fixture
def emulator():
    with LiveEmulator(rate_interval_ms=200, test_portals=TEST_PORTALS) as live:
        yield live


def _app(emulator, database_url, **overrides):
    app = make_install_app(database_url, emulator, **overrides)
    app.extensions["catalog"].upsert([item("a-1"), item("x-1", library="acme"), item("y-1", library="beta")])
    return app


@pytest.fixture
def app(emulator, sqlite_url):
    app = _app(emulator, sqlite_url, OEMBED_INSTALL_REQUIRES_INVITE="1")
    yield app
    app.extensions["catalog"].dispose()


@pytest.fixture
def any_app(emulator, database_url):
    app = _app(emulator, database_url, OEMBED_INSTALL_REQUIRES_INVITE="1")
    yield app
    app.extensions["catalog"].dispose()


def invite(app, library: str, *extra: str) -> dict:
    result = command_runner(app).invoke(args=["portals", "invite", library, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def token(made: dict) -> str:
    return made["link"].split("invite=", 1)[1]


def libraries(app) -> dict[int, str]:
    with app.extensions["catalog"].engine.connect() as conn:
        return {r.portal_id: r.library for r in conn.execute(sa.select(hubspot_portals))}


def test_without_an_invite_the_connect_page_says_one_is_needed(app):
    page = app.test_client().get("/hubspot/connect")
    text = page.get_data(as_text=True)
    assert page.status_code == 403
    assert "An invite is needed" in text and "install link" in text
    assert "connect-hubspot" not in text  # no way on to HubSpot's consent page


def test_production_requires_an_invite_by_default_and_development_does_not(emulator, sqlite_url):
    from oembed_server.settings import load_settings
    base = {"OEMBED_SECRET_KEY": "k" * 8 + "Zq81-xUv02_pLmN3aBcDeFgHiJkLmNoP"}
    assert load_settings(base | {"OEMBED_ENV": "production"}, "/tmp").install_requires_invite is True
    assert load_settings(base, "/tmp").install_requires_invite is False
    assert load_settings(base | {"OEMBED_ENV": "production", "OEMBED_INSTALL_REQUIRES_INVITE": "off"},
                         "/tmp").install_requires_invite is False
    from oembed_server.domain.setting_values import ConfigError
    with pytest.raises(ConfigError, match="OEMBED_INSTALL_REQUIRES_INVITE"):
        load_settings(base | {"OEMBED_INSTALL_REQUIRES_INVITE": "maybe"}, "/tmp")


@pytest.mark.parametrize("days", ["1e300", "31", "0", "-1", "nan", "inf"])
def test_an_invite_lifetime_is_bounded(app, days):
    result = command_runner(app).invoke(args=["portals", "invite", "acme", "--days", days])
    assert result.exit_code != 0
    assert "days must be" in result.output
    assert command_runner(app).invoke(args=["portals", "invites", "--json"]).output.count('"id"') == 0


def test_an_invite_is_single_use_by_default(app, emulator):
    made = invite(app, "acme")
    assert made["maxUses"] == 1 and made["state"] == "open"
    response, _ = install(app.test_client(), emulator, PORTAL_A, invite=token(made))
    assert response.status_code == 303
    again = app.test_client().get("/hubspot/connect?invite=" + token(made))
    assert again.status_code == 400 and "used as often as it may" in again.get_data(as_text=True)
    listed = json.loads(command_runner(app).invoke(args=["portals", "invites", "--json"]).output)["invites"]
    assert [(i["id"], i["state"], i["uses"]) for i in listed] == [(made["id"], "used", 1)]
    assert libraries(app) == {PORTAL_A: "acme"}


def test_uses_allows_more_installs_and_counts_them(app, emulator):
    made = invite(app, "acme", "--uses", "2")
    for portal in (PORTAL_A, PORTAL_B):
        response, _ = install(app.test_client(), emulator, portal, invite=token(made))
        assert response.status_code == 303
    assert app.test_client().get("/hubspot/connect?invite=" + token(made)).status_code == 400
    assert libraries(app) == {PORTAL_A: "acme", PORTAL_B: "acme"}
    assert command_runner(app).invoke(args=["portals", "invite", "acme", "--uses", "0"]).exit_code != 0


def test_two_consents_racing_for_one_use_install_once(any_app, emulator):
    app = any_app
    made = invite(app, "acme")
    first, second = app.test_client(), app.test_client()
    callback_a = start_install(first, emulator, PORTAL_A, invite=token(made))
    callback_b = start_install(second, emulator, PORTAL_B, invite=token(made))
    assert first.get(callback_a).status_code == 303
    late = second.get(callback_b)
    assert late.status_code == 400 and "used up" in late.get_data(as_text=True)
    assert libraries(app) == {PORTAL_A: "acme"}


def test_a_revoked_invite_stops_working_at_once(app, emulator):
    made = invite(app, "acme")
    client = app.test_client()
    callback = start_install(client, emulator, PORTAL_A, invite=token(made))  # consent given, then revoked
    result = command_runner(app).invoke(args=["portals", "invite-revoke", made["id"]])
    assert result.exit_code == 0 and "revoked" in result.output
    assert client.get(callback).status_code == 400
    assert app.test_client().get("/hubspot/connect?invite=" + token(made)).status_code == 400
    assert libraries(app) == {}
    unknown = command_runner(app).invoke(args=["portals", "invite-revoke", "nope"])
    assert unknown.exit_code != 0 and "no invite 'nope'" in unknown.output
    listed = json.loads(command_runner(app).invoke(args=["portals", "invites", "--json"]).output)["invites"]
    assert listed[0]["state"] == "revoked" and listed[0]["revokedAt"]


def test_an_expired_invite_does_not_work(app, emulator):
    made = invite(app, "acme", "--days", "0.5")
    with app.extensions["catalog"].engine.begin() as conn:
        conn.execute(sa.text("UPDATE install_invites SET expires_at = expires_at - 86400"))
    assert app.test_client().get("/hubspot/connect?invite=" + token(made)).status_code == 400


def test_a_reinstall_through_another_librarys_invite_is_refused_naming_portals_move(app, emulator):
    install(app.test_client(), emulator, PORTAL_C, invite=token(invite(app, "acme")))
    beta = invite(app, "beta")
    response, _ = install(app.test_client(), emulator, PORTAL_C, invite=token(beta))
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert f"oembed-server portals move {PORTAL_C} beta" in text and "&#39;acme&#39;" in text
    assert libraries(app) == {PORTAL_C: "acme"}
    listed = {i["id"]: i for i in json.loads(command_runner(app).invoke(
        args=["portals", "invites", "--json"]).output)["invites"]}
    assert listed[beta["id"]]["uses"] == 0  # the refused install did not spend the invite

    moved = command_runner(app).invoke(args=["portals", "move", str(PORTAL_C), "beta", "--json"])
    assert moved.exit_code == 0 and json.loads(moved.output)["moved"] is True
    assert libraries(app) == {PORTAL_C: "beta"}
    response, _ = install(app.test_client(), emulator, PORTAL_C, invite=token(beta))
    assert response.status_code == 303 and libraries(app) == {PORTAL_C: "beta"}


def test_a_reinstall_through_the_same_librarys_invite_reconnects(app, emulator):
    install(app.test_client(), emulator, PORTAL_A, invite=token(invite(app, "acme")))
    response, _ = install(app.test_client(), emulator, PORTAL_A, invite=token(invite(app, "acme")))
    assert response.status_code == 303 and libraries(app) == {PORTAL_A: "acme"}


def test_without_the_requirement_a_plain_reinstall_keeps_the_portals_library(emulator, sqlite_url):
    app = _app(emulator, sqlite_url)
    try:
        install(app.test_client(), emulator, PORTAL_B, invite=token(invite(app, "acme")))
        response, _ = install(app.test_client(), emulator, PORTAL_B)
        assert response.status_code == 303 and libraries(app) == {PORTAL_B: "acme"}
        install(app.test_client(), emulator, PORTAL_A)
        assert libraries(app)[PORTAL_A] == "default"
    finally:
        app.extensions["catalog"].dispose()
