"""Journal entries read tolerantly (their shape is unpublished): the containers and field
names HubSpot's payloads suggest, and anything unreadable kept with its raw text."""
from __future__ import annotations

import json

import pytest

from oembed_server.domain.journal_entries import (
    INSTALL,
    OTHER,
    UNINSTALL,
    LifecycleEntry,
    Unreadable,
    parse_journal_file,
)

ENTRY = {"portalId": 501, "action": "APP_UNINSTALL", "occurredAt": 1767225600000, "appId": 4242, "id": "e-1"}


@pytest.mark.parametrize("text", [
    json.dumps([ENTRY]),
    json.dumps({"results": [ENTRY]}),
    json.dumps({"events": [ENTRY]}),
    json.dumps(ENTRY),
    json.dumps(ENTRY) + "\n",
])
def test_the_containers_a_journal_file_may_use(text):
    assert parse_journal_file(text) == [LifecycleEntry(UNINSTALL, 501, 1767225600.0, "e-1", 4242)]


def test_one_entry_per_line():
    text = json.dumps(ENTRY) + "\n\n" + json.dumps(ENTRY | {"portalId": 502, "action": "APP_INSTALL"})
    assert [(e.action, e.portal_id) for e in parse_journal_file(text)] == [(UNINSTALL, 501), (INSTALL, 502)]


@pytest.mark.parametrize(("fields", "action"), [
    ({"eventTypeId": "4-1916193"}, UNINSTALL),
    ({"objectTypeId": "4-1909196"}, INSTALL),
    ({"actions": ["APP_UNINSTALL"]}, UNINSTALL),
    ({"action": "app_uninstall"}, UNINSTALL),
    ({"subscriptionType": "GDPR_PRIVACY_DELETION", "actions": ["GDPR_DELETE"]}, OTHER),
    ({"action": "CREATE"}, OTHER),
])
def test_what_happened_is_read_from_the_action_or_the_event_type(fields, action):
    [entry] = parse_journal_file(json.dumps({"installPortalId": "501"} | fields))
    assert isinstance(entry, LifecycleEntry) and (entry.action, entry.portal_id) == (action, 501)


def test_times_in_milliseconds_seconds_or_iso():
    for when, seconds in ((1767225600000, 1767225600.0), (1767225600, 1767225600.0),
                          ("2026-01-01T00:00:00Z", 1767225600.0), ("soon", None)):
        [entry] = parse_journal_file(json.dumps(ENTRY | {"occurredAt": when}))
        assert entry.occurred_at == seconds


@pytest.mark.parametrize(("text", "reason"), [
    ("<html>502 Bad Gateway</html>", "neither JSON"),
    (json.dumps([{"action": "APP_UNINSTALL"}]), "no portal id"),
    (json.dumps([{"portalId": 0, "action": "APP_UNINSTALL"}]), "no portal id"),
    (json.dumps([{"portalId": True, "action": "APP_UNINSTALL"}]), "no portal id"),
    (json.dumps([{"portalId": 501}]), "what happened"),
    (json.dumps([7]), "JSON object"),
])
def test_what_cannot_be_read_is_kept_with_its_raw_text(text, reason):
    [entry] = parse_journal_file(text)
    assert isinstance(entry, Unreadable) and reason in entry.reason
    if text.startswith("["):
        text = json.dumps(json.loads(text)[0], separators=(",", ":"), sort_keys=True)
    assert entry.raw == text


def test_an_empty_file_holds_nothing_and_a_huge_one_is_clipped():
    assert parse_journal_file("  \n") == []
    [entry] = parse_journal_file("x" * 50_000)
    assert isinstance(entry, Unreadable) and len(entry.raw) < 20_100 and entry.raw.endswith("(50000 characters)")
