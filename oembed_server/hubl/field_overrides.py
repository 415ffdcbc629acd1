"""Module field values set from text (the preview's ``?fields.NAME=...`` parameters),
checked against the module's fields.json the way the page editor would restrict them.

``NAME=value`` sets a field; ``NAME.KEY=value`` one key of a field whose value is a dict
(image ``src``/``alt``/``width``..., color ``color``/``opacity``, url ``href``...);
``GROUP.CHILD=...`` a field inside a (non-repeating) group. ``NAME=value`` on an image,
color or url field sets its main key (``src``, ``color``, ``href``).
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping

from oembed_server.domain.media import is_absolute_http_url

DICT_KEYS: dict[str, tuple[str, ...]] = {
    "image": ("src", "alt", "width", "height", "loading", "size_type", "max_width", "max_height"),
    "color": ("color", "opacity"),
    "url": ("href", "type", "content_id"),
}
MAIN_KEY = {"image": "src", "color": "color", "url": "href"}
_WHOLE_NUMBER_KEYS = frozenset({"width", "height", "max_width", "max_height", "opacity", "content_id"})
_URL_KEYS = frozenset({"src", "href"})
_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_TRUE, _FALSE = ("true", "1"), ("false", "0")
MAX_WHOLE_NUMBER = 100_000


class FieldValueError(ValueError):
    """A field parameter the module cannot take; the message names the parameter."""


def apply_field_values(fields: list, values: dict, assignments: Iterable[tuple[str, str]],
                       managed: Mapping[str, str] | None = None) -> dict:
    """``values`` with each ``(path, text)`` applied; ``managed`` names fields set by other
    parameters (the Embed field: ``media``), which may not be set this way."""
    seen: set[str] = set()
    unknown: list[str] = []
    for path, text in assignments:
        if path in seen:
            raise FieldValueError(f"fields.{path} may be given once")
        seen.add(path)
        parts = path.split(".")
        top = parts[0]
        if managed and top in managed:
            raise FieldValueError(f"fields.{path}: the {top!r} field is set with {managed[top]}")
        if _field(fields, top) is None:
            unknown.append(f"fields.{path}")
            continue
        _assign(fields, values, parts, text, f"fields.{path}")
    if unknown:
        names = ", ".join(repr(f["name"]) for f in fields)
        raise FieldValueError(f"unknown field(s) {', '.join(unknown)}; this module's fields are {names}")
    return values


def _field(fields: list, name: str) -> dict | None:
    return next((f for f in fields if f.get("name") == name), None)


def _assign(fields: list, values: dict, parts: list[str], text: str, label: str) -> None:
    field = _field(fields, parts[0])
    if field is None:
        raise FieldValueError(f"{label}: no field {parts[0]!r} here")
    kind = field.get("type")
    if kind == "group":
        if "occurrence" in field:
            raise FieldValueError(f"{label}: {parts[0]!r} is a repeating group; its items cannot be set here")
        if len(parts) < 2:
            raise FieldValueError(f"{label}: {parts[0]!r} is a group; name one of its fields")
        current_group = values.get(parts[0])
        group: dict = current_group if isinstance(current_group, dict) else {}
        values[parts[0]] = group
        _assign(field.get("children", []), group, parts[1:], text, label)
        return
    if kind in DICT_KEYS:
        current = values.get(parts[0])
        value = dict(current) if isinstance(current, Mapping) else dict.fromkeys(DICT_KEYS[kind])
        if len(parts) > 2:
            raise FieldValueError(f"{label}: a {kind} field has no nested keys")
        key = parts[1] if len(parts) == 2 else MAIN_KEY[kind]
        if key not in DICT_KEYS[kind]:
            raise FieldValueError(f"{label}: a {kind} field has no key {key!r} "
                                  f"(it has {', '.join(DICT_KEYS[kind])})")
        value[key] = _dict_value(kind, key, text, label)
        values[parts[0]] = value
        return
    if len(parts) > 1:
        current = values.get(parts[0])
        if not isinstance(current, Mapping) or parts[1] not in current or len(parts) > 2:
            raise FieldValueError(f"{label}: the {kind} field {parts[0]!r} has no key {'.'.join(parts[1:])!r}")
        values[parts[0]] = dict(current) | {parts[1]: text}
        return
    values[parts[0]] = _scalar(field, text, label)


def _dict_value(kind: str, key: str, text: str, label: str):
    if key in _WHOLE_NUMBER_KEYS:
        if text == "":
            return None
        if not text.isdigit() or int(text) > MAX_WHOLE_NUMBER:
            raise FieldValueError(f"{label} must be a whole number from 0 to {MAX_WHOLE_NUMBER}")
        return int(text)
    if key in _URL_KEYS and text and not is_absolute_http_url(text):
        raise FieldValueError(f"{label} must be an absolute http(s) URL")
    if kind == "color" and key == "color" and text and not _HEX_COLOR.match(text):
        raise FieldValueError(f"{label} must be a hex colour like #ff7a59")
    return text


def _scalar(field: dict, text: str, label: str):
    kind = field.get("type")
    if kind == "boolean":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise FieldValueError(f"{label} must be true or false")
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise FieldValueError(f"{label} must be a number") from None
        if not math.isfinite(number):
            raise FieldValueError(f"{label} must be a number")
        low, high = field.get("min"), field.get("max")
        if (low is not None and number < low) or (high is not None and number > high):
            raise FieldValueError(f"{label} must be between {low} and {high}")
        return int(number) if number.is_integer() else number
    if kind == "choice":
        allowed = [str(choice[0]) for choice in field.get("choices", [])]
        if text not in allowed:
            raise FieldValueError(f"{label} must be one of {', '.join(allowed)}")
        return [text] if field.get("multiple") else text
    if kind == "embed":
        raise FieldValueError(f"{label}: an Embed field is set with media=")
    if kind in ("text", "richtext", "email", "textarea", None) or isinstance(field.get("default"), str):
        return text
    raise FieldValueError(f"{label}: a {kind} field cannot be set from the query string "
                          f"(its value is {json.dumps(field.get('default'))[:60]})")
