"""/webhooks-journal (2026-03): journal subscriptions and batches of journal files, for an
app's client-credentials token (app.py checks it); /appinstalls/2026-03/external-install:
the app uninstalling itself from the portal whose token calls it; and the journal files'
pre-signed URLs (S3's part, outside HubSpot's API: never logged or rate limited)."""
from __future__ import annotations

import time

from flask import Blueprint, Response, g, jsonify, request

from tests.hubspot_emulator.journal import ACTIONS, APP_UNINSTALL_EVENT, iso
from tests.hubspot_emulator.responses import ApiError, json_body, require, state

blueprint = Blueprint("journal", __name__)
PREFIX = "/webhooks-journal/subscriptions/2026-03"
JOURNAL = "/webhooks-journal/journal/2026-03"
MAX_COUNT = 100


@blueprint.get(PREFIX)
def list_subscriptions():
    return jsonify({"results": list(state().journal.subscriptions.values())})


@blueprint.post(PREFIX)
def create_subscription():
    body = json_body()
    # spec_check has held the body to the spec's upsert schemas; the emulator journals only app lifecycle events.
    require(body.get("subscriptionType") == "APP_LIFECYCLE_EVENT",
            "The emulator journals APP_LIFECYCLE_EVENT subscriptions only")
    require(body.get("eventTypeId") in ACTIONS,
            f"eventTypeId must be one of {', '.join(sorted(ACTIONS))} (app install, app uninstall)")
    subscription, _ = state().journal.subscribe(body)
    return jsonify(subscription)


@blueprint.delete(f"{PREFIX}/<int:subscription_id>")
def delete_subscription(subscription_id: int):
    if not state().journal.unsubscribe(subscription_id):
        raise ApiError(404, f"No subscription {subscription_id}", "OBJECT_NOT_FOUND")
    return "", 204


def _batch(after: str | None, count: int):
    require(1 <= count <= MAX_COUNT, f"count must be between 1 and {MAX_COUNT}")
    started = iso(time.time())
    results = state().journal.batch(after, count, request.host_url.rstrip("/"))
    if results is None:
        raise ApiError(404, f"No journal entry at offset {after}", "OBJECT_NOT_FOUND")
    return jsonify({"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": iso(time.time())})


@blueprint.get(f"{JOURNAL}/batch/earliest/<int:count>")
def earliest_batch(count: int):
    return _batch(None, count)


@blueprint.get(f"{JOURNAL}/batch/<offset>/next/<int:count>")
def next_batch(offset: str, count: int):
    return _batch(offset, count)


@blueprint.get("/_emulator/journal-files/<offset>")
def journal_file(offset: str):
    found = state().journal.read_file(offset, request.args.get("X-Amz-Expires", ""),
                                      request.args.get("X-Amz-Signature", ""))
    if isinstance(found, str):
        code = found.split(":")[0]
        body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{found}</Message></Error>'
        return Response(body, 404 if code == "NoSuchKey" else 403, mimetype="application/xml")
    return Response(found, 200, mimetype="application/json")


@blueprint.delete("/appinstalls/2026-03/external-install")
def external_uninstall():
    """The app removes itself from the calling token's portal: the portal's tokens stop
    working, its admins are told (not emulated), and the journal records the uninstall."""
    state().uninstall(g.token_info.hub_id)
    return "", 204


@blueprint.get("/_emulator/journal")
def show_journal():
    s = state()
    return jsonify({"subscriptions": list(s.journal.subscriptions.values()),
                    "files": [{"offset": f.offset, "bytes": len(f.body)} for f in s.journal.files],
                    "uninstallSubscribed": s.journal.subscribed(APP_UNINSTALL_EVENT) is not None})
