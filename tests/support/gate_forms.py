"""Lead capture gates in tests: a HubSpot form with every field type a gate draws, put in
an emulated portal, and an app wired to that emulator (forms API and submissions)."""
from __future__ import annotations

from oembed_server import create_app
from oembed_server.domain.lead_gates import Gate
from oembed_server.domain.media import MediaItem, MediaType
from tests.hubspot_emulator.routes_forms import explicit_consent, form_definition, form_field
from tests.hubspot_emulator.state import ALL_SCOPES
from tests.hubspot_emulator.testing import FAST_CLIENT
from tests.support.environment import PUBLIC_URL, SECRET_KEY

FORM_ID = "78c2891f-ebdd-44c0-bd94-15c012bbbfbf"
CONSENT_FORM_ID = "0f2b6c1e-5a7d-4c3b-9e8f-1a2b3c4d5e6f"
OTHER_FORM_ID = "11111111-2222-4333-8444-555555555555"
FORMS_SCOPES = ALL_SCOPES
# A token of a portal that did not grant the optional forms scope.
WITHOUT_FORMS_SCOPES = ALL_SCOPES - {"forms"}
# A visitor token as HubSpot's tracking code makes them: 32 hex digits.
UTK = "0123456789abcdef0123456789abcdef"


def every_field_type() -> list[dict]:
    return [
        form_field("email", "email", "Email", required=True),
        form_field("firstname", "single_line_text", "First name"),
        form_field("phone", "phone", "Phone number"),
        form_field("numemployees", "number", "Employees"),
        form_field("newsletter", "single_checkbox", "Send me the newsletter"),
        form_field("interests", "multiple_checkboxes", "Interests", options=[("video", "Video"), ("audio", "Audio")]),
        form_field("industry", "dropdown", "Industry", options=[("media", "Media"), ("retail", "Retail")]),
        form_field("size", "radio", "Company size", options=[("small", "Small"), ("large", "Large")]),
        form_field("message", "multi_line_text", "Message"),
    ]


def add_forms(state, hub_id: int | None = None) -> None:
    data = state.data(hub_id)
    data.forms[FORM_ID] = form_definition(FORM_ID, "Video gate", every_field_type(), submit_text="Watch now")
    data.forms[CONSENT_FORM_ID] = form_definition(
        CONSENT_FORM_ID, "Consent gate", [form_field("email", "email", "Email", required=True)],
        consent=explicit_consent("We store your data to send you what you asked for.",
                                 [(999, "Marketing email", False)]))


def gated_item(external_id: str = "gated", at: str | float = "before", skippable: bool = False,
               form_id: str = FORM_ID, **fields) -> MediaItem:
    return MediaItem(external_id=external_id, media_type=MediaType.VIDEO, title=f"Gated {external_id}",
                     file_url=f"{PUBLIC_URL}/static/sample/video.webm", duration_ms=8003,
                     gate=Gate(form_id, at, skippable, "Before you watch", "Tell us who you are."), **fields)


def gated_app(database_url: str, emulator, public_url: str = PUBLIC_URL, **overrides):
    """An app whose HubSpot (API and form submissions) is the emulator."""
    return create_app({"OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": public_url,
                       "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_URL_SCHEMES": "", "TESTING": True}
                      | emulator.env() | FAST_CLIENT | {"HUBSPOT_FORMS_API_BASE": emulator.url} | overrides)
