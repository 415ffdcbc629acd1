"""Create the app's missing media object definitions and add its extra properties."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from oembed_server.hubspot.api_call import ApiCall
from oembed_server.hubspot.api_error import HubSpotError
from oembed_server.hubspot.client_config import DEFAULT_MEDIA_BRIDGE_VERSION
from oembed_server.hubspot.media_bridge_api import (
    MediaBridgeSettings,
    check_media_types,
    create_object_definitions,
    create_property,
    get_object_definition,
    list_properties,
)

REQUIRED_PROPERTY_KEYS = ("name", "label", "type", "fieldType", "groupName")
# Keys HubSpot lets a PATCH change; "type" cannot change once a property exists.
EDITABLE_PROPERTY_KEYS = ("label", "description", "groupName", "fieldType", "options", "hidden", "displayOrder")
PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


class PropertiesFileError(ValueError):
    """The extra-properties file is unreadable or a definition in it is incomplete."""


@dataclasses.dataclass
class SetupReport:
    object_types: dict[str, str] = dataclasses.field(default_factory=dict)
    created_types: list[str] = dataclasses.field(default_factory=list)
    created_properties: list[str] = dataclasses.field(default_factory=list)
    updated_properties: list[str] = dataclasses.field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created_types or self.created_properties or self.updated_properties)

    def to_dict(self) -> dict:
        return {"changed": self.changed} | dataclasses.asdict(self)

    def lines(self) -> list[str]:
        lines = [f"{t}: {name}" + (" (created)" if t in self.created_types else " (already defined)")
                 for t, name in self.object_types.items()]
        lines += [f"property {p} created" for p in self.created_properties]
        lines += [f"property {p} updated" for p in self.updated_properties]
        if not self.changed:
            lines.append("Nothing to change: every media type and property already exists.")
        return lines


def load_extra_properties(path: Path, media_types: list[str]) -> dict[str, list[dict]]:
    """A JSON list of property definitions for every type, or an object mapping a media
    type to its list. Checked in full before anything is sent."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PropertiesFileError(f"{path}: cannot read JSON: {exc}") from None
    if isinstance(data, list):
        per_type = {t: data for t in media_types}
    elif isinstance(data, dict):
        unknown = sorted(set(data) - set(media_types))
        if unknown:
            raise PropertiesFileError(f"{path}: properties given for media types not in --types: {', '.join(unknown)}")
        per_type = {t: data.get(t, []) for t in media_types}
    else:
        raise PropertiesFileError(f"{path}: expected a list of property definitions or an object by media type")
    problems = []
    for media_type, definitions in per_type.items():
        if not isinstance(definitions, list):
            problems.append(f"{media_type}: expected a list of property definitions")
            continue
        for i, definition in enumerate(definitions):
            where = f"{media_type}[{i}]"
            if not isinstance(definition, dict):
                problems.append(f"{where}: expected an object")
                continue
            missing = [k for k in REQUIRED_PROPERTY_KEYS if not definition.get(k)]
            if missing:
                problems.append(f"{where}: missing {', '.join(missing)}")
            name = definition.get("name")
            if isinstance(name, str) and (not PROPERTY_NAME.match(name) or name.startswith("hs_")):
                problems.append(f"{where}: property name {name!r} must be lower-case letters, digits and _, "
                                "start with a letter and not use HubSpot's hs_ prefix")
    if problems:
        raise PropertiesFileError(f"{path}: " + "; ".join(problems))
    return {media_type: [_with_option_defaults(d) for d in definitions] for media_type, definitions in per_type.items()}


def _with_option_defaults(definition: dict[str, Any]) -> dict[str, Any]:
    """The spec's OptionInput requires displayOrder and hidden; a file may leave them out."""
    options = definition.get("options")
    if not isinstance(options, list):
        return definition
    return definition | {"options": [{"displayOrder": n, "hidden": False} | o if isinstance(o, dict) else o
                                     for n, o in enumerate(options)]}


def _property_changes(wanted: dict[str, Any], held: dict[str, Any], label: str) -> dict[str, Any]:
    if "type" in held and held["type"] != wanted["type"]:
        raise PropertiesFileError(f"property {label} exists with type {held['type']!r}; HubSpot cannot change it "
                                  f"to {wanted['type']!r}")
    return {k: wanted[k] for k in EDITABLE_PROPERTY_KEYS if k in wanted and not _same_value(wanted[k], held.get(k))}


def _same_value(wanted: Any, held: Any) -> bool:
    """Whether HubSpot already holds what the file asks for. HubSpot may answer with keys
    the file never gave (an option's displayOrder, hidden...); only the file's keys count,
    or every run would PATCH again."""
    if isinstance(wanted, dict) and isinstance(held, dict):
        return all(_same_value(v, held.get(k)) for k, v in wanted.items())
    if isinstance(wanted, list) and isinstance(held, list):
        return len(wanted) == len(held) and all(_same_value(w, h) for w, h in zip(wanted, held, strict=True))
    return wanted == held


def setup_media_types(app: MediaBridgeSettings, media_types: list[str],
                      extra_properties: dict[str, list[dict]] | None = None) -> SetupReport:
    media_types = check_media_types(media_types)
    report = SetupReport()
    definitions = {t: app.object_definition(t) for t in media_types}
    missing = [t for t, d in definitions.items() if d is None]
    found = {t: d for t, d in definitions.items() if d is not None}
    if missing:
        app.create_object_definitions(missing)
        report.created_types = missing
        # Read back rather than trust createdObjects, whose shape HubSpot does not document.
        for media_type in missing:
            definition = app.object_definition(media_type)
            if definition is None:
                raise HubSpotError(None, f"HubSpot accepted the {media_type} definition but does not return it",
                                   "MALFORMED_ANSWER")
            found[media_type] = definition
    for media_type in media_types:
        report.object_types[media_type] = found[media_type]["objectTypeName"]
    for media_type, wanted_list in (extra_properties or {}).items():
        if not wanted_list:
            continue
        object_type = report.object_types[media_type]
        held = {p["name"]: p for p in app.properties(object_type)}
        for wanted in wanted_list:
            label = f"{object_type}.{wanted['name']}"
            if wanted["name"] not in held:
                app.create_property(object_type, wanted)
                report.created_properties.append(label)
                continue
            changes = _property_changes(wanted, held[wanted["name"]], label)
            if changes:
                app.update_property(object_type, wanted["name"], changes)
                report.updated_properties.append(label)
    return report


def plan_setup(app_id: int, media_types: list[str], extra_properties: dict[str, list[dict]] | None = None,
               version: str = DEFAULT_MEDIA_BRIDGE_VERSION) -> list[ApiCall]:
    """Requests for an app with nothing defined yet (a real run skips what exists)."""
    media_types = check_media_types(media_types)
    calls = [get_object_definition(app_id, t, version) for t in media_types]
    calls.append(create_object_definitions(app_id, media_types, version))
    for media_type, wanted_list in (extra_properties or {}).items():
        if wanted_list:
            object_type = f"{media_type}-object-type"
            calls.append(list_properties(app_id, object_type, version))
            calls += [create_property(app_id, object_type, w, version) for w in wanted_list]
    return calls
