"""Lead capture gates end to end on the server side (Flask test client, live emulator):
the catalog key on import, the gated player page, the form read for the embedding portal
and cached, submissions through HubSpot's submission API with its field errors, outages,
privacy, counts, and the optional forms scope at install."""
from __future__ import annotations

import dataclasses
import json
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from oembed_server.domain.session_links import media_insights_url
from oembed_server.storage import gate_counts
from oembed_server.usecases.catalog_import import import_catalog
from tests.hubspot_emulator import LiveEmulator
from tests.support.apps import command_runner
from tests.support.environment import PUBLIC_URL
from tests.support.gate_forms import (
    CONSENT_FORM_ID,
    FORM_ID,
    FORMS_SCOPES,
    OTHER_FORM_ID,
    UTK,
    WITHOUT_FORMS_SCOPES,
    add_forms,
    gated_app,
    gated_item,
)
from tests.support.insights_links import app_link_keys
from tests.support.portal_installs import PORTAL_A, PORTAL_B, TEST_PORTALS, install, make_install_app

TRACKING = f"hs_utk={UTK}&hs_page_url=https%3A%2F%2Fwww.example.com%2Flanding&hs_page_name=Landing"


@pytest.fixture
def emulator():
    with LiveEmulator(rate_interval_ms=200, scopes=FORMS_SCOPES, test_portals=TEST_PORTALS) as live:
        add_forms(live.state)
        yield live


@pytest.fixture
def app(emulator, sqlite_url):
    app = gated_app(sqlite_url, emulator)
    app.extensions["catalog"].upsert([
        gated_item("gated"), gated_item("consent", form_id=CONSENT_FORM_ID),
        dataclasses.replace(gated_item("plain"), gate=None)])
    yield app
    app.extensions["catalog"].dispose()


def player_config(client, path: str) -> tuple[dict, str, object]:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    config = json.loads(re.search(r'<script type="application/json" id="player-config">(.*?)</script>', html,
                                  re.S).group(1))
    return config, html, response


def submit(client, config: dict, values: dict, **extra):
    gate = config["gate"]
    headers = extra.pop("headers", {})
    return client.post(gate["submitUrl"], json={"token": gate["token"], "values": values, "consent": {}} | extra,
                       headers=headers)


def insights_path(app, external_id: str) -> str:
    url = urlsplit(media_insights_url(PUBLIC_URL, app_link_keys(app), external_id))
    return f"{url.path}?{url.query}"


def form_reads(emulator, form_id: str = FORM_ID) -> int:
    return sum(1 for r in emulator.state.requests if r.path == f"/marketing/v3/forms/{form_id}")


# --- the catalog key ------------------------------------------------------------------------
def test_import_checks_the_gate(app):
    problems: list = []
    rows = [
        {"external_id": "ok", "media_type": "VIDEO", "title": "t", "duration_ms": 10_000,
         "gate": {"form_id": FORM_ID, "at": 5, "skippable": True, "heading": "Watch", "text": "Who are you?"}},
        {"external_id": "late", "media_type": "VIDEO", "title": "t", "duration_ms": 10_000,
         "gate": {"form_id": FORM_ID, "at": 12}},
        {"external_id": "image", "media_type": "IMAGE", "title": "t", "file_url": "https://cdn.example.com/a.png",
         "gate": {"form_id": FORM_ID}},
        {"external_id": "bad", "media_type": "AUDIO", "title": "t", "gate": {"form_id": "x"}},
    ]
    outcome = import_catalog(app.extensions["catalog"], rows, problems.append)
    assert outcome.report is None
    assert [str(p) for p in problems] == [
        "row 2, field 'gate': at 12 s is not within the media's duration (10 s)",
        "row 3, field 'gate': is only for VIDEO and AUDIO media",
        "row 4, field 'gate': form_id 'x' is not a HubSpot form GUID",
    ]
    outcome = import_catalog(app.extensions["catalog"], rows[:1], problems.append)
    assert outcome.report is not None
    gate = app.extensions["catalog"].get("ok").gate
    assert (gate.form_id, gate.at, gate.skippable, gate.heading, gate.text) == (FORM_ID, 5.0, True, "Watch",
                                                                                 "Who are you?")
    # Re-importing the same row changes nothing.
    again = import_catalog(app.extensions["catalog"], rows[:1], problems.append)
    assert (again.report.inserted, again.report.updated) == (0, 0)


# --- the gated player page ------------------------------------------------------------------
def test_a_gated_player_carries_the_portals_form_and_only_it_loads_the_gate(app, emulator):
    client = app.test_client()
    config, html, response = player_config(client, f"/embed/gated?{TRACKING}")
    gate = config["gate"]
    assert (gate["at"], gate["skippable"], gate["heading"], gate["text"]) == (
        "before", False, "Before you watch", "Tell us who you are.")
    form = gate["form"]
    assert form["submitLabel"] == "Watch now"
    assert [(f["name"], f["fieldType"], f["required"]) for f in form["fields"]] == [
        ("email", "email", True), ("firstname", "single_line_text", False), ("phone", "phone", False),
        ("numemployees", "number", False), ("newsletter", "single_checkbox", False),
        ("interests", "multiple_checkboxes", False), ("industry", "dropdown", False), ("size", "radio", False),
        ("message", "multi_line_text", False)]
    assert "player-gate.js" in html and "player-gate.css" in html
    assert response.headers["Cache-Control"] == "private, max-age=0"

    _, plain_html, plain = player_config(client, "/embed/plain")
    assert "player-gate" not in plain_html and plain.headers["Cache-Control"] == "public, max-age=300"
    assert client.get("/static/player-gate.js").status_code == 200


def test_the_form_is_read_once_and_read_again_after_a_miss(app, emulator):
    client = app.test_client()
    for _ in range(3):
        player_config(client, "/embed/gated")
    assert form_reads(emulator) == 1
    read = next(r for r in emulator.state.requests if r.path == f"/marketing/v3/forms/{FORM_ID}")
    assert read.auth == "bearer" and read.hub_id == emulator.state.portal_id
    assert emulator.state.spec_violations == []

    # A form the portal does not have: the player plays without a gate, and asks again later.
    _, html, _ = player_config(client, f"/embed/gated?gate_form={OTHER_FORM_ID}")
    assert "player-gate" not in html
    emulator.state.data().forms[OTHER_FORM_ID] = dict(emulator.state.data().forms[FORM_ID], id=OTHER_FORM_ID)
    app.extensions["gate_forms"]._cache.clear()  # the short wait for a missing form, passed
    config, _, _ = player_config(client, f"/embed/gated?gate_form={OTHER_FORM_ID}&gate_at=after&gate_skippable=1")
    assert (config["gate"]["form"]["formId"], config["gate"]["at"], config["gate"]["skippable"]) == (
        OTHER_FORM_ID, "after", True)


def test_the_module_can_switch_a_catalog_gate_off_and_hubspot_outages_leave_no_gate(app, emulator):
    client = app.test_client()
    _, html, _ = player_config(client, "/embed/gated?gate_form=none")
    assert "player-gate" not in html
    emulator.state.fail_next(503, times=3, path="/marketing/v3/forms")
    _, html, _ = player_config(client, "/embed/consent")
    assert "player-gate" not in html


# --- submissions ----------------------------------------------------------------------------
def test_a_submission_makes_the_contact_and_ties_the_visitor_token(app, emulator):
    client = app.test_client()
    config, _, _ = player_config(client, f"/embed/gated?{TRACKING}")
    answer = submit(client, config, {"email": "ada@example.com", "firstname": "Ada", "interests": ["video", "audio"],
                                     "industry": "media", "size": "small", "newsletter": "true"},
                    hutk=UTK, pageUri="https://www.example.com/landing", pageName="Landing")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"accepted": True, "message": "Thanks for submitting the form."}
    data = emulator.state.data()
    [contact_id] = data.contacts
    assert data.contacts[contact_id]["email"] == "ada@example.com"
    assert data.utk_contacts == {UTK: contact_id}
    [sent] = data.submissions
    assert sent["body"]["context"] == {"hutk": UTK, "pageUri": "https://www.example.com/landing",
                                       "pageName": "Landing"}
    assert {"name": "interests", "value": "video;audio", "objectTypeId": "0-1"} in sent["body"]["fields"]
    [request] = [r for r in emulator.state.requests if r.path.startswith("/submissions/")]
    assert request.path == f"/submissions/v3/integration/submit/{emulator.state.portal_id}/{FORM_ID}"
    assert request.auth == "none"
    assert gate_counts.totals(app.extensions["catalog"].engine, "gated").submitted == 1


@pytest.mark.parametrize("privacy", ["dnt", "gpc"])
def test_without_consent_to_tracking_no_visitor_token_is_sent(app, emulator, privacy):
    client = app.test_client()
    path = f"/embed/gated?{TRACKING}" + ("&dnt=1" if privacy == "dnt" else "")
    config, _, _ = player_config(client, path)
    headers = {"Sec-GPC": "1"} if privacy == "gpc" else {}
    answer = submit(client, config, {"email": "grace@example.com"}, hutk=UTK, headers=headers)
    assert answer.status_code == 200
    [sent] = emulator.state.data().submissions
    assert "hutk" not in sent["body"].get("context", {})
    assert emulator.state.data().utk_contacts == {}


def test_hubspots_field_errors_come_back_per_field_and_nothing_typed_is_logged(app, emulator, caplog):
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    config, _, _ = player_config(client, "/embed/gated")
    answer = submit(client, config, {"email": "not-an-address", "numemployees": "many", "firstname": "Secretname"})
    assert answer.status_code == 422
    assert answer.get_json() == {"errors": [
        {"field": "email", "errorType": "INVALID_EMAIL", "message": "Enter a valid email address."},
        {"field": "numemployees", "errorType": "INVALID_NUMBER", "message": "Enter a number."}]}
    answer = submit(client, config, {"firstname": "Secretname"})
    assert answer.get_json()["errors"] == [
        {"field": "email", "errorType": "REQUIRED_FIELD", "message": "This field is required."}]
    # Values not on the form never leave this server.
    answer = submit(client, config, {"email": "a@b.co", "salary": "1"})
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["errorType"] == "FIELD_NOT_IN_FORM_DEFINITION"
    emulator.state.fail_next(503, path="/submissions/")
    answer = submit(client, config, {"email": "ada@example.com", "firstname": "Secretname"})
    assert answer.status_code == 503 and answer.get_json() == {"error": "unavailable"}
    assert "Secretname" not in caplog.text and "not-an-address" not in caplog.text
    assert "ada@example.com" not in caplog.text
    assert gate_counts.totals(app.extensions["catalog"].engine, "gated").submitted == 0


def test_consent_forms_send_the_viewers_consent(app, emulator):
    client = app.test_client()
    config, _, _ = player_config(client, "/embed/consent")
    consent = config["gate"]["form"]["consent"]
    assert consent["type"] == "explicit_consent_to_process"
    assert consent["checkboxes"] == [{"subscriptionTypeId": 999, "label": "Marketing email", "required": False}]
    refused = submit(client, config, {"email": "ada@example.com"})
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["errorType"] == "MISSING_PROCESSING_CONSENT"
    answer = submit(client, config, {"email": "ada@example.com"},
                    consent={"process": True, "communications": {"999": True}})
    assert answer.status_code == 200
    sent = emulator.state.data().submissions[-1]["body"]["legalConsentOptions"]["consent"]
    assert sent["consentToProcess"] is True
    assert sent["communications"] == [{"value": True, "subscriptionTypeId": 999, "text": "Marketing email"}]


def test_gate_calls_need_the_gates_token_and_count_shown_and_skipped(app, emulator):
    client = app.test_client()
    config, _, _ = player_config(client, "/embed/gated")
    token = config["gate"]["token"]
    assert client.post("/gates/event", json={"token": "forged", "kind": "shown"}).status_code == 403
    assert client.post("/gates/submit", json={"token": config["events"]["token"], "values": {}}).status_code == 403
    assert client.post("/gates/event", json={"token": token, "kind": "played"}).status_code == 400
    assert client.post("/gates/event", data="x", content_type="application/xml").status_code == 415
    assert client.post("/gates/event", data="{" * 40_000, content_type="application/json").status_code == 413
    for kind in ("shown", "shown", "skipped"):
        assert client.post("/gates/event", json={"token": token, "kind": kind}).status_code == 204
    submit(client, config, {"email": "ada@example.com"})
    totals = gate_counts.totals(app.extensions["catalog"].engine, "gated")
    assert (totals.shown, totals.submitted, totals.skipped, totals.conversion_rate) == (2, 1, 1, 0.5)

    # The item's insights page shows them, with the conversion rate.
    page = client.get(insights_path(app, "gated")).get_data(as_text=True)
    figures = dict(re.findall(r'data-total="(gates-[a-z]+)">([^<]*)<', page))
    assert figures == {"gates-shown": "2", "gates-submitted": "1", "gates-skipped": "1", "gates-conversion": "50.0 %"}
    plain = client.get(insights_path(app, "plain")).get_data(as_text=True)
    assert "Lead capture" not in plain  # no gate, never counted


# --- the optional forms scope ---------------------------------------------------------------
def test_forms_is_an_optional_scope_and_a_portal_without_it_gets_no_gates(emulator, sqlite_url):
    emulator.state.optional_scopes_refused.add(PORTAL_B)
    for hub_id in (PORTAL_A, PORTAL_B):
        add_forms(emulator.state, hub_id)
    app = make_install_app(sqlite_url, emulator, HUBSPOT_FORMS_API_BASE=emulator.url)
    app.extensions["catalog"].upsert([gated_item("gated")])
    client = app.test_client()
    connect = client.get("/hubspot/connect").get_data(as_text=True)
    link = re.search(r'id="connect-hubspot" href="([^"]+)"', connect).group(1).replace("&amp;", "&")
    query = parse_qs(urlsplit(link).query)
    assert query["optional_scope"] == ["forms"] and "forms" not in query["scope"][0].split()
    for hub_id in (PORTAL_A, PORTAL_B):
        assert install(client, emulator, hub_id)[0].status_code == 303  # to the status page

    with_forms, _, _ = player_config(client, f"/embed/gated?hs_portal_id={PORTAL_A}")
    assert with_forms["gate"]["form"]["formId"] == FORM_ID
    read = next(r for r in emulator.state.requests if r.path == f"/marketing/v3/forms/{FORM_ID}")
    assert read.hub_id == PORTAL_A  # with that portal's own token
    reads = form_reads(emulator)
    _, html, _ = player_config(client, f"/embed/gated?hs_portal_id={PORTAL_B}")
    assert "player-gate" not in html and form_reads(emulator) == reads  # not even asked

    runner = command_runner(app)
    shown = runner.invoke(args=["portals", "show", str(PORTAL_B)]).output
    assert "leadCapture: off: the portal did not grant the optional 'forms' scope, so its players show no gates" \
        in shown.splitlines()
    assert "leadCapture: on: the portal granted the 'forms' scope" in runner.invoke(
        args=["portals", "show", str(PORTAL_A)]).output.splitlines()
    app.extensions["catalog"].dispose()


def test_without_the_forms_scope_hubspot_refuses_the_form_read(sqlite_url):
    with LiveEmulator(rate_interval_ms=200, scopes=WITHOUT_FORMS_SCOPES) as emulator:
        add_forms(emulator.state)
        app = gated_app(sqlite_url, emulator)
        app.extensions["catalog"].upsert([gated_item("gated")])
        _, html, _ = player_config(app.test_client(), "/embed/gated")
        assert "player-gate" not in html
        [read] = [r for r in emulator.state.requests if r.path.startswith("/marketing/")]
        assert read.status == 403
        app.extensions["catalog"].dispose()
