"""/media-bridge/{v1|2026-03}/{appId}: object definitions, schemas, properties and oEmbed domains
(all behind developer account credentials, checked in app._authenticate_developer), answered
in the spec's shapes (shapes.py)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Blueprint, jsonify, request

from tests.hubspot_emulator import shapes
from tests.hubspot_emulator.responses import ApiError, json_body, now_iso, require, state
from tests.hubspot_emulator.state import MEDIA_TYPES, required_properties

blueprint = Blueprint("settings", __name__, url_prefix="/media-bridge/v1/<int:app_id>")

PROPERTY_TYPES = {"string", "number", "date", "datetime", "enumeration", "bool"}
FIELD_TYPES = {"text", "textarea", "number", "date", "select", "radio", "checkbox", "booleancheckbox", "file",
               "html", "phonenumber", "calculation_equation"}
PROPERTY_KEYS = {"name", "label", "type", "fieldType", "groupName", "description", "options", "hasUniqueValue",
                 "hidden", "displayOrder", "formField"}
SCHEMA_KEYS = {"labels", "primaryDisplayProperty", "secondaryDisplayProperties", "requiredProperties",
               "searchableProperties", "description", "clearDescription", "allowsSensitiveProperties", "restorable"}
PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


@blueprint.post("/settings/object-definitions")
def create_object_definitions(app_id: int):
    body = json_body()
    media_types = body.get("mediaTypes")
    require(isinstance(media_types, list) and media_types, "mediaTypes is required: a non-empty list")
    bad = [t for t in media_types if t not in MEDIA_TYPES]
    require(not bad, f"Invalid mediaTypes {bad}: must be among {', '.join(MEDIA_TYPES)}")
    s = state()
    with s.lock:
        existing = [t for t in media_types if t in s.definitions]
        require(not existing, f"Object definitions already exist for {', '.join(existing)}", 409, "CONFLICT")
        s.define_media_types(*media_types)
        created = {t: shapes.created_object(s.definitions[t], s.properties[s.definitions[t]["objectTypeName"]],
                                            required_properties(t), app_id, s.portal_id) for t in media_types}
    return jsonify({"createdObjects": created}), 200


@blueprint.get("/settings/object-definitions/<media_type>")
def get_object_definition(app_id: int, media_type: str):
    s = state()
    require(media_type in MEDIA_TYPES, f"Invalid media type {media_type!r}: must be among {', '.join(MEDIA_TYPES)}")
    definition = s.definitions.get(media_type)
    require(definition is not None, f"No object definition for {media_type} in app {app_id}", 404,
            "OBJECT_NOT_FOUND")
    return jsonify(shapes.object_definition(definition, s.properties[definition["objectTypeName"]], app_id,
                                            s.portal_id))


def _object_type(name: str) -> str:
    found = state().object_type_for(name)
    require(found is not None, f"Unknown object type {name!r}", 404, "OBJECT_NOT_FOUND")
    return found[0]


@blueprint.patch("/schemas/<object_type>")
def patch_schema(app_id: int, object_type: str):
    name = _object_type(object_type)
    body = json_body()
    unknown = set(body) - SCHEMA_KEYS
    require(not unknown, f"Unrecognized fields: {', '.join(sorted(unknown))}")
    s = state()
    known = {p["name"] for p in s.properties[name]}
    named = [body["primaryDisplayProperty"]] if "primaryDisplayProperty" in body else []
    for key in ("secondaryDisplayProperties", "requiredProperties", "searchableProperties"):
        value = body.get(key, [])
        require(isinstance(value, list), f"{key} must be a list of property names")
        named += value
    missing = [n for n in named if n not in known]
    require(not missing, f"Properties do not exist on {name}: {', '.join(missing)}")
    with s.lock:
        s.schemas.setdefault(name, {}).update(body)
    media_type = s.object_type_for(name)[1]
    return jsonify(shapes.schema(s.definitions[media_type], s.schemas[name], required_properties(media_type),
                                 s.portal_id))


@blueprint.get("/properties/<object_type>")
def list_properties(app_id: int, object_type: str):
    return jsonify({"results": [shapes.property_summary(p) for p in state().properties[_object_type(object_type)]]})


def _check_property(body: dict, partial: bool) -> None:
    unknown = set(body) - PROPERTY_KEYS
    require(not unknown, f"Unrecognized fields: {', '.join(sorted(unknown))}")
    if not partial:
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
        require(not missing, f"Missing required fields: {', '.join(missing)}")
        require(isinstance(body["name"], str) and PROPERTY_NAME.match(body["name"]) is not None,
                f"Invalid property name {body['name']!r}: lower-case letters, digits and _ , starting with a letter")
    if "type" in body:
        require(body["type"] in PROPERTY_TYPES, f"Invalid type {body['type']!r}: one of {sorted(PROPERTY_TYPES)}")
    if "fieldType" in body:
        require(body["fieldType"] in FIELD_TYPES, f"Invalid fieldType {body['fieldType']!r}")
    if body.get("type") == "enumeration":
        require(isinstance(body.get("options"), list) and body["options"], "enumeration properties need options")


@blueprint.post("/properties/<object_type>")
def create_property(app_id: int, object_type: str):
    name = _object_type(object_type)
    body = json_body()
    _check_property(body, partial=False)
    s = state()
    with s.lock:
        require(all(p["name"] != body["name"] for p in s.properties[name]),
                f"A property named {body['name']!r} already exists on {name}", 409, "CONFLICT")
        # The CRM routes read modificationMetadata on every write, as HubSpot lists it for each property.
        created = {"hasUniqueValue": False, "hidden": False, "description": "",
                   "modificationMetadata": {"readOnlyValue": False}} | body
        s.properties[name].append(created)
    return jsonify(shapes.full_property(created, app_id, s.portal_id)), 201


@blueprint.route("/properties/<object_type>/<prop>", methods=["PATCH", "DELETE"])
def edit_property(app_id: int, object_type: str, prop: str):
    name = _object_type(object_type)
    s = state()
    with s.lock:
        found = next((p for p in s.properties[name] if p["name"] == prop), None)
        require(found is not None, f"Property {prop!r} does not exist on {name}", 404, "OBJECT_NOT_FOUND")
        if request.method == "DELETE":
            require(not prop.startswith("hs_"), f"HubSpot-defined property {prop!r} cannot be deleted")
            s.properties[name].remove(found)
            return "", 204
        body = json_body()
        require("name" not in body or body["name"] == prop, "A property cannot be renamed")
        _check_property(body, partial=True)
        found.update(body)
    return jsonify(shapes.full_property(found, app_id, s.portal_id))


# --- oEmbed domains ------------------------------------------------------------------------
def _check_url(value, what: str) -> None:
    require(isinstance(value, str), f"{what} must be a string URL")
    parts = urlsplit(value.replace("*", "x"))
    require(parts.scheme in ("http", "https") and bool(parts.hostname), f"{what} must be an http(s) URL, got {value!r}")


def _check_endpoints(endpoints, partial: bool = False) -> dict:
    require(isinstance(endpoints, dict), "endpoints is required: an object with schemes, url and discovery")
    unknown = set(endpoints) - {"schemes", "url", "discovery"}
    require(not unknown, f"Unrecognized fields in endpoints: {', '.join(sorted(unknown))}")
    if not partial or "schemes" in endpoints:
        schemes = endpoints.get("schemes")
        require(isinstance(schemes, list) and schemes, "endpoints.schemes is required: a non-empty list")
        for scheme in schemes:
            _check_url(scheme, "each endpoints.schemes entry")
    if not partial or "url" in endpoints:
        _check_url(endpoints.get("url"), "endpoints.url")
    if "discovery" in endpoints:
        require(isinstance(endpoints["discovery"], bool), "endpoints.discovery must be true or false")
    return endpoints


def _portal_id(value, what: str) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"{what} must be a portal id (a number), got {value!r}") from None
    require(number > 0 and not isinstance(value, bool), f"{what} must be a positive portal id")
    return number


@blueprint.post("/settings/oembed-domains")
def create_domain(app_id: int):
    body = json_body()
    unknown = set(body) - {"endpoints", "portalId"}
    require(not unknown, f"Unrecognized fields: {', '.join(sorted(unknown))}")
    endpoints = _check_endpoints(body.get("endpoints"))
    s = state()
    with s.lock:
        domain_id = s.next_id()
        stamp = shapes.millis()
        domain = {"id": domain_id, "appId": app_id, "portalId": _portal_id(body.get("portalId"), "portalId"),
                  "createdAt": stamp, "updatedAt": stamp,
                  "endpoints": {"discovery": False} | endpoints}
        s.oembed_domains[domain_id] = domain
    return jsonify(shapes.oembed_domain(domain))


@blueprint.get("/settings/oembed-domains")
def list_domains(app_id: int):
    portal = _portal_id(request.args.get("domainPortalId"), "domainPortalId")
    results = [d for d in state().oembed_domains.values() if portal is None or d["portalId"] == portal]
    return jsonify({"results": [shapes.oembed_domain(d) for d in results]})


@blueprint.delete("/settings/oembed-domains")
def delete_domain(app_id: int):
    domain_id = request.args.get("id")
    require(bool(domain_id), "the id query parameter is required")
    portal = _portal_id(request.args.get("domainPortalId"), "domainPortalId")
    s = state()
    with s.lock:
        domain = s.oembed_domains.get(domain_id)
        require(domain is not None and (portal is None or domain["portalId"] == portal),
                f"No oEmbed domain {domain_id}" + (f" for portal {portal}" if portal else ""), 404, "OBJECT_NOT_FOUND")
        del s.oembed_domains[domain_id]
    return "", 204


@blueprint.route("/settings/oembed-domains/<domain_id>", methods=["GET", "PATCH"])
def one_domain(app_id: int, domain_id: str):
    s = state()
    with s.lock:
        domain = s.oembed_domains.get(domain_id)
        require(domain is not None, f"No oEmbed domain {domain_id}", 404, "OBJECT_NOT_FOUND")
        if request.method == "PATCH":
            body = json_body()
            unknown = set(body) - {"endpoints"}
            require(not unknown, f"Unrecognized fields: {', '.join(sorted(unknown))}")
            domain["endpoints"].update(_check_endpoints(body.get("endpoints"), partial=True))
            domain["updatedAt"] = shapes.millis()
    return jsonify(shapes.oembed_domain(domain))


EVENT_TYPES = ("ALL", "ATTENTION_SPAN", "MEDIA_PLAYS", "MEDIA_PLAYS_PERCENT")
VISIBILITY_FLAGS = ("showInTimeline", "showInReporting", "showInWorkflows")


@blueprint.get("/settings/event-visibility")
def get_event_visibility(app_id: int):
    s = state()
    with s.lock:
        settings = [dict(v) for v in s.event_visibility.values()]
    return jsonify({"createdAt": now_iso(), "visibilitySettings": settings})  # the spec's date-time


@blueprint.patch("/settings/event-visibility")
def update_event_visibility(app_id: int):
    body = json_body()
    require(body.get("eventType") in EVENT_TYPES, f"eventType is required: one of {', '.join(EVENT_TYPES)}")
    require(isinstance(body.get("updatedAt"), int) and not isinstance(body["updatedAt"], bool),
            "updatedAt is required: epoch milliseconds")
    unknown = set(body) - {"eventType", "updatedAt", *VISIBILITY_FLAGS}
    require(not unknown, f"Unknown fields: {sorted(unknown)}")
    require(all(isinstance(body[f], bool) for f in VISIBILITY_FLAGS if f in body), "show* flags must be booleans")
    s = state()
    with s.lock:
        s.event_visibility[body["eventType"]] = dict(body)
    return jsonify(body)
