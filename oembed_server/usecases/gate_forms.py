"""Lead capture gates at work: the HubSpot form a player shows (read for the portal that
embeds the player, with that portal's token, cached), and a viewer's submission passed on
to HubSpot's form submission API.

What a viewer types goes from the request to HubSpot and nowhere else: it is not stored,
not queued and not logged (a failure logs the portal, the form and HubSpot's status only).
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.engine import Engine

from oembed_server.domain.hubspot_app import FORMS_SCOPE
from oembed_server.domain.lead_gates import FormNotDrawable, GateForm, gate_form, submission_body
from oembed_server.hubspot import forms_api
from oembed_server.hubspot.api_error import HubSpotError
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.client_config import HubSpotConfigError
from oembed_server.hubspot.rate_limiter import RateLimiter
from oembed_server.settings import Settings
from oembed_server.usecases.portal_clients import PortalClients

log = logging.getLogger(__name__)

# A form edited in HubSpot shows in players within this long; a form HubSpot could not
# give is asked for again after the shorter time.
FORM_TTL_S = 300.0
MISSING_FORM_TTL_S = 30.0
# A viewer is waiting: form reads and submissions get short timeouts and no second try.
VIEWER_TIMEOUT_S = 5.0


@dataclasses.dataclass(frozen=True)
class SubmitResult:
    status: str  # "accepted" | "invalid" | "unavailable"
    errors: tuple[dict[str, str | None], ...] = ()
    message: str | None = None


class GateForms:
    def __init__(self, settings: Settings, engine: Engine, *, clock: Callable[[], float] = time.monotonic,
                 **client_options: Any):
        config = dataclasses.replace(settings.hubspot, read_timeout_s=min(settings.hubspot.read_timeout_s,
                                                                          VIEWER_TIMEOUT_S),
                                     connect_timeout_s=min(settings.hubspot.connect_timeout_s, VIEWER_TIMEOUT_S),
                                     max_retries=0)
        limiter = RateLimiter(config.rate_limit, config.rate_interval_s)
        self.portals = PortalClients(config, engine, stable_secret_key=settings.stable_secret_key, limiter=limiter,
                                     **client_options)
        # The submission API takes no credentials: a client holding none of the portal's.
        self._submitter = HubSpotClient(
            dataclasses.replace(config, api_base=settings.hubspot_forms_api_base, access_token=None,
                                refresh_token=None, developer_api_key=None, developer_access_token=None),
            **client_options)
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[int | None, str], tuple[float, GateForm | None]] = {}

    def unavailable_reason(self, portal_id: int | None) -> str | None:
        """Why this portal's players get no gates, or None when they may."""
        if portal_id is not None:
            record = self.portals.store.get(portal_id)
            if record is not None and record.granted_scopes is not None \
                    and FORMS_SCOPE not in record.granted_scopes:
                return forms_reason(record.granted_scopes)
        if not self.portals.serves(portal_id):
            return self.portals.missing_reason(portal_id)
        return None

    def form(self, portal_id: int | None, form_id: str) -> GateForm | None:
        """The form to draw, None when the portal cannot show it (no scope or token, no such
        form, a form the player cannot draw, HubSpot unreachable): the player then plays
        without a gate."""
        key = (portal_id, form_id)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
        if cached and cached[0] > now:
            return cached[1]
        found = self._read(portal_id, form_id)
        with self._lock:
            self._cache[key] = (now + (FORM_TTL_S if found else MISSING_FORM_TTL_S), found)
        return found

    def _read(self, portal_id: int | None, form_id: str) -> GateForm | None:
        if self.unavailable_reason(portal_id) is not None:
            return None
        client = self.portals.client_for(portal_id)
        if client is None:
            return None
        try:
            definition = forms_api.read_form(client, form_id)
        except (HubSpotError, HubSpotConfigError) as exc:
            log.warning("gate form %s of portal %s not read: %s", form_id, portal_id, exc)
            return None
        if definition is None:
            log.warning("gate form %s does not exist in portal %s", form_id, portal_id)
            return None
        try:
            return gate_form(definition)
        except FormNotDrawable as exc:
            log.warning("gate form %s of portal %s cannot be a gate: %s", form_id, portal_id, exc)
            return None

    def submit(self, portal_id: int | None, form: GateForm, values: Mapping[str, Any], consent: Mapping[str, Any],
               *, hutk: str | None, page_uri: str | None, page_name: str | None) -> SubmitResult:
        target = portal_id if portal_id is not None else self.portals.configured_portal
        if target is None:
            return SubmitResult("unavailable")
        body, problems = submission_body(form, values, consent, hutk=hutk, page_uri=page_uri, page_name=page_name,
                                         submitted_at_ms=int(time.time() * 1000))
        if body is None:
            return SubmitResult("invalid", tuple({"field": p.field, "errorType": p.error_type, "message": p.message}
                                                 for p in problems))
        try:
            outcome = forms_api.submit(self._submitter, target, form.form_id, body,
                                       tuple(f.name for f in form.fields))
        except HubSpotError as exc:
            # Status and category only: HubSpot's message may quote what was typed.
            log.warning("gate form %s of portal %s: submission failed (HubSpot %s %s)", form.form_id, target,
                        exc.status, exc.category)
            return SubmitResult("unavailable")
        if not outcome.accepted:
            return SubmitResult("invalid", tuple({"field": e.field, "errorType": e.error_type,
                                                  "message": viewer_message(e.error_type)} for e in outcome.errors))
        return SubmitResult("accepted", message=outcome.inline_message)


def forms_reason(granted: tuple[str, ...] | None) -> str | None:
    """The one line ``portals show`` prints about lead capture."""
    if granted is None:
        return "unknown: installed before granted scopes were recorded; install again to find out"
    if FORMS_SCOPE in granted:
        return None
    return "off: the portal did not grant the optional 'forms' scope, so its players show no gates"


# HubSpot's messages quote the field's internal name and sometimes the value; the viewer
# gets a sentence about the field instead.
_VIEWER_MESSAGES = {
    "INVALID_EMAIL": "Enter a valid email address.",
    "BLOCKED_EMAIL": "This email address is not accepted; use another one.",
    "REQUIRED_FIELD": "This field is required.",
    "INVALID_NUMBER": "Enter a number.",
    "NUMBER_OUT_OF_RANGE": "This number is out of range.",
    "INPUT_TOO_LARGE": "This value is too long.",
    "VALUE_NOT_IN_FIELD_DEFINITION": "Choose one of the options.",
    "FIELD_NOT_IN_FORM_DEFINITION": "This field is not on the form.",
    "MISSING_PROCESSING_CONSENT": "Your consent is needed to submit this form.",
}


def viewer_message(error_type: str) -> str:
    return _VIEWER_MESSAGES.get(error_type, "This value was not accepted.")
