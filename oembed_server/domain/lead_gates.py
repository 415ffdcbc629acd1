"""Lead capture gates: a HubSpot form the player shows before, during or after the media.

Pure rules only: what a gate is, how the catalog's ``gate`` key and the page module's
``gate_form`` / ``gate_at`` / ``gate_skippable`` query parameters become one, and how a
HubSpot form definition (``GET /marketing/v3/forms/{formId}``) is reduced to what the
player draws and what a submission may carry. No Flask, HTTP or storage here.
"""
from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

BEFORE = "before"
AFTER = "after"
GATE_KEYS = ("form_id", "at", "skippable", "heading", "text")
HEADING_MAX = 200
TEXT_MAX = 1000
# HubSpot form ids are GUIDs, e.g. 78c2891f-ebdd-44c0-bd94-15c012bbbfbf.
_FORM_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The field types the player draws; a form with any other visible field cannot be a gate.
DRAWN_FIELD_TYPES = frozenset({
    "single_line_text", "email", "phone", "mobile_phone", "number", "single_checkbox",
    "multiple_checkboxes", "dropdown", "radio", "multi_line_text",
})
FIELD_VALUE_MAX = 2000


@dataclasses.dataclass(frozen=True)
class Gate:
    form_id: str
    at: str | float = BEFORE  # "before", "after" or seconds into the media
    skippable: bool = False
    heading: str | None = None
    text: str | None = None

    def plain(self) -> dict[str, Any]:
        return {"form_id": self.form_id, "at": self.at, "skippable": self.skippable,
                "heading": self.heading, "text": self.text}


def is_form_id(value: object) -> bool:
    return isinstance(value, str) and _FORM_ID.fullmatch(value.lower()) is not None


def parse_at(raw: object) -> tuple[str | float | None, str | None]:
    """``before``, ``after`` or a number of seconds (JSON number or its text), or the problem."""
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in (BEFORE, AFTER):
            return text, None
        try:
            raw = float(text) if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", text) else None
        except ValueError:
            raw = None
        if raw is None:
            return None, f"at {text[:40]!r} is not 'before', 'after' or a number of seconds"
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None, f"at must be 'before', 'after' or a number of seconds, got {raw!r}"
    if not 0 < raw < 10**9:
        return None, f"at {raw!r} seconds must be more than 0"
    return float(raw), None


def parse_gate(raw: object) -> tuple[Gate | None, str | None]:
    """The catalog's ``gate`` value (an object; CSV gives it as JSON text) or why not."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            return None, f"is not a JSON object ({exc.msg} at column {exc.colno})"
    if not isinstance(raw, dict):
        return None, f"expected an object, got {type(raw).__name__}"
    if unknown := [key for key in raw if key not in GATE_KEYS]:
        return None, f"unknown key {unknown[0]!r} (allowed: " + ", ".join(GATE_KEYS) + ")"
    form_id = raw.get("form_id")
    if not is_form_id(form_id):
        return None, f"form_id {form_id!r} is not a HubSpot form GUID"
    at, problem = parse_at(raw.get("at", BEFORE))
    if problem:
        return None, problem
    skippable = raw.get("skippable", False)
    if not isinstance(skippable, bool):
        return None, f"skippable must be true or false, got {skippable!r}"
    texts: dict[str, str | None] = {}
    for key, limit in (("heading", HEADING_MAX), ("text", TEXT_MAX)):
        value = raw.get(key)
        if value is None:
            texts[key] = None
            continue
        if not isinstance(value, str) or len(value) > limit or _CONTROL.search(value):
            return None, f"{key} must be text of at most {limit} characters without control characters"
        texts[key] = value.strip() or None
    assert at is not None
    return Gate(str(form_id).lower(), at, skippable, texts["heading"], texts["text"]), None


def at_problem(gate: Gate, duration_ms: int | None) -> str | None:
    """A gate at a number of seconds must fall within the media's known duration."""
    if not isinstance(gate.at, float):
        return None
    if duration_ms is None:
        return "at in seconds needs the item's duration_ms"
    if gate.at * 1000 >= duration_ms:
        return f"at {gate.at:g} s is not within the media's duration ({duration_ms / 1000:g} s)"
    return None


def gate_json(gate: Gate | None) -> str | None:
    """A gate as the catalog stores it: canonical JSON text."""
    return json.dumps(gate.plain(), sort_keys=True, separators=(",", ":")) if gate else None


def gate_from_json(value: object) -> Gate | None:
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        return None
    at = value["at"]
    return Gate(value["form_id"], float(at) if isinstance(at, (int, float)) else at, bool(value["skippable"]),
                value.get("heading"), value.get("text"))


def gate_for_embed(catalog_gate: Gate | None, args: Mapping[str, str], duration_ms: int | None) -> Gate | None:
    """The gate a player shows: the page module's choice (``gate_form``, ``gate_at``,
    ``gate_skippable``) wins over the catalog's; ``gate_form=none`` switches a catalog gate
    off. A malformed parameter is ignored (a player never fails on its URL)."""
    form = (args.get("gate_form") or "").strip().lower()
    if form == "none":
        return None
    if not form:
        return catalog_gate
    if not is_form_id(form):
        return catalog_gate
    base = catalog_gate if catalog_gate and catalog_gate.form_id == form else Gate(form)
    at, problem = parse_at(args.get("gate_at") or base.at)
    if problem or at is None:
        at = base.at
    skippable = {"1": True, "true": True, "0": False, "false": False}.get(
        (args.get("gate_skippable") or "").strip().lower(), base.skippable)
    gate = dataclasses.replace(base, at=at, skippable=skippable)
    return gate if at_problem(gate, duration_ms) is None or not isinstance(at, float) or duration_ms is None \
        else dataclasses.replace(gate, at=BEFORE)


# --- the form definition ----------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class FormField:
    name: str
    object_type_id: str
    label: str
    field_type: str
    required: bool
    options: tuple[tuple[str, str], ...] = ()  # (value, label)
    placeholder: str | None = None
    description: str | None = None

    def plain(self) -> dict[str, Any]:
        return {"name": self.name, "objectTypeId": self.object_type_id, "label": self.label,
                "fieldType": self.field_type, "required": self.required,
                "options": [{"value": v, "label": lab} for v, lab in self.options],
                "placeholder": self.placeholder, "description": self.description}


@dataclasses.dataclass(frozen=True)
class ConsentCheckbox:
    subscription_type_id: int
    label: str
    required: bool


@dataclasses.dataclass(frozen=True)
class GateForm:
    """What the player draws of a HubSpot form, and what a submission may name."""
    form_id: str
    name: str
    submit_label: str
    fields: tuple[FormField, ...]
    consent_type: str = "none"
    consent_text: str | None = None           # communicationsCheckboxes' lead-in text
    processing_text: str | None = None        # what consenting to processing means
    process_checkbox_label: str | None = None  # explicit consent: the checkbox's label
    checkboxes: tuple[ConsentCheckbox, ...] = ()
    privacy_text: str | None = None

    def plain(self) -> dict[str, Any]:
        return {"formId": self.form_id, "name": self.name, "submitLabel": self.submit_label,
                "fields": [f.plain() for f in self.fields],
                "consent": {"type": self.consent_type, "text": self.consent_text,
                            "processingText": self.processing_text,
                            "processLabel": self.process_checkbox_label,
                            "checkboxes": [{"subscriptionTypeId": c.subscription_type_id, "label": c.label,
                                            "required": c.required} for c in self.checkboxes],
                            "privacyText": self.privacy_text}}


class FormNotDrawable(ValueError):
    """The form has something the player cannot draw or submit (a file field, a captcha)."""


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def gate_form(definition: Mapping[str, Any]) -> GateForm:
    """A HubSpot form definition reduced to what a gate needs (FormNotDrawable: why not)."""
    configuration = definition.get("configuration") or {}
    if configuration.get("recaptchaEnabled"):
        raise FormNotDrawable("the form has CAPTCHA switched on, so HubSpot refuses API submissions")
    fields: list[FormField] = []
    for group in definition.get("fieldGroups") or ():
        for field in group.get("fields") or ():
            if field.get("hidden"):
                continue
            field_type = field.get("fieldType")
            if field_type not in DRAWN_FIELD_TYPES:
                raise FormNotDrawable(f"field {field.get('name')!r} is of type {field_type!r}, "
                                      "which a player gate cannot draw")
            options = tuple((str(o.get("value")), str(o.get("label") or o.get("value")))
                            for o in sorted(field.get("options") or (), key=lambda o: o.get("displayOrder", 0)))
            fields.append(FormField(str(field["name"]), str(field.get("objectTypeId") or "0-1"),
                                    _text(field.get("label")) or str(field["name"]), field_type,
                                    bool(field.get("required")), options, _text(field.get("placeholder")),
                                    _text(field.get("description"))))
    consent = definition.get("legalConsentOptions") or {}
    kind = consent.get("type") or "none"
    checkboxes = tuple(ConsentCheckbox(int(box["subscriptionTypeId"]), _text(box.get("label")) or "",
                                       bool(box.get("required")))
                       for box in consent.get("communicationsCheckboxes") or ())
    display = definition.get("displayOptions") or {}
    return GateForm(
        form_id=str(definition["id"]), name=str(definition.get("name") or ""),
        submit_label=_text(display.get("submitButtonText")) or "Submit",
        fields=tuple(fields), consent_type=kind,
        consent_text=_text(consent.get("communicationConsentText")),
        processing_text=_text(consent.get("consentToProcessText")),
        process_checkbox_label=_text(consent.get("consentToProcessCheckboxLabel")),
        checkboxes=checkboxes if kind != "none" else (),
        privacy_text=_text(consent.get("privacyText")),
    )


@dataclasses.dataclass(frozen=True)
class SubmissionProblem:
    field: str | None
    error_type: str
    message: str


def submission_body(form: GateForm, values: Mapping[str, Any], consent: Mapping[str, Any], *,
                    hutk: str | None, page_uri: str | None, page_name: str | None,
                    submitted_at_ms: int) -> tuple[dict[str, Any] | None, list[SubmissionProblem]]:
    """The body of HubSpot's submit call from what the viewer typed, or the problems found
    before sending (fields not on the form, wrong types; HubSpot checks the rest)."""
    known = {f.name: f for f in form.fields}
    problems: list[SubmissionProblem] = []
    fields: list[dict[str, str]] = []
    for name, value in values.items():
        field = known.get(name)
        if field is None:
            problems.append(SubmissionProblem(name, "FIELD_NOT_IN_FORM_DEFINITION", "This field is not on the form."))
            continue
        if isinstance(value, list) and field.field_type == "multiple_checkboxes":
            value = ";".join(str(v) for v in value)
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, str):
            problems.append(SubmissionProblem(name, "INVALID_INPUT", "This value is not text."))
            continue
        if len(value) > FIELD_VALUE_MAX:
            problems.append(SubmissionProblem(name, "INPUT_TOO_LARGE", "This value is too long."))
            continue
        if value != "":
            fields.append({"objectTypeId": field.object_type_id, "name": name, "value": value})
    if problems:
        return None, problems
    context: dict[str, str] = {}
    if hutk:
        context["hutk"] = hutk
    if page_uri:
        context["pageUri"] = page_uri
    if page_name:
        context["pageName"] = page_name
    body: dict[str, Any] = {"submittedAt": str(submitted_at_ms), "fields": fields}
    if context:
        body["context"] = context
    if form.consent_type in ("explicit_consent_to_process", "implicit_consent_to_process"):
        communications = consent.get("communications")
        chosen: Mapping[str, Any] = communications if isinstance(communications, dict) else {}
        process = consent.get("process") is True or form.consent_type == "implicit_consent_to_process"
        body["legalConsentOptions"] = {"consent": {
            "consentToProcess": process,
            "text": form.processing_text or form.process_checkbox_label or "",
            "communications": [{"value": chosen.get(str(box.subscription_type_id)) is True,
                                "subscriptionTypeId": box.subscription_type_id, "text": box.label}
                               for box in form.checkboxes],
        }}
    elif form.consent_type == "legitimate_interest":
        pass  # the portal's legal basis is set on the form; nothing the viewer chose to send
    return body, []
