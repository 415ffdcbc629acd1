"""send_test_event: three v1 events in HubSpot's field names, HubSpot's answers printed."""
from __future__ import annotations

import json

import pytest

from oembed_server.domain.media import MediaType
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.usecases.check_events import (
    EventContext,
    attention_spans,
    build_test_events,
    raw_data_string,
)
from tests.hubspot_emulator.testing import (
    PUBLIC_URL,
    assert_no_secrets,
    make_catalog,
    media_item,
    run_script,
    script_env,
)


@pytest.fixture
def synced(emulator, sqlite_url):
    emulator.state.define_media_types("VIDEO")
    make_catalog(sqlite_url, {MediaType.VIDEO: 2})
    assert run_script("sync_media", env=script_env(emulator, sqlite_url)).returncode == 0
    return emulator


def test_script_sends_played_quartile_and_attention_span(synced, sqlite_url):
    env = script_env(synced, sqlite_url)
    result = run_script("send_test_event", "--media", "video-00001", "--contact-utk", "utk-123", "--percent", "50",
                        "--session-id", "s-1", "--json", env=env)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)["result"]["answers"]
    assert [a["event"] for a in answers] == ["media-played", "media-played-percent", "attention-span"]
    events = [e for e in synced.state.events if e["version"] == 1]
    object_id = int(CatalogStore.from_url(sqlite_url).get("video-00001").hubspot_object_id)
    assert all(e["event"]["mediaBridgeId"] == object_id and e["event"]["contactUtk"] == "utk-123"
               and e["event"]["sessionId"] == "s-1" for e in events)
    assert events[1]["event"]["playedPercent"] == 50
    assert events[2]["event"]["derivedValues"] == {"totalPercentPlayed": 50.0, "totalSecondsPlayed": 0}
    assert events[0]["event"]["pageUrl"] == f"{PUBLIC_URL}/media/video-00001"
    assert_no_secrets(result.stdout + result.stderr, synced)


def test_dry_run_sends_nothing(synced, sqlite_url):
    before = len(synced.state.requests)
    result = run_script("send_test_event", "--media", "video-00000", "--contact-utk", "u", "--dry-run",
                        env=script_env(synced, sqlite_url))
    assert result.returncode == 0, result.stderr
    assert len(synced.state.requests) == before
    assert result.stdout.count("/media-bridge/v1/events/") == 3
    assert result.stdout.startswith("Dry run: nothing was sent. The run would send 3 request(s):")


def test_unknown_media_and_rejected_events_are_one_line_errors(synced, sqlite_url):
    env = script_env(synced, sqlite_url)
    missing = run_script("send_test_event", "--media", "nope", "--contact-utk", "u", env=env)
    assert missing.returncode == 1 and "no catalog item" in missing.stderr
    nobody = run_script("send_test_event", "--media", "video-00000", env=env)
    assert nobody.returncode == 1 and "--contact-utk" in nobody.stderr
    synced.state.objects["a4242_Videos"].clear()  # the media vanished from HubSpot
    synced.state.unique_index.clear()
    refused = run_script("send_test_event", "--media", "video-00000", "--contact-utk", "u", env=env)
    assert refused.returncode == 1 and refused.stderr.startswith("error: HubSpot 400 VALIDATION_ERROR")


def test_attention_spans_and_events_are_built_in_hubspot_names():
    assert attention_spans(25) == {str(i): int(i < 2) for i in range(10)}  # round(2.5) == 2
    assert raw_data_string({"1": 0, "0": 2}) == "0=2;1=0;"
    item = media_item("clip", MediaType.AUDIO, hubspot_object_id=None, duration_ms=None)
    ctx = EventContext("s", 1_700_000_000_000, contact_id=42, page_id=9)
    played, quartile, span = build_test_events(item, PUBLIC_URL, ctx, 100)
    assert played[1]["externalId"] == "clip" and "mediaBridgeId" not in played[1]
    assert played[1]["contactId"] == 42 and "contactUtk" not in played[1] and played[1]["pageId"] == 9
    assert quartile[1]["playedPercent"] == 100 and "state" not in quartile[1]
    assert "derivedValues" not in span[1] and "mediaName" not in span[1]
    with pytest.raises(ValueError, match="quartile"):
        build_test_events(item, PUBLIC_URL, ctx, 30)
    with pytest.raises(ValueError, match="page"):
        build_test_events(item, PUBLIC_URL, EventContext("s", 1, contact_utk="u"), 25)
