"""The pure rules of lead capture gates: the catalog key, the module's parameters, a
HubSpot form definition reduced to what the player draws, and the submission body."""
from __future__ import annotations

import pytest

from oembed_server.domain.gate_tokens import GateClaims, issue_gate_token, read_gate_token
from oembed_server.domain.lead_gates import (
    FormNotDrawable,
    Gate,
    at_problem,
    gate_for_embed,
    gate_form,
    gate_from_json,
    gate_json,
    parse_gate,
    submission_body,
)
from tests.hubspot_emulator.routes_forms import explicit_consent, form_definition, form_field
from tests.support.gate_forms import FORM_ID, OTHER_FORM_ID, every_field_type


@pytest.mark.parametrize("raw, expected", [
    ({"form_id": FORM_ID}, Gate(FORM_ID)),
    ({"form_id": FORM_ID.upper(), "at": "AFTER", "skippable": True, "heading": " Hi ", "text": ""},
     Gate(FORM_ID, "after", True, "Hi", None)),
    ({"form_id": FORM_ID, "at": 12}, Gate(FORM_ID, 12.0)),
    (f'{{"form_id": "{FORM_ID}", "at": "7.5"}}', Gate(FORM_ID, 7.5)),  # CSV: JSON text
])
def test_gates_the_catalog_accepts(raw, expected):
    assert parse_gate(raw) == (expected, None)


@pytest.mark.parametrize("raw, message", [
    ({"form_id": "not-a-guid"}, "form_id 'not-a-guid' is not a HubSpot form GUID"),
    ({"form_id": FORM_ID, "at": "middle"}, "at 'middle' is not 'before', 'after' or a number of seconds"),
    ({"form_id": FORM_ID, "at": 0}, "at 0 seconds must be more than 0"),
    ({"form_id": FORM_ID, "at": True}, "at must be 'before', 'after' or a number of seconds, got True"),
    ({"form_id": FORM_ID, "skippable": "yes"}, "skippable must be true or false, got 'yes'"),
    ({"form_id": FORM_ID, "colour": "red"}, "unknown key 'colour' (allowed: form_id, at, skippable, heading, text)"),
    ({"form_id": FORM_ID, "heading": "x" * 201}, "heading must be text of at most 200 characters without control"
                                                 " characters"),
    ([FORM_ID], "expected an object, got list"),
    ("{nope", "is not a JSON object (Expecting property name enclosed in double quotes at column 2)"),
])
def test_gates_the_catalog_refuses(raw, message):
    assert parse_gate(raw) == (None, message)


def test_a_gate_in_seconds_must_fall_within_the_duration():
    assert at_problem(Gate(FORM_ID, 7.0), 8003) is None
    assert at_problem(Gate(FORM_ID, 9.0), 8003) == "at 9 s is not within the media's duration (8.003 s)"
    assert at_problem(Gate(FORM_ID, 9.0), None) == "at in seconds needs the item's duration_ms"
    assert at_problem(Gate(FORM_ID, "after"), None) is None


def test_stored_gates_read_back_the_same():
    for gate in (Gate(FORM_ID), Gate(FORM_ID, 3.5, True, "Heading", "Text"), Gate(FORM_ID, "after")):
        assert gate_from_json(gate_json(gate)) == gate
    assert gate_json(None) is None and gate_from_json(None) is None


def test_the_module_wins_over_the_catalog():
    catalog = Gate(FORM_ID, "before", False, "Catalog heading")
    assert gate_for_embed(catalog, {}, 8003) is catalog
    assert gate_for_embed(None, {}, 8003) is None
    assert gate_for_embed(catalog, {"gate_form": "none"}, 8003) is None
    chosen = gate_for_embed(catalog, {"gate_form": OTHER_FORM_ID, "gate_at": "5", "gate_skippable": "1"}, 8003)
    assert chosen == Gate(OTHER_FORM_ID, 5.0, True)
    # The same form: the catalog's heading and text stay, the module's position and skip win.
    assert gate_for_embed(catalog, {"gate_form": FORM_ID, "gate_at": "after"}, 8003) == Gate(
        FORM_ID, "after", False, "Catalog heading")
    # A malformed module value falls back rather than breaking the player.
    assert gate_for_embed(catalog, {"gate_form": "junk"}, 8003) is catalog
    assert gate_for_embed(None, {"gate_form": FORM_ID, "gate_at": "60"}, 8003) == Gate(FORM_ID, "before")


def test_a_form_definition_becomes_what_the_player_draws():
    definition = form_definition(FORM_ID, "Video gate", every_field_type(), submit_text="Watch now",
                                 consent=explicit_consent("<p>We store your data.</p>", [(999, "Marketing", True)]))
    definition["fieldGroups"].append({"groupType": "default_group", "richTextType": "text", "fields": [
        form_field("hidden_source", "single_line_text", "Source") | {"hidden": True}]})
    form = gate_form(definition)
    assert form.submit_label == "Watch now" and form.name == "Video gate"
    assert [(f.name, f.field_type, f.required) for f in form.fields][:3] == [
        ("email", "email", True), ("firstname", "single_line_text", False), ("phone", "phone", False)]
    assert "hidden_source" not in [f.name for f in form.fields]
    assert [f for f in form.fields if f.name == "industry"][0].options == (("media", "Media"), ("retail", "Retail"))
    assert form.consent_type == "explicit_consent_to_process"
    assert [(c.subscription_type_id, c.label, c.required) for c in form.checkboxes] == [(999, "Marketing", True)]


def test_forms_a_gate_cannot_draw_are_refused():
    with pytest.raises(FormNotDrawable, match="CAPTCHA"):
        gate_form(form_definition(FORM_ID, "x", [], recaptcha=True))
    with pytest.raises(FormNotDrawable, match="'cv' is of type 'file'"):
        gate_form(form_definition(FORM_ID, "x", [form_field("cv", "file", "CV")]))


def test_the_submission_body():
    form = gate_form(form_definition(FORM_ID, "Gate", every_field_type(),
                                     consent=explicit_consent("Processing text", [(999, "Marketing", False)])))
    body, problems = submission_body(
        form, {"email": "ada@example.com", "interests": ["video", "audio"], "newsletter": "true", "firstname": ""},
        {"process": True, "communications": {"999": True}}, hutk="u" * 32, page_uri="https://www.example.com/a",
        page_name="Landing", submitted_at_ms=1767225600000)
    assert problems == []
    assert body == {
        "submittedAt": "1767225600000",
        "fields": [{"objectTypeId": "0-1", "name": "email", "value": "ada@example.com"},
                   {"objectTypeId": "0-1", "name": "interests", "value": "video;audio"},
                   {"objectTypeId": "0-1", "name": "newsletter", "value": "true"}],
        "context": {"hutk": "u" * 32, "pageUri": "https://www.example.com/a", "pageName": "Landing"},
        "legalConsentOptions": {"consent": {"consentToProcess": True, "text": "Processing text", "communications": [
            {"value": True, "subscriptionTypeId": 999, "text": "Marketing"}]}},
    }
    body, _ = submission_body(form, {"email": "a@b.co"}, {}, hutk=None, page_uri=None, page_name=None,
                              submitted_at_ms=1)
    assert "context" not in body  # no visitor token, no page: nothing to say


def test_values_not_on_the_form_are_refused_before_sending():
    form = gate_form(form_definition(FORM_ID, "Gate", every_field_type()))
    body, problems = submission_body(form, {"email": "a@b.co", "salary": "1", "message": {"x": 1}}, {}, hutk=None,
                                     page_uri=None, page_name=None, submitted_at_ms=1)
    assert body is None
    assert [(p.field, p.error_type) for p in problems] == [("salary", "FIELD_NOT_IN_FORM_DEFINITION"),
                                                            ("message", "INVALID_INPUT")]


def test_gate_tokens_bind_item_portal_and_form():
    claims = GateClaims("gated", 777, FORM_ID, True)
    token = issue_gate_token("k" * 40, claims)
    assert read_gate_token("k" * 40, token) == claims
    assert read_gate_token("j" * 40, token) is None
    assert read_gate_token("k" * 40, token + "x") is None
    assert read_gate_token("k" * 40, None) is None
