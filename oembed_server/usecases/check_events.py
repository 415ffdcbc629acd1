"""The three events an integrator sends to check a setup: played, one quartile and an
attention span for the same session, in the field names and types of HubSpot's v1 spec."""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from oembed_server.domain.event_mapping import raw_data_string
from oembed_server.domain.media import MediaItem, media_page_url
from oembed_server.domain.media_object_mapping import is_sent_to_hubspot
from oembed_server.hubspot.api_call import ApiCall
from oembed_server.hubspot.media_events_api import MediaEvents, send

QUARTILES = (0, 25, 50, 75, 100)


def attention_spans(percent: int, spans: int = 10) -> dict[str, int]:
    """rawDataMap for one viewer who watched the first ``percent`` of the media once."""
    if not 0 <= percent <= 100 or spans < 1:
        raise ValueError("percent must be 0..100 and spans at least 1")
    watched = round(spans * percent / 100)
    return {str(i): 1 if i < watched else 0 for i in range(spans)}


@dataclasses.dataclass(frozen=True)
class EventContext:
    session_id: str
    occurred_ms: int
    contact_utk: str | None = None
    contact_id: int | None = None
    page_id: int | None = None
    page_name: str | None = None
    page_url: str | None = None


def build_test_events(item: MediaItem, public_url: str, ctx: EventContext, percent: int = 25
                      ) -> list[tuple[str, dict[str, Any]]]:
    if not is_sent_to_hubspot(item):
        raise ValueError(f"{item.external_id!r} is private: its title and URL are never sent to HubSpot")
    if percent not in QUARTILES:
        raise ValueError(f"the quartile must be one of {', '.join(map(str, QUARTILES))}, got {percent}")
    if not ctx.contact_utk and ctx.contact_id is None:
        raise ValueError("a contact is needed: --contact-utk or --contact-id")
    if ctx.page_id is None and not (ctx.page_name and ctx.page_url):
        raise ValueError("a page is needed: --page-id for a HubSpot page, or --page-name and --page-url")
    common: dict[str, Any] = {"mediaType": item.media_type.value, "sessionId": ctx.session_id,
                              "occurredTimestamp": ctx.occurred_ms}
    # HubSpot prefers mediaBridgeId and contactId when given, so send only the one we trust.
    if item.hubspot_object_id:
        common["mediaBridgeId"] = int(item.hubspot_object_id)
    else:
        common["externalId"] = item.external_id
    if ctx.contact_id is not None:
        common["contactId"] = ctx.contact_id
    else:
        common["contactUtk"] = ctx.contact_utk
    if ctx.page_id is not None:
        common["pageId"] = ctx.page_id
    else:
        common |= {"pageName": ctx.page_name, "pageUrl": ctx.page_url}
    media = {"mediaName": item.title, "mediaUrl": media_page_url(public_url, item.external_id)}
    raw = attention_spans(percent)
    span = {"occurredTimestamp": ctx.occurred_ms + 2, "rawDataMap": raw, "rawDataString": raw_data_string(raw)}
    if item.duration_ms:
        # HubSpot's schema (AttentionSpanCalculatedValues) takes both totals or neither, the
        # seconds as an int32; without a duration HubSpot derives the percent itself.
        span["derivedValues"] = {"totalPercentPlayed": float(percent),
                                 "totalSecondsPlayed": round(item.duration_ms / 1000 * percent / 100)}
    return [
        ("media-played", common | media | {"state": "STARTED"}),
        ("media-played-percent", common | media | {"playedPercent": percent,
                                                   "occurredTimestamp": ctx.occurred_ms + 1}),
        ("attention-span", common | span),
    ]


@dataclasses.dataclass
class EventCheckReport:
    answers: list[dict[str, Any]]
    # Every run records three new events: by design nothing here is idempotent.
    changed: bool = True

    def to_dict(self) -> dict:
        return {"changed": self.changed, "answers": self.answers}

    def lines(self) -> list[str]:
        return [f"{a['event']}: HubSpot answered {json.dumps(a['answer'], sort_keys=True)}" for a in self.answers]


def send_test_events(api: MediaEvents, events: list[tuple[str, dict[str, Any]]]) -> EventCheckReport:
    return EventCheckReport([{"event": kind, "answer": api.send(kind, body)} for kind, body in events])


def check_version(configured: str) -> str:
    """The events API version a check uses: a configured dated version, else v1. v2 only
    queues, so it cannot answer what HubSpot made of an event."""
    return "v1" if configured in ("v1", "v2") else configured


def plan_test_events(events: list[tuple[str, dict[str, Any]]], version: str = "v1") -> list[ApiCall]:
    return [send(kind, body, version) for kind, body in events]
