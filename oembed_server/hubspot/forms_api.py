"""HubSpot forms: reading a form's definition (``GET /marketing/v3/forms/{formId}``, OAuth,
scope ``forms``) and submitting it (``POST /submissions/v3/integration/submit/{portalId}/{formGuid}``
on HubSpot's forms host, ``HUBSPOT_FORMS_API_BASE``, no credentials).

A submission carries what a viewer typed: it is never retried after an answer that leaves
the outcome unknown (a second contact note or workflow enrolment is worse than a retry
message), and none of it reaches a log or an error message: only HubSpot's own error
types and messages, which name fields, never values."""
from __future__ import annotations

import dataclasses
from typing import Any

from oembed_server.hubspot import response_shapes
from oembed_server.hubspot.api_call import ApiCall, Auth, segment
from oembed_server.hubspot.api_error import HubSpotError
from oembed_server.hubspot.client import HubSpotClient

DEFAULT_FORMS_API_BASE = "https://api.hsforms.com"


def form_definition_call(form_id: str) -> ApiCall:
    return ApiCall("GET", f"/marketing/v3/forms/{segment(form_id)}", Auth.OAUTH, idempotent=True)


def submit_call(portal_id: int, form_id: str, body: dict[str, Any]) -> ApiCall:
    # A repeated submission makes a second form submission in HubSpot: never retried.
    return ApiCall("POST", f"/submissions/v3/integration/submit/{int(portal_id)}/{segment(form_id)}",
                   Auth.NONE, idempotent=False, json=body)


def read_form(client: HubSpotClient, form_id: str) -> dict[str, Any] | None:
    """The form's definition, None when the portal has no such form."""
    return response_shapes.receive(client, form_definition_call(form_id), response_shapes.FORM_DEFINITION,
                                   allow=(404,))


@dataclasses.dataclass(frozen=True)
class FieldError:
    error_type: str
    message: str
    field: str | None  # the field HubSpot's message names, when it names one


@dataclasses.dataclass(frozen=True)
class SubmitOutcome:
    accepted: bool
    errors: tuple[FieldError, ...] = ()
    inline_message: str | None = None
    redirect_uri: str | None = None


def submit(client: HubSpotClient, portal_id: int, form_id: str, body: dict[str, Any],
           field_names: tuple[str, ...] = ()) -> SubmitOutcome:
    """Submit; a 400 with HubSpot's ``errors`` is the viewer's to fix and comes back as
    field errors (each tied to the field its message names), anything else raises."""
    call = submit_call(portal_id, form_id, body)
    answer = client.execute(call, allow=(400,))
    if answer.status == 400:
        found = answer.body.get("errors") if isinstance(answer.body, dict) else None
        if not isinstance(found, list) or not found:
            raise HubSpotError(400, str(answer.body.get("message") if isinstance(answer.body, dict) else "")
                               or "the submission was refused", "VALIDATION_ERROR",
                               method=call.method, path=call.path)
        return SubmitOutcome(False, tuple(_field_error(e, field_names) for e in found if isinstance(e, dict)))
    checked = response_shapes.check(answer.body, response_shapes.FORM_SUBMITTED, call, answer.status)
    checked = checked or {}
    inline, redirect = checked.get("inlineMessage"), checked.get("redirectUri")
    return SubmitOutcome(True, (), inline if isinstance(inline, str) else None,
                         redirect if isinstance(redirect, str) else None)


def _field_error(error: dict, field_names: tuple[str, ...]) -> FieldError:
    message = str(error.get("message") or "")
    error_type = str(error.get("errorType") or "INVALID_INPUT")
    # HubSpot names the field in its message: "Error in 'fields.email'. Invalid email address".
    field = next((name for name in field_names if f"fields.{name}'" in message or f"fields.{name}." in message
                  or f"'{name}'" in message), None)
    return FieldError(error_type, message, field)
