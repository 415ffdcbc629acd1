"""/crm/v3/objects/{objectType}: single create, batch read/create/update/upsert/archive,
list and search, with HubSpot's property validation and unique-value rules."""
from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, jsonify, request

from oembed_server.domain.media import is_absolute_http_url
from tests.hubspot_emulator.responses import ApiError, json_body, now_iso, portal_data, require, state
from tests.hubspot_emulator.state import MediaObject, required_properties

blueprint = Blueprint("crm", __name__, url_prefix="/crm/v3/objects/<object_type>")

BATCH_LIMIT = 100
SEARCH_LIMIT = 200
SEARCH_MAX_RESULTS = 10_000
LIST_LIMIT = 100
OPERATORS = {"EQ", "NEQ", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY"}
DEFAULT_PROPERTIES = ("hs_object_id", "hs_createdate", "hs_lastmodifieddate")


class _Type:
    def __init__(self, name_or_id: str):
        found = state().object_type_for(name_or_id)
        require(found is not None, f"Unable to infer object type from: {name_or_id}", 400, "VALIDATION_ERROR")
        self.name, self.media_type = found
        self.props = {p["name"]: p for p in state().properties[self.name]}
        data = portal_data()
        with state().lock:
            self.objects: dict[str, MediaObject] = data.objects.setdefault(self.name, {})
            # (property, value) -> object id for unique-value properties of live objects.
            self.index: dict[tuple[str, str], str] = data.unique_index.setdefault(self.name, {})

    def unique_props(self) -> set[str]:
        return {n for n, p in self.props.items() if p.get("hasUniqueValue")}

    def find_by(self, prop: str, value: str) -> MediaObject | None:
        object_id = self.index.get((prop, value))
        return self.live(object_id) if object_id else None

    def reindex(self, obj: MediaObject, before: dict[str, str]) -> None:
        for prop in self.unique_props():
            if before.get(prop) and self.index.get((prop, before[prop])) == obj.id:
                del self.index[(prop, before[prop])]
            if not obj.archived and obj.properties.get(prop):
                self.index[(prop, obj.properties[prop])] = obj.id

    def live(self, object_id: str) -> MediaObject | None:
        obj = self.objects.get(object_id)
        return obj if obj is not None and not obj.archived else None


def _inputs(body: dict) -> list:
    inputs = body.get("inputs")
    require(isinstance(inputs, list), "inputs is required: a list")
    require(len(inputs) <= BATCH_LIMIT, f"Batch input limit exceeded: at most {BATCH_LIMIT} inputs, got {len(inputs)}")
    require(all(isinstance(i, dict) for i in inputs), "each input must be an object")
    return inputs


def _check_properties(t: _Type, properties, creating: bool) -> dict[str, str]:
    require(isinstance(properties, dict), "properties must be an object")
    problems = []
    cleaned: dict[str, str] = {}
    for name, value in properties.items():
        prop = t.props.get(name)
        if prop is None:
            problems.append({"isValid": False, "message": f'Property "{name}" does not exist',
                             "error": "PROPERTY_DOESNT_EXIST", "name": name})
            continue
        if prop["modificationMetadata"]["readOnlyValue"]:
            problems.append({"isValid": False, "message": f'Property "{name}" is read-only',
                             "error": "READ_ONLY_VALUE", "name": name})
            continue
        if value is not None and not isinstance(value, (str, int, float, bool)):
            problems.append({"isValid": False, "message": f"{value!r} is not a valid value for {name}",
                             "error": "INVALID_VALUE", "name": name})
            continue
        text = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
        problem = _value_problem(prop, text) if text else None
        if problem:
            problems.append({"isValid": False, "message": problem[1], "error": problem[0], "name": name})
            continue
        cleaned[name] = text
    if creating:
        for name in required_properties(t.media_type):
            if not cleaned.get(name):
                problems.append({"isValid": False, "message": f'Property "{name}" is required',
                                 "error": "REQUIRED_PROPERTY", "name": name})
    if problems:
        raise ApiError(400, f"Property values were not valid: {json.dumps(problems)}", "VALIDATION_ERROR",
                       errors=[{"message": p["message"], "code": p["error"], "context": {"propertyName": [p["name"]]}}
                               for p in problems])
    return cleaned


def _value_problem(prop: dict, text: str) -> tuple[str, str] | None:
    """(HubSpot's error code, message) when ``text`` does not fit the property's type."""
    if prop["name"] == "hs_oembed_url" and not is_absolute_http_url(text):
        # HubSpot fetches it for a video or rich oEmbed answer: it must be an absolute http(s) URL.
        return "INVALID_URL", f"{text!r} is not an absolute http(s) URL for hs_oembed_url"
    if prop["type"] == "number":
        try:
            float(text)
        except ValueError:
            return "INVALID_DOUBLE", f"{text!r} was not a valid number."
    elif prop["type"] == "bool" and text not in ("true", "false"):
        return "INVALID_BOOLEAN", f"{text!r} is not a valid boolean for {prop['name']}: true or false"
    elif prop["type"] == "enumeration":
        allowed = {str(o.get("value")) for o in prop.get("options") or [] if isinstance(o, dict)}
        # Multiple checkboxes hold several options separated by ";".
        unknown = [v for v in text.split(";") if v not in allowed]
        if unknown:
            return "INVALID_OPTION", f"{unknown[0]!r} was not one of the allowed options: {sorted(allowed)}"
    elif prop["type"] in ("date", "datetime") and not (text.isdigit() or _iso_date(text)):
        return "INVALID_DATE", f"{text!r} is not a valid {prop['type']}: epoch milliseconds or ISO 8601"
    return None


def _iso_date(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _check_unique(t: _Type, properties: dict[str, str], own_id: str | None, claimed: dict) -> None:
    for prop in t.unique_props():
        value = properties.get(prop)
        if not value:
            continue
        holder = t.find_by(prop, value)
        other = claimed.get((prop, value))
        if (holder is not None and holder.id != own_id) or (other is not None and other != own_id):
            raise ApiError(409, f"A {t.name} object with {prop}={value!r} already exists", "CONFLICT")
        claimed[(prop, value)] = own_id or f"new:{value}"


def _apply(t: _Type, obj: MediaObject, properties: dict[str, str]) -> bool:
    before = dict(obj.properties)
    changed = False
    for name, value in properties.items():
        if value == "":
            changed |= obj.properties.pop(name, None) is not None
        elif obj.properties.get(name) != value:
            obj.properties[name] = value
            changed = True
    if changed:
        obj.updated_at = now_iso()
        t.reindex(obj, before)
    return changed


def _new_object(t: _Type, properties: dict[str, str]) -> MediaObject:
    stamp = now_iso()
    obj = MediaObject(state().next_id(), t.name, {k: v for k, v in properties.items() if v != ""}, stamp, stamp)
    t.objects[obj.id] = obj
    t.reindex(obj, {})
    return obj


def _render(obj: MediaObject, wanted: list[str] | None = None, **extra) -> dict:
    defaults = {"hs_object_id": obj.id, "hs_createdate": obj.created_at, "hs_lastmodifieddate": obj.updated_at}
    if wanted is None:
        props = dict(obj.properties)
    else:
        # The spec's property values are strings, never null: an unset property is left out.
        props = {name: obj.properties[name] for name in wanted if name in obj.properties}
    return {"id": obj.id, "properties": props | defaults, "createdAt": obj.created_at,
            "updatedAt": obj.updated_at, "archived": obj.archived} | extra


def _batch_answer(results: list[dict], status: int = 200):
    stamp = now_iso()
    return jsonify({"status": "COMPLETE", "results": results, "startedAt": stamp, "completedAt": stamp}), status


def _requested(body_or_list, t: _Type) -> list[str]:
    wanted = body_or_list if isinstance(body_or_list, list) else []
    require(all(isinstance(p, str) for p in wanted), "properties must be a list of property names")
    return wanted


def _id_property(t: _Type, name) -> str | None:
    if name in (None, "", "hs_object_id"):
        return None
    require(name in t.props, f'idProperty "{name}" does not exist on {t.name}')
    require(name in t.unique_props(), f'idProperty "{name}" is not a unique-value property of {t.name}')
    return name


def _no_duplicates(ids: list) -> None:
    duplicates = sorted({str(i) for i in ids if ids.count(i) > 1})
    require(not duplicates, f"Duplicate IDs found in batch input: {duplicates}")


@blueprint.post("")
def create(object_type: str):
    t = _Type(object_type)
    body = json_body()
    with state().lock:
        props = _check_properties(t, body.get("properties"), creating=True)
        _check_unique(t, props, None, {})
        obj = _new_object(t, props)
    return jsonify(_render(obj)), 201


@blueprint.get("")
def list_objects(object_type: str):
    t = _Type(object_type)
    try:
        limit = int(request.args.get("limit", 10))
    except ValueError:
        raise ApiError(400, "limit must be a number") from None
    require(1 <= limit <= LIST_LIMIT, f"limit must be between 1 and {LIST_LIMIT}")
    after = request.args.get("after")
    wanted = [p for p in request.args.get("properties", "").split(",") if p]
    archived = request.args.get("archived", "false") == "true"
    with state().lock:
        objects = sorted((o for o in t.objects.values() if o.archived == archived), key=lambda o: int(o.id))
        if after:
            objects = [o for o in objects if int(o.id) > int(after)]
        page = objects[:limit]
        answer = {"results": [_render(o, wanted) for o in page]}
        if len(objects) > limit:
            answer["paging"] = {"next": {"after": page[-1].id}}
    return jsonify(answer)


@blueprint.post("/batch/read")
def batch_read(object_type: str):
    t = _Type(object_type)
    body = json_body()
    inputs = _inputs(body)
    wanted = _requested(body.get("properties"), t)
    unknown = [p for p in wanted if p not in t.props]
    require(not unknown, f"Properties do not exist on {t.name}: {unknown}")
    id_prop = _id_property(t, body.get("idProperty"))
    found, missing = [], []
    with state().lock:
        for item in inputs:
            require("id" in item, "each input needs an id")
            key = str(item["id"])
            obj = t.find_by(id_prop, key) if id_prop else t.live(key)
            (found.append(_render(obj, wanted)) if obj else missing.append(key))
    if not missing:
        return _batch_answer(found)
    stamp = now_iso()
    return jsonify({"status": "COMPLETE", "results": found, "numErrors": 1, "startedAt": stamp, "completedAt": stamp,
                    "errors": [{"status": "error", "category": "OBJECT_NOT_FOUND",
                                "message": f"Could not get some {t.name} objects, they may be deleted or not exist. "
                                           "Check that ids are valid.", "context": {"ids": missing},
                                "errors": [], "links": {}}]}), 207


@blueprint.post("/batch/create")
def batch_create(object_type: str):
    t = _Type(object_type)
    inputs = _inputs(json_body())
    with state().lock:
        checked = [_check_properties(t, i.get("properties"), creating=True) for i in inputs]
        claimed: dict = {}
        for props in checked:
            _check_unique(t, props, None, claimed)
        results = [_render(_new_object(t, props)) for props in checked]
    return _batch_answer(results, 201)


@blueprint.post("/batch/update")
def batch_update(object_type: str):
    t = _Type(object_type)
    inputs = _inputs(json_body())
    with state().lock:
        id_props = [_id_property(t, i.get("idProperty")) for i in inputs]
        keys = [str(i.get("id", "")) for i in inputs]
        _no_duplicates(keys)
        targets = []
        for key, id_prop in zip(keys, id_props, strict=True):
            obj = t.find_by(id_prop, key) if id_prop else t.live(key)
            require(obj is not None, f"Object {key} of type {t.name} does not exist", 404, "OBJECT_NOT_FOUND")
            targets.append(obj)
        checked = [_check_properties(t, i.get("properties"), creating=False) for i in inputs]
        claimed: dict = {}
        for obj, props in zip(targets, checked, strict=True):
            _check_unique(t, props, obj.id, claimed)
        for obj, props in zip(targets, checked, strict=True):
            _apply(t, obj, props)
        results = [_render(obj) for obj in targets]
    return _batch_answer(results)


@blueprint.post("/batch/upsert")
def batch_upsert(object_type: str):
    t = _Type(object_type)
    inputs = _inputs(json_body())
    with state().lock:
        plans = []
        for item in inputs:
            id_prop = item.get("idProperty")
            require(bool(id_prop), "each upsert input needs an idProperty")
            require(_id_property(t, id_prop) is not None, f"idProperty {id_prop!r} cannot be hs_object_id for upsert")
            require(isinstance(item.get("id"), str) and item["id"], "each upsert input needs a non-empty string id")
            plans.append((id_prop, item["id"]))
        _no_duplicates([f"{p}={v}" for p, v in plans])
        claimed: dict = {}
        staged = []
        for item, (id_prop, key) in zip(inputs, plans, strict=True):
            existing = t.find_by(id_prop, key)
            props = _check_properties(t, (item.get("properties") or {}) | {id_prop: key}, creating=existing is None)
            _check_unique(t, props, existing.id if existing else None, claimed)
            staged.append((existing, props))
        results = []
        for existing, props in staged:
            if existing is None:
                results.append(_render(_new_object(t, props), new=True))
            else:
                _apply(t, existing, props)
                results.append(_render(existing, new=False))
    return _batch_answer(results)


@blueprint.post("/batch/archive")
def batch_archive(object_type: str):
    t = _Type(object_type)
    inputs = _inputs(json_body())
    with state().lock:
        for item in inputs:
            obj = t.live(str(item.get("id", "")))
            if obj is not None:
                obj.archived = True
                obj.updated_at = now_iso()
                # HubSpot frees an archived object's unique values for new objects.
                t.reindex(obj, dict(obj.properties))
    return "", 204


def _matches(obj: MediaObject, f: dict) -> bool:
    value = obj.id if f["propertyName"] == "hs_object_id" else obj.properties.get(f["propertyName"])
    op = f["operator"]
    if op == "EQ":
        return value == str(f["value"])
    if op == "NEQ":
        return value != str(f["value"])
    if op == "IN":
        return value in {str(v) for v in f["values"]}
    if op == "NOT_IN":
        return value not in {str(v) for v in f["values"]}
    if op == "HAS_PROPERTY":
        return value is not None
    return value is None


@blueprint.post("/search")
def search(object_type: str):
    t = _Type(object_type)
    body = json_body()
    groups = body.get("filterGroups", [])
    require(isinstance(groups, list) and len(groups) <= 5, "filterGroups must be a list of at most 5 groups")
    total_filters = 0
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        require(isinstance(filters, list) and 0 < len(filters) <= 6, "each filter group needs 1 to 6 filters")
        total_filters += len(filters)
        for f in filters:
            require(isinstance(f, dict) and f.get("operator") in OPERATORS,
                    f"operator must be one of {sorted(OPERATORS)}")
            require(f.get("propertyName") in t.props, f"Unknown propertyName {f.get('propertyName')!r}")
            if f["operator"] in ("EQ", "NEQ"):
                require("value" in f, f"operator {f['operator']} needs a value")
            if f["operator"] in ("IN", "NOT_IN"):
                require(isinstance(f.get("values"), list) and f["values"], f"operator {f['operator']} needs values")
    require(total_filters <= 18, "at most 18 filters in total")
    limit = body.get("limit", 10)
    require(isinstance(limit, int) and 1 <= limit <= SEARCH_LIMIT, f"limit must be between 1 and {SEARCH_LIMIT}")
    after = body.get("after")
    try:
        offset = int(after) if after not in (None, "") else 0
    except (TypeError, ValueError):
        raise ApiError(400, "after must be a paging cursor from a previous answer") from None
    require(offset + limit <= SEARCH_MAX_RESULTS, f"Search is limited to {SEARCH_MAX_RESULTS} results")
    wanted = _requested(body.get("properties"), t)
    with state().lock:
        hits = sorted((o for o in t.objects.values() if not o.archived
                       and (not groups or any(all(_matches(o, f) for f in g["filters"]) for g in groups))),
                      key=lambda o: int(o.id))
        page = hits[offset:offset + limit]
        # Without a properties list HubSpot answers only the default properties, as list and read do.
        answer = {"total": len(hits), "results": [_render(o, wanted) for o in page]}
    if offset + limit < len(hits):
        answer["paging"] = {"next": {"after": str(offset + limit)}}
    return jsonify(answer)
