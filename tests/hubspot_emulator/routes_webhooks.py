"""/_emulator control routes for app webhooks (not HubSpot's API; never logged or rate
limited): declare the project's webhooks component, fire a contact's privacy deletion,
read back the delivery attempts."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from tests.hubspot_emulator.responses import ApiError, json_body, state
from tests.hubspot_emulator.webhooks import contact_id_for_utk

blueprint = Blueprint("webhooks_control", __name__, url_prefix="/_emulator")


@blueprint.put("/webhooks")
def configure_webhooks():
    """Body: the project's webhooks-hsmeta.json, as `hs project upload` would send it."""
    try:
        state().webhooks.configure(json_body())
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return jsonify(state().webhooks.config)


@blueprint.post("/portals/<int:hub_id>/contacts/<int:contact_id>/privacy-deletion")
def privacy_deletion(hub_id: int, contact_id: int):
    """A GDPR deletion of the contact: sends contact.privacyDeletion and contact.deletion
    (``?order=deletion-first`` swaps them)."""
    s = state()
    if hub_id not in s.test_portals:
        raise ApiError(404, f"No account {hub_id}.", "OBJECT_NOT_FOUND")
    # Without an uploaded webhooks component nothing is subscribed, and nothing is sent.
    ids = s.webhooks.privacy_deletion(hub_id, contact_id, deletion_first=request.args.get("order") == "deletion-first")
    return jsonify({"notifications": ids}), 202


@blueprint.get("/contacts/by-utk/<utk>")
def contact_by_utk(utk: str):
    return jsonify({"utk": utk, "contactId": contact_id_for_utk(utk)})


@blueprint.get("/webhooks/deliveries")
def deliveries():
    return jsonify(state().webhooks.summary())
