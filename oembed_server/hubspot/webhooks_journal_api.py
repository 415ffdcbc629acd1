"""HubSpot's Webhooks Journal (2026-03), with the app's client-credentials token: the app
lifecycle subscription that journals uninstalls, and the journal read in batches after the
last offset read. Each batch result names a journal file by a pre-signed URL (not HubSpot's
API host, no credential but its query), read here as raw text; what is in it is the
journal entries' business (domain.journal_entries), since HubSpot has not published their
shape."""
from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from oembed_server.hubspot import response_shapes
from oembed_server.hubspot.api_call import ApiCall, Auth, segment
from oembed_server.hubspot.client import HubSpotClient

VERSION = "2026-03"
SUBSCRIPTIONS = f"/webhooks-journal/subscriptions/{VERSION}"
JOURNAL = f"/webhooks-journal/journal/{VERSION}"
APP_LIFECYCLE = "APP_LIFECYCLE_EVENT"
APP_UNINSTALL_EVENT = "4-1916193"
# Files per batch request (the spec's count); the worker reads batches until one is short.
BATCH_SIZE = 50


@dataclasses.dataclass(frozen=True)
class JournalFile:
    offset: str
    url: str = dataclasses.field(repr=False)  # pre-signed: a credential while it lasts


def list_subscriptions_call() -> ApiCall:
    return ApiCall("GET", SUBSCRIPTIONS, Auth.APP, idempotent=True)


def subscribe_uninstalls_call() -> ApiCall:
    # An upsert at HubSpot: sending it twice keeps one subscription.
    return ApiCall("POST", SUBSCRIPTIONS, Auth.APP, idempotent=True,
                   json={"subscriptionType": APP_LIFECYCLE, "eventTypeId": APP_UNINSTALL_EVENT, "properties": []})


def batch_call(after: str | None, count: int = BATCH_SIZE) -> ApiCall:
    path = f"{JOURNAL}/batch/earliest/{count}" if after is None else f"{JOURNAL}/batch/{segment(after)}/next/{count}"
    return ApiCall("GET", path, Auth.APP, idempotent=True)


def file_call(url: str) -> ApiCall:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("a journal file URL must be an absolute http(s) URL")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    # Logged without its query: the signature in it reads the file until it expires.
    return ApiCall("GET", path, Auth.NONE, idempotent=True, base_url=f"{parts.scheme}://{parts.netloc}",
                   log_path=parts.path, raw_text=True)


class WebhooksJournal:
    def __init__(self, client: HubSpotClient):
        self.client = client

    def ensure_uninstall_subscription(self) -> tuple[str, bool]:
        """The subscription journaling this app's uninstalls: (its id, created now)."""
        listed = response_shapes.receive(self.client, list_subscriptions_call(), response_shapes.JOURNAL_SUBSCRIPTIONS)
        for held in listed["results"]:
            if held["subscriptionType"] == APP_LIFECYCLE and held.get("objectTypeId") == APP_UNINSTALL_EVENT:
                return str(held["id"]), False
        made = response_shapes.receive(self.client, subscribe_uninstalls_call(), response_shapes.JOURNAL_SUBSCRIPTION)
        return str(made["id"]), True

    def files_after(self, offset: str | None, count: int = BATCH_SIZE) -> list[JournalFile] | None:
        """The next journal files after ``offset`` (from the earliest when None), oldest first;
        None when HubSpot does not know the offset (404)."""
        call = batch_call(offset, count)
        answer = self.client.execute(call, allow=(404,))
        if answer.status == 404:
            return None
        body = response_shapes.check(answer.body, response_shapes.JOURNAL_BATCH, call, answer.status,
                                     response_shapes.client_secrets(self.client))
        return [JournalFile(r["currentOffset"], r["url"]) for r in body["results"]]

    def read(self, journal_file: JournalFile) -> str:
        """The file's text, exactly as stored."""
        answer = self.client.execute(file_call(journal_file.url))
        return answer.body or ""
