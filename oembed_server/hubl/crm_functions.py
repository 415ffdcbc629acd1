"""``crm_object``/``crm_objects`` over media objects, with HubSpot's documented limits.

The data behind them is a ``MediaObjectSource``: for the local preview, the catalog
mapped to the properties HubSpot's media objects carry. The functions themselves are
plain Python over plain dicts, so they are tested without a database or Flask.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, TypeVar
from urllib.parse import parse_qsl

from oembed_server.domain.media import MediaType
from oembed_server.domain.media_object_mapping import SYNCED_PROPERTIES
from oembed_server.hubl.hubl_errors import HublError, HublLimitError

MAX_OBJECTS_PER_CALL = 100
MAX_CALLS_PER_PAGE = 10
DEFAULT_QUERY_LIMIT = 10

# HubSpot's example module builds these names; DOCUMENT and OTHER follow the same
# pattern (unconfirmed: HubSpot has not published an example for them).
OBJECT_TYPE_SUFFIXES: dict[MediaType, str] = {
    MediaType.VIDEO: "_Videos",
    MediaType.AUDIO: "_Audio",
    MediaType.IMAGE: "_Images",
    MediaType.DOCUMENT: "_Documents",
    MediaType.OTHER: "_Other",
}

# The properties media objects carry: exactly what the sync writes to HubSpot.
MEDIA_OBJECT_PROPERTIES = SYNCED_PROPERTIES

_OBJECT_TYPE = re.compile(r"^a(?P<provider>[0-9A-Za-z]+)(?P<suffix>_[A-Za-z]+)$")
_OPERATORS = ("eq", "neq", "contains", "icontains", "startswith", "in", "not_in",
              "gt", "gte", "lt", "lte", "null", "not_null")


def media_object_type(provider_id, media_type: MediaType | str) -> str:
    return f"a{provider_id}{OBJECT_TYPE_SUFFIXES[MediaType(media_type)]}"


def parse_media_object_type(object_type: str) -> tuple[str, MediaType]:
    """``a123_Videos`` -> ("123", VIDEO); anything else is an unknown object type."""
    match = _OBJECT_TYPE.match(str(object_type))
    if match:
        for media_type, suffix in OBJECT_TYPE_SUFFIXES.items():
            if suffix == match.group("suffix"):
                return match.group("provider"), media_type
    raise HublError(f"unknown CRM object type {object_type!r}")


class MediaObjectSource(Protocol):
    def objects(self, provider_id: str, media_type: MediaType) -> Sequence[Mapping]:
        """Every media object of that type, as property dicts including ``id``."""


class InMemoryMediaObjects:
    def __init__(self, objects_by_type: Mapping[tuple[str, MediaType], Sequence[Mapping]]):
        self._objects = {key: list(value) for key, value in objects_by_type.items()}

    def objects(self, provider_id, media_type):
        return self._objects.get((str(provider_id), MediaType(media_type)), [])


class CrmFunctions:
    """One page render's worth of CRM calls: counts them, enforces the limits."""

    def __init__(self, source: MediaObjectSource):
        self._source = source
        self.calls: dict[str, int] = {"crm_object": 0, "crm_objects": 0}

    def crm_object(self, object_type, id_or_query, properties=None):
        self._count("crm_object")
        objects = self._objects(object_type)
        wanted = _property_list(object_type, properties)
        if _is_query(id_or_query):
            found = _run_query(objects, object_type, str(id_or_query), default_limit=1)[0]
        else:
            found = [o for o in objects if _same_id(o["id"], id_or_query)]
        return _select(found[0], wanted) if found else None

    def crm_objects(self, object_type, ids_or_query, properties=None):
        self._count("crm_objects")
        objects = self._objects(object_type)
        wanted = _property_list(object_type, properties)
        if _is_query(ids_or_query):
            page, offset, total = _run_query(objects, object_type, str(ids_or_query))
        else:
            ids = _id_list(ids_or_query)
            if len(ids) > MAX_OBJECTS_PER_CALL:
                raise HublLimitError(
                    f"crm_objects: at most {MAX_OBJECTS_PER_CALL} objects per call, {len(ids)} ids given")
            by_id = {str(o["id"]): o for o in objects}
            page = [by_id[str(i)] for i in ids if str(i) in by_id]
            offset, total = 0, len(page)
        return {
            "results": [_select(o, wanted) for o in page],
            "has_more": offset + len(page) < total,
            "offset": offset + len(page),
            "total": total,
        }

    def _count(self, name: str) -> None:
        self.calls[name] += 1
        if self.calls[name] > MAX_CALLS_PER_PAGE:
            raise HublLimitError(f"{name}: limit of {MAX_CALLS_PER_PAGE} calls per page exceeded")

    def _objects(self, object_type) -> Sequence[Mapping]:
        provider_id, media_type = parse_media_object_type(object_type)
        return self._source.objects(provider_id, media_type)


def _is_query(value) -> bool:
    return isinstance(value, str) and "=" in value


def _id_list(value) -> list:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return list(value)
    return [value]


def _same_id(object_id, wanted) -> bool:
    return str(object_id) == str(wanted)


def _property_list(object_type, properties) -> tuple[str, ...]:
    if properties is None or properties == "":
        return MEDIA_OBJECT_PROPERTIES
    given = properties.split(",") if isinstance(properties, str) else list(properties)
    names = tuple(n.strip() for n in given if str(n).strip())
    for name in names:
        if name != "id" and name not in MEDIA_OBJECT_PROPERTIES:
            raise HublError(f"property {name!r} does not exist on {object_type}")
    return names


def _select(obj: Mapping, wanted: tuple[str, ...]) -> dict:
    return {"id": obj["id"]} | {name: obj.get(name) for name in wanted if name != "id"}


def _run_query(objects, object_type, query: str, default_limit: int = DEFAULT_QUERY_LIMIT):
    """HubL's query string: ``limit``, ``offset``, ``order`` (``-`` for descending) and
    ``property__operator=value`` filters (``property=value`` means ``eq``)."""
    limit, offset, order = default_limit, 0, None
    matches = list(objects)
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "limit":
            limit = _int_param("limit", value, minimum=1)
            if limit > MAX_OBJECTS_PER_CALL:
                raise HublLimitError(f"crm_objects: limit may not exceed {MAX_OBJECTS_PER_CALL}, got {limit}")
        elif key == "offset":
            offset = _int_param("offset", value, minimum=0)
        elif key == "order":
            order = value
        else:
            name, _, operator = key.partition("__")
            _property_list(object_type, name)
            operator = operator or "eq"
            if operator not in _OPERATORS:
                raise HublError(f"crm_objects: unknown filter operator {operator!r} in {key!r}")
            matches = [o for o in matches if _matches(o.get(name), operator, value)]
    if order:
        name = order.lstrip("-")
        _property_list(object_type, name)
        present = [o for o in matches if o.get(name) is not None]
        absent = [o for o in matches if o.get(name) is None]
        matches = sorted(present, key=lambda o: o[name], reverse=order.startswith("-")) + absent
    return matches[offset:offset + limit], offset, len(matches)


def _int_param(name: str, value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise HublError(f"crm_objects: {name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise HublError(f"crm_objects: {name} must be at least {minimum}, got {number}")
    return number


def _matches(actual, operator: str, expected: str) -> bool:
    if operator == "null":
        return actual is None
    if operator == "not_null":
        return actual is not None
    if actual is None:
        return operator in ("neq", "not_in")
    text = str(actual)
    if operator == "eq":
        return text == expected
    if operator == "neq":
        return text != expected
    if operator == "contains":
        return expected in text
    if operator == "icontains":
        return expected.lower() in text.lower()
    if operator == "startswith":
        return text.startswith(expected)
    if operator in ("in", "not_in"):
        inside = text in [v.strip() for v in expected.split(",")]
        return inside if operator == "in" else not inside
    try:  # gt, gte, lt, lte compare numbers when both sides are numbers
        left, right = float(actual), float(expected)
    except (TypeError, ValueError):
        return _ordered(operator, text, expected)
    return _ordered(operator, left, right)


_Comparable = TypeVar("_Comparable", float, str)


def _ordered(operator: str, left: _Comparable, right: _Comparable) -> bool:
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[operator]
