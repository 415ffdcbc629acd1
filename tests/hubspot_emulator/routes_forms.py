"""Marketing forms: listing and reading a portal's forms (``/marketing/v3/forms``, OAuth,
scope ``forms``), and HubSpot's form submission API (``/submissions/v3/integration/submit/
{portalId}/{formGuid}``, served here as HubSpot serves it on api.hsforms.com: no credentials).

A submission is validated as HubSpot does for forms made since 2022 (fields not on the
form, missing required fields, bad emails and numbers, options not in the field, consent
the form requires, a captcha form), answering 400 with HubSpot's ``errors`` list of
``{message, errorType}``. An accepted one makes or updates the contact with its email and,
with ``context.hutk``, ties that visitor token to the contact: events that later name the
token as ``contactUtk`` belong to that contact (``events_log.contact_timeline``).
"""
from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Blueprint, g, jsonify, request

from tests.hubspot_emulator.responses import ApiError, now_iso, portal_data, require, state

blueprint = Blueprint("forms", __name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_HUTK = re.compile(r"^[0-9a-f]{32}$")
OPTION_TYPES = ("dropdown", "radio", "multiple_checkboxes")


# --- definitions, as tests make them ---------------------------------------------------------
def form_field(name: str, field_type: str, label: str, *, required: bool = False,
               options: list[tuple[str, str]] | None = None, object_type_id: str = "0-1") -> dict[str, Any]:
    """One field as HubSpot's form definition holds it (the spec's required keys)."""
    field: dict[str, Any] = {"objectTypeId": object_type_id, "name": name, "label": label, "fieldType": field_type,
                             "required": required, "hidden": False, "dependentFields": []}
    if field_type == "email":
        field["validation"] = {"blockedEmailDomains": [], "useDefaultBlockList": False}
    if field_type in ("phone", "mobile_phone"):
        field["validation"] = {"minAllowedDigits": 7, "maxAllowedDigits": 20}
        if field_type == "phone":
            field["useCountryCodeSelect"] = False
    if field_type in OPTION_TYPES:
        field["options"] = [{"value": v, "label": lab, "displayOrder": i} for i, (v, lab) in enumerate(options or [])]
        field["defaultValues"] = []
    return field


def form_definition(form_id: str, name: str, fields: list[dict], *, submit_text: str = "Submit",
                    consent: dict | None = None, recaptcha: bool = False) -> dict[str, Any]:
    stamp = now_iso()
    return {
        "id": form_id, "name": name, "formType": "hubspot", "createdAt": stamp, "updatedAt": stamp,
        "archived": False,
        "fieldGroups": [{"groupType": "default_group", "richTextType": "text", "fields": [f]} for f in fields],
        "configuration": {"language": "en", "cloneable": True, "editable": True, "archivable": True,
                          "recaptchaEnabled": recaptcha, "notifyContactOwner": False, "notifyRecipients": [],
                          "createNewContactForNewEmail": False, "prePopulateKnownValues": True,
                          "allowLinkToResetKnownValues": False, "lifecycleStages": [],
                          "postSubmitAction": {"type": "thank_you", "value": "Thanks for submitting the form."}},
        "displayOptions": {"renderRawHtml": False, "theme": "default_style", "submitButtonText": submit_text,
                           "style": {"fontFamily": "arial", "backgroundWidth": "100%", "labelTextColor": "#33475b",
                                     "labelTextSize": "13px", "helpTextColor": "#7C98B6", "helpTextSize": "11px",
                                     "legalConsentTextColor": "#33475b", "legalConsentTextSize": "14px",
                                     "submitColor": "#ff7a59", "submitAlignment": "left",
                                     "submitFontColor": "#ffffff", "submitSize": "12px"}},
        "legalConsentOptions": consent or {"type": "none"},
    }


def explicit_consent(process_text: str, checkboxes: list[tuple[int, str, bool]],
                     privacy_text: str = "You may unsubscribe at any time.") -> dict[str, Any]:
    return {"type": "explicit_consent_to_process", "consentToProcessText": process_text,
            "consentToProcessCheckboxLabel": "I agree to allow Example Media to store and process my personal data.",
            "communicationConsentText": "Example Media would like to send you marketing email.",
            "communicationsCheckboxes": [{"subscriptionTypeId": i, "label": lab, "required": req}
                                         for i, lab, req in checkboxes],
            "privacyText": privacy_text}


# --- the forms API ---------------------------------------------------------------------------
@blueprint.get("/marketing/v3/forms")
def list_forms():
    forms = sorted(portal_data().forms.values(), key=lambda f: f["createdAt"] + f["id"])
    forms = [f for f in forms if f["archived"] == (request.args.get("archived") == "true")]
    raw_limit = request.args.get("limit") or "20"
    require(raw_limit.isdigit() and 0 < int(raw_limit) <= 1000, "limit must be between 1 and 1000")
    limit = int(raw_limit)
    start = int(request.args.get("after") or 0) if (request.args.get("after") or "0").isdigit() else 0
    page = forms[start:start + limit]
    body: dict[str, Any] = {"results": page}
    if start + limit < len(forms):
        body["paging"] = {"next": {"after": str(start + limit),
                                   "link": f"{request.host_url.rstrip('/')}/marketing/v3/forms?after={start + limit}"}}
    return jsonify(body)


@blueprint.get("/marketing/v3/forms/<form_id>")
def read_form(form_id: str):
    form = portal_data().forms.get(form_id)
    if form is None or (form["archived"] and request.args.get("archived") != "true"):
        raise ApiError(404, f"Form {form_id} does not exist", "OBJECT_NOT_FOUND")
    return jsonify(form)


# --- submissions -------------------------------------------------------------------------------
def _error(message: str, error_type: str) -> dict[str, str]:
    return {"message": message, "errorType": error_type}


def _submission_errors(form: dict, body: dict) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    fields = {f["name"]: f for group in form["fieldGroups"] for f in group["fields"]}
    given: dict[str, str] = {}
    entries = body.get("fields")
    if not isinstance(entries, list):
        return [_error("Error in 'fields'. Some required fields were not completed.", "REQUIRED_FIELD")]
    if len(entries) > 1000:
        return [_error("Too many values", "MAX_NUMBER_OF_SUBMITTED_VALUES_EXCEEDED")]
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not isinstance(
                entry.get("value"), str):
            errors.append(_error("Error in 'fields'. Each field needs a name and a string value", "INVALID_METADATA"))
            continue
        name, value = entry["name"], entry["value"]
        field = fields.get(name)
        if field is None or entry.get("objectTypeId", field["objectTypeId"]) != field["objectTypeId"]:
            errors.append(_error(f"Error in 'fields.{name}'. Field '{name}' is not in the form definition",
                                 "FIELD_NOT_IN_FORM_DEFINITION"))
            continue
        if len(value) > 65536:
            errors.append(_error(f"Error in 'fields.{name}'. Input too large", "INPUT_TOO_LARGE"))
            continue
        kind = field["fieldType"]
        if kind == "email" and not _EMAIL.match(value):
            errors.append(_error(f"Error in 'fields.{name}'. Invalid email address", "INVALID_EMAIL"))
        elif kind == "number" and not _NUMBER.match(value):
            errors.append(_error(f"Error in 'fields.{name}'. Invalid number", "INVALID_NUMBER"))
        elif kind in OPTION_TYPES:
            allowed = {o["value"] for o in field.get("options", [])}
            chosen = value.split(";") if kind == "multiple_checkboxes" else [value]
            if any(v not in allowed for v in chosen):
                errors.append(_error(f"Error in 'fields.{name}'. Value '{value}' is not one of the field's options",
                                     "VALUE_NOT_IN_FIELD_DEFINITION"))
        given[name] = value
    for name, field in fields.items():
        if field["required"] and not given.get(name):
            errors.append(_error(f"Error in 'fields.{name}'. Required field '{name}' is missing", "REQUIRED_FIELD"))
    context = body.get("context") or {}
    if not isinstance(context, dict):
        errors.append(_error("Error in 'context'. It must be an object", "INVALID_METADATA"))
    else:
        if "hutk" in context and not (isinstance(context["hutk"], str) and _HUTK.match(context["hutk"])):
            errors.append(_error("Error in 'context.hutk'. Invalid hutk", "INVALID_HUTK"))
        page_uri = context.get("pageUri")
        if page_uri is not None and not (isinstance(page_uri, str) and re.match(r"^https?://\S+$", page_uri)):
            errors.append(_error("Error in 'context.pageUri'. Invalid page URI", "INVALID_PAGE_URI"))
    consent = form["legalConsentOptions"]
    if consent["type"] in ("explicit_consent_to_process", "implicit_consent_to_process"):
        given_consent = (body.get("legalConsentOptions") or {}).get("consent")
        if not isinstance(given_consent, dict):
            errors.append(_error("Error in 'legalConsentOptions'. This form requires consent to process",
                                 "MISSING_PROCESSING_CONSENT"))
        else:
            if given_consent.get("consentToProcess") is not True:
                errors.append(_error("Error in 'legalConsentOptions.consent.consentToProcess'. "
                                     "Consent to process is required", "MISSING_PROCESSING_CONSENT"))
            if not given_consent.get("text"):
                errors.append(_error("Error in 'legalConsentOptions.consent.text'. The consent text is missing",
                                     "MISSING_PROCESSING_CONSENT_TEXT"))
            communications = given_consent.get("communications") or []
            ids = [c.get("subscriptionTypeId") for c in communications if isinstance(c, dict)]
            if len(ids) != len(set(ids)):
                errors.append(_error("Duplicate subscription type", "DUPLICATE_SUBSCRIPTION_TYPE_ID"))
            if any(isinstance(c, dict) and not c.get("text") for c in communications):
                errors.append(_error("A communication consent has no text", "MISSING_COMMUNICATION_CONSENT_TEXT"))
            for box in consent["communicationsCheckboxes"]:
                chosen = next((c for c in communications if isinstance(c, dict)
                               and c.get("subscriptionTypeId") == box["subscriptionTypeId"]), None)
                if box["required"] and not (chosen and chosen.get("value") is True):
                    errors.append(_error(f"Error in 'legalConsentOptions.consent.communications'. Subscription "
                                         f"{box['subscriptionTypeId']} is required", "MISSING_PROCESSING_CONSENT"))
    return errors


@blueprint.post("/submissions/v3/integration/submit/<int:portal_id>/<form_guid>")
def submit(portal_id: int, form_guid: str):
    s = state()
    require(request.mimetype == "application/json", "Content-Type must be application/json", 415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _validation_failed([_error("The request body is not a JSON object", "INVALID_METADATA")])
    data = s.data(portal_id) if portal_id in s.portal_data or portal_id in s.test_portals else None
    form = data.forms.get(form_guid) if data else None
    if form is None or form["archived"]:
        raise ApiError(404, f"Form {form_guid} does not exist in portal {portal_id}", "OBJECT_NOT_FOUND")
    if form["configuration"]["recaptchaEnabled"]:
        return _validation_failed([_error(f"Form '{form_guid}' can't receive API submissions as Captcha (SPAM "
                                          "prevention) is enabled.", "FORM_HAS_RECAPTCHA_ENABLED")])
    errors = _submission_errors(form, body)
    if errors:
        return _validation_failed(errors)
    values = {f["name"]: f["value"] for f in body["fields"]}
    with s.lock:
        contact_id = _contact_for(data, values)
        hutk = (body.get("context") or {}).get("hutk")
        if hutk and contact_id:
            data.utk_contacts[hutk] = contact_id
        data.submissions.append({"formId": form_guid, "contactId": contact_id, "body": body})
    g.setdefault("handled", True)
    return jsonify({"inlineMessage": form["configuration"]["postSubmitAction"]["value"]})


def _contact_for(data, values: dict[str, str]) -> str | None:
    email = values.get("email")
    if not email:
        return None
    for contact_id, properties in data.contacts.items():
        if properties.get("email", "").lower() == email.lower():
            properties.update(values)
            return contact_id
    contact_id = state().next_id()
    data.contacts[contact_id] = dict(values)
    return contact_id


def _validation_failed(errors: list[dict[str, str]]):
    response = jsonify({"status": "error", "message": "The request is not valid", "correlationId": str(uuid.uuid4()),
                        "errors": errors})
    response.status_code = 400
    return response
