"""CRM objects (OAuth): the batch calls and search the media sync is built on."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from oembed_server.hubspot import response_shapes
from oembed_server.hubspot.api_call import ApiCall, Auth, segment
from oembed_server.hubspot.api_error import HubSpotError
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.paging import PageFollower
from oembed_server.hubspot.response_shapes import receive

BATCH_LIMIT = 100
SEARCH_PAGE_LIMIT = 100
LIST_PAGE_LIMIT = 100


def _objects(object_type: str) -> str:
    return f"/crm/v3/objects/{segment(object_type)}"


def _check_batch(inputs: list) -> list:
    if not inputs:
        raise ValueError("a batch call needs at least one input")
    if len(inputs) > BATCH_LIMIT:
        raise ValueError(f"HubSpot takes at most {BATCH_LIMIT} inputs per batch call, got {len(inputs)}")
    return inputs


# --- request builders ----------------------------------------------------------------------
def create(object_type: str, properties: dict[str, str]) -> ApiCall:
    # The spec requires associations on creates; media objects are created without any.
    return ApiCall("POST", _objects(object_type), Auth.OAUTH, idempotent=False,
                   json={"properties": properties, "associations": []})


def batch_read(object_type: str, ids: list[str], properties: list[str], id_property: str | None = None) -> ApiCall:
    # The spec requires propertiesWithHistory; the sync needs no history, so an empty list.
    body: dict[str, Any] = {"inputs": [{"id": i} for i in _check_batch(ids)], "properties": properties,
                            "propertiesWithHistory": []}
    if id_property:
        body["idProperty"] = id_property
    return ApiCall("POST", f"{_objects(object_type)}/batch/read", Auth.OAUTH, idempotent=True, json=body)


def batch_create(object_type: str, inputs: list[dict]) -> ApiCall:
    return ApiCall("POST", f"{_objects(object_type)}/batch/create", Auth.OAUTH, idempotent=False,
                   json={"inputs": [{"associations": []} | i for i in _check_batch(inputs)]})


def batch_update(object_type: str, inputs: list[dict]) -> ApiCall:
    return ApiCall("POST", f"{_objects(object_type)}/batch/update", Auth.OAUTH, idempotent=True,
                   json={"inputs": _check_batch(inputs)})


def batch_upsert(object_type: str, inputs: list[dict]) -> ApiCall:
    # Keyed by a unique property, so a repeat lands on the same objects: safe to retry.
    return ApiCall("POST", f"{_objects(object_type)}/batch/upsert", Auth.OAUTH, idempotent=True,
                   json={"inputs": _check_batch(inputs)})


def batch_archive(object_type: str, ids: list[str]) -> ApiCall:
    return ApiCall("POST", f"{_objects(object_type)}/batch/archive", Auth.OAUTH, idempotent=True,
                   json={"inputs": [{"id": i} for i in _check_batch(ids)]})


def search(object_type: str, filter_groups: list[dict], properties: list[str],
           limit: int = SEARCH_PAGE_LIMIT, after: str | None = None) -> ApiCall:
    # The spec requires every field but query; "0" is the first page's cursor.
    body: dict[str, Any] = {"filterGroups": filter_groups, "properties": properties, "limit": limit,
                            "after": after or "0", "sorts": []}
    return ApiCall("POST", f"{_objects(object_type)}/search", Auth.OAUTH, idempotent=True, json=body)


def list_page(object_type: str, properties: list[str], limit: int = LIST_PAGE_LIMIT,
              after: str | None = None) -> ApiCall:
    params: dict[str, Any] = {"limit": limit, "properties": ",".join(properties), "archived": "false"}
    if after:
        params["after"] = after
    return ApiCall("GET", _objects(object_type), Auth.OAUTH, idempotent=True, params=params)


# --- typed helpers -----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class BatchReadResult:
    found: list[dict]
    missing: list[str]


class CrmObjects:
    def __init__(self, client: HubSpotClient):
        self.client = client

    def create(self, object_type: str, properties: dict[str, str]) -> dict:
        return receive(self.client, create(object_type, properties), response_shapes.CRM_OBJECT)

    def batch_read(self, object_type: str, ids: list[str], properties: list[str],
                   id_property: str | None = None) -> BatchReadResult:
        call = batch_read(object_type, ids, properties, id_property)
        body = receive(self.client, call, response_shapes.BATCH_READ)
        missing: list[str] = []
        for error in body.get("errors", []):
            # A 207 lists the ids it could not find; anything else is a real failure.
            if error.get("category") != "OBJECT_NOT_FOUND":
                raise _batch_error(error, call)
            missing.extend(str(i) for i in (error.get("context") or {}).get("ids", []))
        return BatchReadResult(body["results"], missing)

    def batch_create(self, object_type: str, inputs: list[dict]) -> list[dict]:
        return self._write(batch_create(object_type, inputs))

    def batch_update(self, object_type: str, inputs: list[dict]) -> list[dict]:
        return self._write(batch_update(object_type, inputs))

    def batch_upsert(self, object_type: str, inputs: list[dict]) -> list[dict]:
        return self._write(batch_upsert(object_type, inputs))

    def batch_archive(self, object_type: str, ids: list[str]) -> None:
        self.client.execute(batch_archive(object_type, ids))

    def search_all(self, object_type: str, filter_groups: list[dict], properties: list[str]) -> Iterator[dict]:
        for page in self._pages(lambda after: search(object_type, filter_groups, properties, after=after),
                                SEARCH_PAGE_LIMIT):
            yield from page

    def list_pages(self, object_type: str, properties: list[str]) -> Iterator[list[dict]]:
        """Every live object, one page (one request) at a time. Unlike search, listing
        has no 10,000-result ceiling."""
        return self._pages(lambda after: list_page(object_type, properties, after=after), LIST_PAGE_LIMIT)

    def _pages(self, page_call, page_size: int) -> Iterator[list[dict]]:
        """Every page of a paged read, each checked, stopping if the cursors never end."""
        follower = PageFollower(page_size)
        after = None
        while True:
            call = page_call(after)
            answer = self.client.execute(call)
            body = response_shapes.check(answer.body, response_shapes.PAGE, call, answer.status,
                                 response_shapes.client_secrets(self.client))
            after = follower.next_cursor(body, call, answer.status)
            yield body["results"]
            if after is None:
                return

    def _write(self, call: ApiCall) -> list[dict]:
        """The objects HubSpot answered with; possibly fewer than the inputs (or none) when
        its answer left them out, so callers that need every id must read the rest back."""
        body = receive(self.client, call, response_shapes.BATCH_WRITE) or {}
        errors = body.get("errors") or []
        if errors:
            raise _batch_error(errors[0], call, len(errors))
        return list(body.get("results") or [])


def _batch_error(error: dict, call: ApiCall, count: int = 1) -> HubSpotError:
    message = str(error.get("message") or "batch input failed")
    if count > 1:
        message += f" (and {count - 1} more error(s))"
    status = error.get("status")
    return HubSpotError(207 if not isinstance(status, int) else status, message, error.get("category"),
                        error.get("correlationId"), [error], call.method, call.path)
