"""The pure rules behind media pages' structured data and the email play parameters."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from oembed_server.domain.email_plays import CONTACT_ID_MAX, EmailPlay, email_play
from oembed_server.domain.event_mapping import hubspot_event
from oembed_server.domain.event_record import EventRecord
from oembed_server.domain.player_tokens import PlayerClaims, issue_token, read_token
from oembed_server.domain.structured_data import iso_datetime, iso_duration, transcript_text

KEY = "unit-secret-key-0123456789-abcdefghijklmnop"


@pytest.mark.parametrize("ms, expected", [
    (None, None), (0, None), (400, "PT1S"), (8003, "PT8S"), (60_000, "PT1M"), (253_000, "PT4M13S"),
    (3_600_000, "PT1H"), (3_723_400, "PT1H2M3S")])
def test_iso_duration(ms, expected):
    assert iso_duration(ms) == expected


def test_iso_datetime_always_has_a_timezone():
    assert iso_datetime(datetime(2026, 3, 1, 9, 0, 0, 500)) == "2026-03-01T09:00:00+00:00"
    assert iso_datetime(datetime(2026, 3, 1, 9, tzinfo=UTC)) == "2026-03-01T09:00:00+00:00"
    assert iso_datetime(datetime(2026, 3, 1, 9, tzinfo=timezone(timedelta(hours=2)))) == "2026-03-01T09:00:00+02:00"


def test_transcript_text():
    vtt = "WEBVTT\n\n00:00.000 --> 00:01.000\n<v Ann>Hello <b>there</b></v>\n\n00:01.000 --> 00:02.000\nBye\n"
    assert transcript_text(vtt) == "Ann: Hello there\nBye"
    assert transcript_text("not webvtt") is None
    assert transcript_text("WEBVTT\n") is None


@pytest.mark.parametrize("args, expected", [
    ({}, None),
    ({"contact_id": "42"}, None),  # no marker, no meaning
    ({"play_from": "EMAIL", "contact_id": "42"}, None),
    ({"play_from": "email"}, EmailPlay(None)),
    ({"play_from": "email", "contact_id": "42"}, EmailPlay(42)),
    ({"play_from": "email", "contact_id": "0"}, EmailPlay(None)),
    ({"play_from": "email", "contact_id": "+42"}, EmailPlay(None)),
    ({"play_from": "email", "contact_id": "٤٢"}, EmailPlay(None)),
    ({"play_from": "email", "contact_id": str(CONTACT_ID_MAX)}, EmailPlay(CONTACT_ID_MAX)),
    ({"play_from": "email", "contact_id": str(CONTACT_ID_MAX + 1)}, EmailPlay(None)),
])
def test_email_play_parameters(args, expected):
    assert email_play(args) == expected


def test_tokens_carry_the_email_visit_and_plain_tokens_stay_as_they_were():
    plain = PlayerClaims("clip", "VIDEO", None, False)
    email = PlayerClaims("clip", "VIDEO", None, False, from_email=True, contact_id=42)
    anonymous_email = PlayerClaims("clip", "VIDEO", None, False, from_email=True)
    for claims in (plain, email, anonymous_email):
        assert read_token(KEY, issue_token(KEY, claims)) == claims
    assert len(issue_token(KEY, email)) > len(issue_token(KEY, plain))


def test_an_email_record_maps_to_contact_id_and_email_context():
    record = EventRecord(kind="played", external_id="clip", media_type="VIDEO", session_id="s" * 20,
                         occurred_at_ms=1, state="STARTED", external_play_context="EMAIL", contact_id=42)
    _, body = hubspot_event(record, None, public_url="https://m.example", links=None)
    assert body["contactId"] == 42 and body["externalPlayContext"] == "EMAIL" and "contactUtk" not in body
    with pytest.raises(ValueError, match="contact_id"):
        EventRecord(kind="played", external_id="clip", media_type="VIDEO", session_id="s" * 20,
                    occurred_at_ms=1, state="STARTED", contact_id=0)
