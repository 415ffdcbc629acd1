"""What a HubSpot webhook delivery must look like, and the dedupe key that makes a
redelivered event (attemptNumber grown) the same event."""
from __future__ import annotations

import json

import pytest

from oembed_server.domain.webhook_events import MAX_EVENTS, BatchRefused, parse_batch


def event(**fields):
    return {"eventId": 100, "subscriptionId": 2001, "portalId": 62515, "appId": 54321, "occurredAt": 1767225600000,
            "subscriptionType": "contact.privacyDeletion", "attemptNumber": 0, "objectId": 123456} | fields


def raw(value) -> bytes:
    return json.dumps(value).encode()


def test_a_batch_parses_into_events_that_name_what_to_erase():
    events = parse_batch(raw([event(), event(eventId=101, subscriptionType="contact.deletion"),
                              event(eventId=102, subscriptionType="contact.creation")]))
    assert [e.event_id for e in events] == [100, 101, 102]
    assert [e.erases_contact for e in events] == [True, True, False]
    assert events[0].portal_id == 62515 and events[0].object_id == 123456 and events[0].app_id == 54321


def test_a_redelivery_has_the_same_dedupe_key_and_another_event_does_not():
    first, again, other, elsewhere = parse_batch(raw([event(), event(attemptNumber=3), event(eventId=101),
                                                      event(portalId=1)]))
    key = "k" * 40
    assert first.dedupe_key(key) == again.dedupe_key(key)
    assert len({first.dedupe_key(key), other.dedupe_key(key), elsewhere.dedupe_key(key)}) == 3
    # Keyed: without the secret, trying every contact id finds nothing.
    assert first.dedupe_key(key) != first.dedupe_key("another key") and "123456" not in first.dedupe_key(key)


@pytest.mark.parametrize("body, status, message", [
    (b"not json", 400, "not valid JSON"),
    (b"\xff\xfe", 400, "not valid JSON"),
    (raw({"events": []}), 400, "JSON array"),
    (raw([]), 400, "no events"),
    (raw(["x"]), 400, "event 0 is not a JSON object"),
    (raw([event(eventId="100")]), 400, "eventId"),
    (raw([event(portalId=True)]), 400, "portalId"),
    (raw([event(occurredAt=None)]), 400, "occurredAt"),
    (raw([event(subscriptionType="")]), 400, "subscriptionType"),
    (raw([event(objectId=None)]), 400, "needs objectId"),
    (raw([event(objectId=-4)]), 400, "objectId"),
    (raw([event(eventId=i) for i in range(MAX_EVENTS + 1)]), 413, "at most 100"),
    (b"[" + b" " * 300_000 + b"]", 413, "larger than"),
])
def test_malformed_and_oversized_batches_are_refused(body, status, message):
    with pytest.raises(BatchRefused) as refused:
        parse_batch(body)
    assert refused.value.status == status and message in refused.value.message


def test_a_full_batch_of_100_is_taken():
    assert len(parse_batch(raw([event(eventId=i) for i in range(MAX_EVENTS)]))) == MAX_EVENTS
