"""/media-bridge/v1|v2/events: both check the body's shape as HubSpot's request schemas do
(required fields per kind, enums, types, derivedValues with both totals). v1 then resolves
the media and contact synchronously and answers the stored event; v2 answers 202 at once
and processes later, as HubSpot does: what it could not resolve is kept, marked rejected,
never answered as an error. Stored per portal (the token's hub); ``events_log`` reads back."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from tests.hubspot_emulator import shapes
from tests.hubspot_emulator.responses import ApiError, json_body, portal_data, require, state
from tests.hubspot_emulator.state import MEDIA_TYPES
from tests.hubspot_emulator.webhooks import contact_id_for_utk

blueprint = Blueprint("events", __name__)

COMMON_OPTIONAL = {"contactId", "contactUtk", "mediaBridgeId", "externalId", "mediaName", "mediaUrl", "pageId",
                   "pageName", "pageUrl", "externalPlayContext", "_hsenc"}
REQUIRED = {
    "media-played": {"mediaType", "occurredTimestamp", "sessionId", "state"},
    "media-played-percent": {"mediaType", "occurredTimestamp", "sessionId", "playedPercent"},
    "attention-span": {"mediaType", "occurredTimestamp", "sessionId", "rawDataMap"},
}
OPTIONAL = {
    "media-played": COMMON_OPTIONAL | {"iframeUrl"},
    "media-played-percent": COMMON_OPTIONAL,
    "attention-span": COMMON_OPTIONAL | {"rawDataString", "derivedValues"},
}
STATES = ("STARTED", "VIEWED")
PERCENTS = (0, 25, 50, 75, 100)
PLAY_CONTEXTS = ("EMAIL", "EXTERNAL_PAGE")
STRING_FIELDS = ("sessionId", "contactUtk", "externalId", "mediaName", "mediaUrl", "pageName", "pageUrl",
                 "iframeUrl", "_hsenc", "rawDataString")
INT32_MAX = 2 ** 31 - 1


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_shape(kind: str, event: dict) -> None:
    unknown = set(event) - REQUIRED[kind] - OPTIONAL[kind]
    # HubSpot's JSON binding refuses fields it does not know, e.g. the guide's older
    # mediaBridgeObjectId or a top-level totalPercentPlayed.
    require(not unknown, f"Unrecognized field(s) {sorted(unknown)} for {kind}")
    missing = sorted(f for f in REQUIRED[kind] if event.get(f) in (None, ""))
    require(not missing, f"Missing required field(s) {missing} for {kind}")
    require(event["mediaType"] in MEDIA_TYPES, f"mediaType must be one of {list(MEDIA_TYPES)}")
    require(_is_int(event["occurredTimestamp"]) and event["occurredTimestamp"] > 0,
            "occurredTimestamp must be a positive whole number of milliseconds since the epoch")
    for key in STRING_FIELDS:
        if key in event:
            require(isinstance(event[key], str), f"{key} must be a string")
    if kind == "media-played":
        require(event["state"] in STATES, f"state must be one of {list(STATES)}")
    if kind == "media-played-percent":
        require(event["playedPercent"] in PERCENTS and _is_int(event["playedPercent"]),
                f"playedPercent must be one of {list(PERCENTS)}")
    if "externalPlayContext" in event:
        require(event["externalPlayContext"] in PLAY_CONTEXTS,
                f"externalPlayContext must be one of {list(PLAY_CONTEXTS)}")
    if kind == "attention-span":
        raw = event["rawDataMap"]
        require(isinstance(raw, dict) and raw, "rawDataMap must be a non-empty object of span index to play count")
        for key, count in raw.items():
            require(str(key).isdigit() and _is_int(count) and 0 <= count <= INT32_MAX,
                    f"rawDataMap entry {key!r}: {count!r} must map a span index to a play count")
        derived = event.get("derivedValues")
        if derived is not None:
            require(isinstance(derived, dict), "derivedValues must be an object")
            unknown = set(derived) - {"totalPercentPlayed", "totalSecondsPlayed"}
            require(not unknown, f"Unrecognized field(s) {sorted(unknown)} in derivedValues")
            # AttentionSpanCalculatedValues requires both totals together.
            missing = sorted({"totalPercentPlayed", "totalSecondsPlayed"} - set(derived))
            require(not missing, f"derivedValues needs both totals; missing {missing}")
            percent, seconds = derived["totalPercentPlayed"], derived["totalSecondsPlayed"]
            require(isinstance(percent, (int, float)) and not isinstance(percent, bool) and percent >= 0,
                    "derivedValues.totalPercentPlayed must be a non-negative number")
            require(_is_int(seconds) and 0 <= seconds <= INT32_MAX,
                    "derivedValues.totalSecondsPlayed must be a non-negative whole number (int32)")
    for key in ("contactId", "mediaBridgeId", "pageId"):
        if key in event:
            require(_is_int(event[key]) or (isinstance(event[key], str) and event[key].isdigit()),
                    f"{key} must be a numeric id")
    if ("pageName" in event) != ("pageUrl" in event):
        raise ApiError(400, "pages outside HubSpot need both pageName and pageUrl")


def _resolve(kind: str, event: dict, synchronous: bool) -> dict:
    """The checks against the portal: the media must exist and, for v1, the session must have
    had its played event (HubSpot shows nothing for a session without one; v2 processes
    asynchronously, so a session's events may come in any order and ``events_log.timeline``
    applies the rule when read). The emulator keeps no contacts: it needs a contactId or
    contactUtk and takes either as an existing one."""
    require("contactId" in event or "contactUtk" in event, "contactId or contactUtk is required")
    if synchronous and kind != "media-played":
        require(any(e["kind"] == "media-played" and e["event"]["sessionId"] == event["sessionId"]
                    for e in state().events),
                f"session {event['sessionId']!r} has no media-played event: send one before {kind}")
    require("pageId" in event or "pageName" in event,
            "a page is required: pageId for a HubSpot page, pageName and pageUrl for any other")
    resolved = {}
    if kind != "attention-span" or "mediaBridgeId" in event or "externalId" in event:
        require("mediaBridgeId" in event or "externalId" in event, "mediaBridgeId or externalId is required")
        s = state()
        definition = s.definitions.get(event["mediaType"])
        require(definition is not None, f"The app has no {event['mediaType']} object definition")
        # The sending portal's objects; then, as a leniency single-portal tests rely on, the
        # default portal's (events for another portal id naming the configured portal's objects).
        obj = None
        for data in (portal_data(), s.data()):
            objects = data.objects.get(definition["objectTypeName"], {})
            if "mediaBridgeId" in event:  # mediaBridgeId wins over externalId
                obj = objects.get(str(event["mediaBridgeId"]))
            else:
                object_id = data.unique_index.get(definition["objectTypeName"], {}).get(
                    ("hs_external_id", str(event["externalId"])))
                obj = objects.get(object_id) if object_id else None
            if obj is not None and not obj.archived:
                break
        wanted = (f"mediaBridgeId {event['mediaBridgeId']}" if "mediaBridgeId" in event
                  else f"externalId {event['externalId']!r}")
        require(obj is not None and not obj.archived, f"No {event['mediaType']} media object matches {wanted}")
        resolved["mediaBridgeId"] = int(obj.id)
    if kind == "attention-span" and "derivedValues" not in event:
        spans = event["rawDataMap"]
        played = sum(1 for c in spans.values() if c)
        resolved["derivedValues"] = {"totalPercentPlayed": round(100 * played / len(spans), 2)}
    return resolved


def _record(version: int, kind: str):
    event = json_body()
    _check_shape(kind, event)
    s = state()
    if version == 1:
        resolved, problem = _resolve(kind, event, synchronous=True), None
    else:
        try:  # "processed asynchronously": a failure here is HubSpot's to log, not the caller's answer
            resolved, problem = _resolve(kind, event, synchronous=False), None
        except ApiError as error:
            resolved, problem = {}, error.message
    with s.lock:
        stored = {"id": s.next_id(), "eventType": kind, "portalId": g.token_info.hub_id} | event | resolved
        s.events.append({"version": version, "kind": kind, "event": stored, "rejected": problem})
    if version == 1:
        return jsonify(_answer(kind, stored)), 200
    return "", 202


@blueprint.post("/media-bridge/v<int:version>/events/<kind>")
def event(version: int, kind: str):
    require(version in (1, 2), f"No media events API v{version}", 404, "OBJECT_NOT_FOUND")
    require(kind in REQUIRED, f"Unknown media event {kind!r}", 404, "OBJECT_NOT_FOUND")
    return _record(version, kind)


def _answer(kind: str, stored: dict) -> dict:
    """The stored event as the spec's answer shows it: resolved contact and media ids."""
    s = state()
    definition = s.definitions[stored["mediaType"]]
    name, object_id = definition["objectTypeName"], str(stored.get("mediaBridgeId"))
    obj = next((o for data in (portal_data(), s.data()) if (o := data.objects.get(name, {}).get(object_id))), None)
    media = {"id": int(obj.id) if obj else 0, "typeId": definition["objectTypeId"],
             "title": obj.properties.get("hs_title", "") if obj else ""}
    # A utk a form submission tied to a contact is that contact (routes_forms).
    contact = (stored.get("contactId") or s.data(g.token_info.hub_id).utk_contacts.get(stored["contactUtk"])
               or contact_id_for_utk(stored["contactUtk"]))
    return shapes.event(kind, stored, media, int(contact), g.token_info.hub_id, s.app_id)
