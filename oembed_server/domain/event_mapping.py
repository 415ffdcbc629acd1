"""From an engagement record and its catalog item to HubSpot's v2 media event body: pure
data in, pure data out, no I/O.

Field names and types follow HubSpot's published request schemas (openapi/ in the shared
reference), which supersede the guide's older names (mediaBridgeObjectId, top-level
totalPercentPlayed). Refuses nothing itself: records are checked when built
(``record.record_problem``); a record whose catalog item has gone is still sent, by
``externalId``, because the play happened.
"""
from __future__ import annotations

from typing import Any

from oembed_server.domain.event_record import ATTENTION, PLAYED, QUARTILE, EventRecord
from oembed_server.domain.media import MediaItem, media_page_url
from oembed_server.domain.session_links import LinkKeys, session_page_url

# HubSpot's path segment for each record kind (/media-bridge/v2/events/<segment>).
EVENT_PATH = {PLAYED: "media-played", QUARTILE: "media-played-percent", ATTENTION: "attention-span"}


def hubspot_event(record: EventRecord, item: MediaItem | None, *, public_url: str,
                  links: LinkKeys | None) -> tuple[str, dict[str, Any]]:
    """(HubSpot event kind, body). ``links`` makes the played event's ``iframeUrl``; None
    leaves it out (keys from a secret that changes per process would make the link dead)."""
    body: dict[str, Any] = {
        "mediaType": record.media_type,
        "sessionId": record.session_id,
        "occurredTimestamp": int(record.occurred_at_ms),
    }
    # HubSpot prefers mediaBridgeId over externalId when both come, so send the one we trust:
    # the object id the sync recorded, else our external id (HubSpot matches hs_external_id).
    if item is not None and item.hubspot_object_id and str(item.hubspot_object_id).isdigit():
        body["mediaBridgeId"] = int(item.hubspot_object_id)
    else:
        body["externalId"] = record.external_id
    if item is not None:
        body["mediaName"] = item.title
    body["mediaUrl"] = media_page_url(public_url, record.external_id)
    body.update(_visitor_fields(record))

    if record.kind == PLAYED:
        body["state"] = record.state
        if links is not None:
            body["iframeUrl"] = session_page_url(public_url, links, record.session_id)
    elif record.kind == QUARTILE:
        assert record.played_percent is not None  # record_problem refuses a quartile without it
        body["playedPercent"] = int(record.played_percent)
    else:
        assert record.spans is not None and record.span_seconds is not None  # as record_problem requires
        body.update(attention_fields(record.spans, record.span_seconds, record.duration_seconds))
    return EVENT_PATH[record.kind], body


def _visitor_fields(record: EventRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    # HubSpot takes contactId over contactUtk; both go, so neither is lost to a bad id.
    if record.contact_id is not None:
        fields["contactId"] = int(record.contact_id)
    if record.contact_utk:
        fields["contactUtk"] = record.contact_utk
    # HubSpot pages are known by id; any other page needs both its name and its URL.
    if record.page_id is not None and str(record.page_id).isdigit():
        fields["pageId"] = int(record.page_id)
    elif record.page_name and record.page_url:
        fields["pageName"] = record.page_name
        fields["pageUrl"] = record.page_url
    if record.external_play_context:
        fields["externalPlayContext"] = record.external_play_context
    if record.hsenc:
        fields["_hsenc"] = record.hsenc
    return fields


def attention_fields(spans: tuple[int, ...], span_seconds: float,
                     duration_seconds: float | None = None) -> dict[str, Any]:
    """rawDataMap, rawDataString and derivedValues for per-span play counts."""
    raw = {str(index): int(count) for index, count in enumerate(spans)}
    played = sum(1 for count in spans if count > 0)
    seconds = 0.0
    for index, count in enumerate(spans):
        length = span_seconds
        if duration_seconds:
            # The last span of media whose length is not a whole number of spans is shorter.
            length = max(0.0, min(span_seconds, duration_seconds - index * span_seconds))
        seconds += count * length
    return {
        "rawDataMap": raw,
        "rawDataString": raw_data_string(raw),
        # HubSpot's schema requires both totals together. totalPercentPlayed is HubSpot's own
        # default (spans played at least once over all spans); totalSecondsPlayed is the
        # cumulative play time, rewatches included, and an int32 in the schema.
        "derivedValues": {
            "totalPercentPlayed": round(100 * played / len(spans), 2),
            "totalSecondsPlayed": int(round(seconds)),
        },
    }


def raw_data_string(raw: dict[str, int]) -> str:
    """HubSpot's rawDataString: "0=2;1=2;2=1;" in span order."""
    return "".join(f"{k}={v};" for k, v in sorted(raw.items(), key=lambda kv: int(kv[0])))
