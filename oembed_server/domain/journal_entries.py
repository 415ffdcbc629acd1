"""What a Webhooks Journal file says about app installs and uninstalls, read tolerantly.

HubSpot has not published the shape of a journal entry, so this accepts the shapes its
other payloads suggest: a file holding a JSON array of entries, an object listing them
under ``results``/``events``/``entries``/``records``/``data``, a single entry, or one JSON
value per line. An entry is an app lifecycle event when its action (``action``, or one of
``actions``) is ``APP_UNINSTALL``/``APP_INSTALL`` or its event type id (``eventTypeId``,
``objectTypeId``, ``eventType``) is ``4-1916193``/``4-1909196``; its portal is ``portalId``
(or ``installPortalId``, ``hubId``, ``portal_id``). Anything else that is an entry of
another subscription is ``OTHER``; what cannot be read at all (not JSON, no portal, no
action) is an ``Unreadable`` carrying its raw text, for a dead letter: never skipped
silently."""
from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime
from typing import Any

UNINSTALL = "uninstall"
INSTALL = "install"
OTHER = "other"
EVENT_TYPES = {"4-1916193": UNINSTALL, "4-1909196": INSTALL}
ACTIONS = {"APP_UNINSTALL": UNINSTALL, "APP_INSTALL": INSTALL}
LIST_KEYS = ("results", "events", "entries", "records", "data")
PORTAL_KEYS = ("portalId", "installPortalId", "hubId", "portal_id")
TYPE_KEYS = ("eventTypeId", "objectTypeId", "eventType")
TIME_KEYS = ("occurredAt", "occurredTimestamp", "timestamp", "createdAt")
# A dead letter keeps at most this much of what it could not read.
RAW_LIMIT = 20_000


@dataclasses.dataclass(frozen=True)
class LifecycleEntry:
    action: str  # UNINSTALL | INSTALL | OTHER
    portal_id: int
    occurred_at: float | None  # epoch seconds
    entry_id: str | None
    app_id: int | None


@dataclasses.dataclass(frozen=True)
class Unreadable:
    raw: str
    reason: str


Entry = LifecycleEntry | Unreadable


def parse_journal_file(text: str) -> list[Entry]:
    """Every entry of one journal file, in order."""
    stripped = text.strip()
    if not stripped:
        return []
    try:
        values = [json.loads(stripped)]
    except ValueError:
        values = []
        for line in stripped.splitlines():
            if not line.strip():
                continue
            try:
                values.append(json.loads(line))
            except ValueError:
                return [Unreadable(_clip(text), "the journal file is neither JSON nor one JSON value per line")]
    entries: list[Entry] = []
    for value in values:
        entries.extend(parse_entry(item) for item in _items(value))
    return entries


def _items(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in LIST_KEYS:
            listed = value.get(key)
            if isinstance(listed, list):
                return listed
    return [value]


def parse_entry(value: Any) -> Entry:
    raw = _clip(json.dumps(value, separators=(",", ":"), sort_keys=True, default=str))
    if not isinstance(value, dict):
        return Unreadable(raw, "a journal entry must be a JSON object")
    portal_id = next((p for p in (_positive_int(value.get(k)) for k in PORTAL_KEYS) if p is not None), None)
    if portal_id is None:
        return Unreadable(raw, f"no portal id ({', '.join(PORTAL_KEYS)})")
    action = _action(value)
    if action is None:
        return Unreadable(raw, "neither an action nor an event type id says what happened")
    app_id = _positive_int(value.get("appId"))
    entry_id = value.get("id", value.get("eventId"))
    return LifecycleEntry(action, portal_id, _seconds(value), None if entry_id is None else str(entry_id), app_id)


def _action(value: dict[str, Any]) -> str | None:
    actions = value.get("actions")
    named = [value.get("action"), *(actions if isinstance(actions, list) else [])]
    for name in named:
        if isinstance(name, str) and name.upper() in ACTIONS:
            return ACTIONS[name.upper()]
    for key in TYPE_KEYS:
        if value.get(key) in EVENT_TYPES:
            return EVENT_TYPES[value[key]]
    subscription = value.get("subscriptionType")
    if any(isinstance(n, str) and n for n in named) or (isinstance(subscription, str)
                                                         and subscription != "APP_LIFECYCLE_EVENT"):
        return OTHER  # another subscription's entry (a GDPR deletion, a CRM change): not ours to act on
    return None


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and value > 0 else None


def _seconds(value: dict[str, Any]) -> float | None:
    for key in TIME_KEYS:
        when = value.get(key)
        if isinstance(when, (int, float)) and not isinstance(when, bool) and math.isfinite(when) and when > 0:
            return when / 1000 if when > 1e11 else float(when)  # milliseconds, as HubSpot sends them
        if isinstance(when, str):
            try:
                return datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None


def _clip(text: str) -> str:
    return text if len(text) <= RAW_LIMIT else text[:RAW_LIMIT] + f"... ({len(text)} characters)"
