"""Reading back the media events the emulator received, as HubSpot would show them.

HubSpot shows a session on the contact timeline only when it has a played event; its
quartile and attention events alone show nothing. ``timeline`` applies that rule;
``received`` is everything that arrived, for counting duplicates."""
from __future__ import annotations

import collections
from typing import Any

from tests.hubspot_emulator.state import EmulatorState


def received(state: EmulatorState, portal_id: int | None = None, version: int | None = 2) -> list[dict[str, Any]]:
    """Every event body that arrived (in order), for one portal or all."""
    with state.lock:
        entries = list(state.events)
    return [e["event"] for e in entries if (version is None or e["version"] == version)
            and (portal_id is None or e["event"]["portalId"] == portal_id)]


def identity(event: dict[str, Any]) -> tuple:
    """What makes one event distinct within a session."""
    return (event["eventType"], event["sessionId"], event.get("playedPercent"), event["occurredTimestamp"])


def duplicates(events: list[dict[str, Any]]) -> dict[tuple, int]:
    counts = collections.Counter(identity(e) for e in events)
    return {key: n for key, n in counts.items() if n > 1}


def timeline(state: EmulatorState, portal_id: int) -> dict[str, list[dict[str, Any]]]:
    """Session id -> its events, for the sessions HubSpot would show (those with a played event)."""
    sessions: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    with state.lock:
        entries = [e for e in state.events if not e.get("rejected")]
    for entry in entries:
        event = entry["event"]
        if event["portalId"] == portal_id:
            sessions[event["sessionId"]].append(event)
    return {sid: events for sid, events in sessions.items()
            if any(e["eventType"] == "media-played" for e in events)}


def contact_timeline(state: EmulatorState, portal_id: int, contact_id: int | str) -> dict[str, list[dict[str, Any]]]:
    """``timeline`` narrowed to the sessions HubSpot shows on one contact's record: those
    whose events name the contact by id, or by a visitor token (``contactUtk``) a form
    submission tied to it."""
    data = state.data(portal_id)
    with state.lock:
        tokens = {utk for utk, contact in data.utk_contacts.items() if contact == str(contact_id)}
    return {sid: events for sid, events in timeline(state, portal_id).items()
            if any(str(e.get("contactId")) == str(contact_id) or e.get("contactUtk") in tokens for e in events)}
