"""HubSpot's successful answers, checked against the shape this code reads, in one place.

Every helper that sends a call and reads its answer goes through ``receive`` with one of
the shapes declared at the bottom. An answer that is not JSON (truncated, an HTML page
from a proxy), is ``null`` or empty where content is needed, lacks a key the code reads,
or holds the wrong type there becomes a ``HubSpotError`` (category ``MALFORMED_ANSWER``)
naming the call, what was wrong and a glimpse of what came back, instead of a KeyError or
TypeError three frames later. Shapes name only what the code reads: HubSpot adds keys
freely, so extra keys are never refused. Token answers are never quoted: they may carry
credentials nobody has told the redaction about yet. Calls whose answer nothing reads
(archive, PATCH, DELETE, validate) are not checked: any 2xx status is their whole answer."""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from oembed_server.hubspot.api_call import ApiCall, Auth
from oembed_server.hubspot.api_error import HubSpotError, redact

MALFORMED = "MALFORMED_ANSWER"
_GLIMPSE = 160


class Shape:
    """What one JSON value must look like; ``problem`` says why it does not, or None."""

    def problem(self, value: Any, where: str) -> str | None:
        raise NotImplementedError


class _Anything(Shape):
    def problem(self, value, where):
        return None


ANY = _Anything()


class Text(Shape):
    def problem(self, value, where):
        if not isinstance(value, str) or not value:
            return f"{where} should be non-empty text, got {_kind(value)}"
        return None


class Number(Shape):
    def problem(self, value, where):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return f"{where} should be a number, got {_kind(value)}"
        return None


class Id(Shape):
    """An object id: HubSpot sends text, some older APIs a number."""

    def problem(self, value, where):
        if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
            return f"{where} should be an id, got {_kind(value)}"
        return None


class Scalar(Shape):
    """A CRM property value: text as HubSpot stores it, a number or boolean, or null."""

    def problem(self, value, where):
        if value is not None and not isinstance(value, (str, int, float, bool)):
            return f"{where} should be a property value, got {_kind(value)}"
        return None


class Nullable(Shape):
    """``shape``, or nothing at all (``null`` or an empty body)."""

    def __init__(self, shape: Shape):
        self.shape = shape

    def problem(self, value, where):
        return None if value is None else self.shape.problem(value, where)


class ListOf(Shape):
    def __init__(self, item: Shape, most: int | None = None):
        self.item = item
        self.most = most

    def problem(self, value, where):
        if not isinstance(value, list):
            return f"{where} should be a list, got {_kind(value)}"
        if self.most is not None and len(value) > self.most:
            return f"{where} should hold at most {self.most} entries, got {len(value)}"
        for i, entry in enumerate(value):
            found = self.item.problem(entry, f"{where}[{i}]")
            if found:
                return found
        return None


class Obj(Shape):
    """A JSON object with ``required`` keys, ``optional`` ones (checked when present and not
    null), and ``values`` every value must match (for maps such as CRM properties)."""

    def __init__(self, required: Mapping[str, Shape] | None = None, optional: Mapping[str, Shape] | None = None,
                 values: Shape | None = None):
        self.required = dict(required or {})
        self.optional = dict(optional or {})
        self.values = values

    def problem(self, value, where):
        if not isinstance(value, dict):
            return f"{where} should be a JSON object, got {_kind(value)}"
        for key, shape in self.required.items():
            if key not in value:
                return f"{where} has no {key!r}"
            found = shape.problem(value[key], f"{where}.{key}")
            if found:
                return found
        for key, shape in self.optional.items():
            if value.get(key) is not None:
                found = shape.problem(value[key], f"{where}.{key}")
                if found:
                    return found
        if self.values is not None:
            for key, entry in value.items():
                found = self.values.problem(entry, f"{where}.{key}")
                if found:
                    return found
        return None


class Either(Shape):
    """One of several accepted shapes. The complaint reported is from a shape whose outer
    type matched, so it points inside the value rather than at its type."""

    def __init__(self, *shapes: Shape):
        self.shapes = shapes

    def problem(self, value, where):
        problems = [p for p in (s.problem(value, where) for s in self.shapes) if p is not None]
        if len(problems) < len(self.shapes):
            return None  # one of the shapes matched
        inner = [p for p in problems if not p.startswith(f"{where} should be")]
        return (inner or problems)[0]


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (int, float)):
        return "a number"
    return "a list" if isinstance(value, list) else "an object"


def _glimpse(value: Any) -> str:
    if value is None:
        return "an empty answer"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = " ".join(text.split())
    return repr(text[:_GLIMPSE] + ("..." if len(text) > _GLIMPSE else ""))


def check(body: Any, shape: Shape, call: ApiCall, status: int, secrets=()) -> Any:
    """``body`` when it has ``shape``; otherwise the HubSpotError a bad answer becomes."""
    problem = shape.problem(body, "the answer")
    if problem is None:
        return body
    if call.auth is Auth.NONE:
        shown = "(its content is not shown: a token answer may carry credentials)"
    else:
        shown = f"it answered {redact(_glimpse(body), secrets)}"
    correlation = body.get("correlationId") if isinstance(body, dict) else None
    raise HubSpotError(status, f"HubSpot answered badly: {problem}; {shown}", MALFORMED,
                       correlation if isinstance(correlation, str) else None, method=call.method, path=call.path)


def receive(client, call: ApiCall, shape: Shape, *, allow: tuple[int, ...] = ()) -> Any:
    """Send ``call`` and return its checked body; None when HubSpot answered a status in
    ``allow`` (e.g. 404 for "does it exist?")."""
    answer = client.execute(call, allow=allow)
    if answer.status in allow:
        return None
    return check(answer.body, shape, call, answer.status, client_secrets(client))


def client_secrets(client) -> list[str]:
    return [*client.config.secrets(), *client.tokens.secrets()]


# --- the shapes this code reads ---------------------------------------------------------------
CRM_OBJECT = Obj({"id": Id()}, {"properties": Obj(values=Scalar())})
BATCH_ERROR = Obj(optional={"message": ANY, "category": Text(), "context": Obj(optional={"ids": ListOf(Id())})})
BATCH_READ = Obj({"results": ListOf(CRM_OBJECT)}, {"errors": ListOf(BATCH_ERROR)})
# HubSpot applies a write before answering: an answer without results is read back, not refused.
BATCH_WRITE = Nullable(Obj(optional={"results": ListOf(CRM_OBJECT), "errors": ListOf(BATCH_ERROR)}))
PAGE = Obj({"results": ListOf(CRM_OBJECT)},
           {"total": Number(), "paging": Obj(optional={"next": Obj({"after": Id()})})})

PROPERTY = Obj({"name": Text()})
# The definition lists its properties by name, in full, or (as the spec's PropertyDefinition)
# wrapped as {"objectTypeId", "property": {...}}.
OBJECT_DEFINITION = Obj({"objectTypeName": Text()},
                        {"properties": ListOf(Either(Text(), PROPERTY, Obj({"property": PROPERTY})))})
# HubSpot's properties APIs answer either a bare list or {"results": [...]}.
PROPERTY_LIST = Either(ListOf(PROPERTY), Obj({"results": ListOf(PROPERTY)}))
DOMAIN = Obj({"id": Id()}, {"portalId": Number(),
                            "endpoints": Obj(optional={"url": Text(), "schemes": ListOf(Text())})})
# An unreadable list must never pass for "nothing registered": that registers a duplicate.
DOMAIN_LIST = Obj({"results": ListOf(DOMAIN)}, {"errors": ListOf(ANY, most=0)})

FILE_METADATA = Obj(optional={"hash": Text()})
UPLOADED_FILE = Nullable(Obj())
EVENT_ANSWER = Nullable(Obj())
TOKEN = Obj({"access_token": Text()}, {"refresh_token": Text(), "expires_in": Number()})
# CMS domains (/cms/v3/domains): the host each of a portal's sites is served from.
CMS_DOMAIN = Obj({"id": Id(), "domain": Text()})
CMS_DOMAIN_PAGE = Obj({"results": ListOf(CMS_DOMAIN)},
                      {"total": Number(), "paging": Obj(optional={"next": Obj({"after": Id()})})})

# Forms (hubspot/forms_api.py): what a gate reads of a form definition, and a submission's answer.
FORM_FIELD = Obj({"name": Text(), "fieldType": Text()},
                 {"label": ANY, "required": ANY, "hidden": ANY, "objectTypeId": Text(),
                  "options": ListOf(Obj({"value": ANY}, {"label": ANY}))})
FORM_DEFINITION = Obj({"id": Text(), "fieldGroups": ListOf(Obj(optional={"fields": ListOf(FORM_FIELD)}))},
                      {"name": ANY, "configuration": Obj(), "displayOptions": Obj(),
                       "legalConsentOptions": Obj(optional={"communicationsCheckboxes": ListOf(
                           Obj({"subscriptionTypeId": Number()}, {"label": ANY}))})})
FORM_SUBMITTED = Nullable(Obj())

# Webhooks Journal (hubspot/webhooks_journal_api.py): lifecycle subscriptions and journal batches.
JOURNAL_SUBSCRIPTION = Obj({"id": Id(), "subscriptionType": Text()}, {"objectTypeId": Text()})
JOURNAL_SUBSCRIPTIONS = Obj({"results": ListOf(JOURNAL_SUBSCRIPTION)})
JOURNAL_FILE = Obj({"currentOffset": Text(), "url": Text()}, {"expiresAt": Text()})
JOURNAL_BATCH = Obj({"results": ListOf(JOURNAL_FILE)}, {"status": Text()})
