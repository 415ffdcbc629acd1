"""EventRecord -> HubSpot v2 body: pure mapping, checked field by field and against the
request schemas in HubSpot's published OpenAPI spec."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from oembed_server.domain.event_mapping import attention_fields, hubspot_event
from oembed_server.domain.event_record import EventRecord
from oembed_server.domain.media import MediaItem, MediaType
from oembed_server.domain.session_links import link_keys, session_id_from_token

PUBLIC = "https://media.example.com"
KEY = link_keys("k" * 40, b"links-salt")
SPEC = Path(__file__).parents[1] / "hubspot_emulator" / "openapi" / "media-bridge-v1.json"
SCHEMA_OF = {"media-played": "MediaPlayedEventRequest", "media-played-percent": "MediaPlayedPercentageEventRequest",
             "attention-span": "AttentionSpanEventRequest"}
ITEM = MediaItem("clip-1", MediaType.VIDEO, "Launch film", duration_ms=25_000, hubspot_object_id="9001")


def record(kind="played", **fields):
    base = dict(kind=kind, external_id="clip-1", media_type="VIDEO", session_id="s-123",
                occurred_at_ms=1_700_000_000_123, portal_id=777, contact_utk="utk-1", page_id="42", hsenc="enc",
                external_play_context="EMAIL")
    extra = {"played": {"state": "STARTED"}, "quartile": {"played_percent": 50},
             "attention": {"spans": (2, 2, 1, 0), "span_seconds": 10.0, "duration_seconds": 35.0}}[kind]
    return EventRecord(**(base | extra | fields))


def test_played_event_carries_media_visitor_and_a_signed_session_link():
    kind, body = hubspot_event(record(), ITEM, public_url=PUBLIC, links=KEY)
    assert kind == "media-played"
    link = body.pop("iframeUrl")
    assert link.startswith(f"{PUBLIC}/insights/session/")
    assert session_id_from_token(KEY, link.rsplit("/", 1)[1]) == "s-123"
    assert body == {"mediaType": "VIDEO", "sessionId": "s-123", "occurredTimestamp": 1_700_000_000_123,
                    "mediaBridgeId": 9001, "mediaName": "Launch film", "mediaUrl": f"{PUBLIC}/media/clip-1",
                    "contactUtk": "utk-1", "pageId": 42, "externalPlayContext": "EMAIL", "_hsenc": "enc",
                    "state": "STARTED"}


def test_without_a_synced_object_the_external_id_identifies_the_media():
    unsynced = MediaItem("clip-1", MediaType.VIDEO, "Launch film")
    _, body = hubspot_event(record("quartile"), unsynced, public_url=PUBLIC, links=KEY)
    assert body["externalId"] == "clip-1" and "mediaBridgeId" not in body
    assert body["playedPercent"] == 50 and "state" not in body and "iframeUrl" not in body
    _, gone = hubspot_event(record("quartile"), None, public_url=PUBLIC, links=KEY)
    assert gone["externalId"] == "clip-1" and "mediaName" not in gone


def test_pages_outside_hubspot_send_name_and_url_and_untracked_visitors_send_nothing_personal():
    _, body = hubspot_event(record(page_id=None, page_name="Blog", page_url="https://site.test/b"), ITEM,
                            public_url=PUBLIC, links=None)
    assert (body["pageName"], body["pageUrl"]) == ("Blog", "https://site.test/b") and "pageId" not in body
    assert "iframeUrl" not in body  # no stable key, no link that would die with the process
    _, dnt = hubspot_event(record(contact_utk=None, page_id=None, hsenc=None, external_play_context=None), ITEM,
                           public_url=PUBLIC, links=KEY)
    assert not {"contactUtk", "pageId", "pageName", "pageUrl", "_hsenc", "externalPlayContext"} & set(dnt)


def test_attention_span_maps_counts_and_derives_both_totals():
    kind, body = hubspot_event(record("attention"), ITEM, public_url=PUBLIC, links=KEY)
    assert kind == "attention-span"
    assert body["rawDataMap"] == {"0": 2, "1": 2, "2": 1, "3": 0}
    assert body["rawDataString"] == "0=2;1=2;2=1;3=0;"
    # 3 of 4 spans played; seconds: 2*10 + 2*10 + 1*10 + 0*5 (the last span is 5 s long).
    assert body["derivedValues"] == {"totalPercentPlayed": 75.0, "totalSecondsPlayed": 50}
    assert isinstance(body["derivedValues"]["totalSecondsPlayed"], int)


def test_seconds_are_rounded_to_whole_seconds():
    derived = attention_fields((1, 1, 1), 0.4)["derivedValues"]
    assert derived == {"totalPercentPlayed": 100.0, "totalSecondsPlayed": 1}


def _check(schema: dict, value, schemas: dict, where: str) -> None:
    if "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    kind = schema.get("type")
    if kind == "object":
        assert isinstance(value, dict), where
        missing = set(schema.get("required", ())) - set(value)
        assert not missing, f"{where}: missing {missing}"
        props = schema.get("properties")
        if props is not None:
            assert not set(value) - set(props), f"{where}: unknown {set(value) - set(props)}"
            for key, sub in value.items():
                _check(props[key], sub, schemas, f"{where}.{key}")
        elif "additionalProperties" in schema:
            for key, sub in value.items():
                _check(schema["additionalProperties"], sub, schemas, f"{where}[{key}]")
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: {value!r} is not an integer"
    elif kind == "number":
        assert isinstance(value, (int, float)) and not isinstance(value, bool), where
    elif kind == "string":
        assert isinstance(value, str), where
        assert "enum" not in schema or value in schema["enum"], f"{where}: {value!r} outside the enum"


@pytest.mark.parametrize("kind", ["played", "quartile", "attention"])
def test_bodies_match_hubspots_published_request_schemas(kind):
    schemas = json.loads(SPEC.read_text())["components"]["schemas"]
    for item, page in ((ITEM, {}), (None, {"page_id": None, "page_name": "P", "page_url": "https://p.test/"})):
        event, body = hubspot_event(record(kind, **page), item, public_url=PUBLIC, links=KEY)
        _check(schemas[SCHEMA_OF[event]], body, schemas, event)
