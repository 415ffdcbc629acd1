"""The engagement event as the intake stores it and the worker sends it: one contract.

The intake (HTTP) builds an ``EventRecord`` from what the player reported and commits it
as a job; the worker reads it back and maps it to HubSpot's body at send time, because
the HubSpot object id (``mediaBridgeId``) may only be known after a later sync.
Refuses kinds and fields outside HubSpot's enums.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from oembed_server.domain.email_plays import is_contact_id

PLAYED = "played"
QUARTILE = "quartile"
ATTENTION = "attention"
KINDS = (PLAYED, QUARTILE, ATTENTION)

# Job kinds in the shared queue, and their order within a portal's budget.
JOB_KIND = {PLAYED: "event.played", QUARTILE: "event.quartile", ATTENTION: "event.attention"}
JOB_PRIORITY = {PLAYED: 10, ATTENTION: 20, QUARTILE: 30}
# Quartiles 25/50/75 come last of all, and are the first shed from a backlog longer than
# OEMBED_EVENTS_MAX_BACKLOG_HOURS (domain.backlog_plan); the 0 and 100 quartiles stay.
INTERMEDIATE_QUARTILES = (25, 50, 75)
SHEDDABLE_PRIORITY = 35
KIND_OF_JOB = {job: kind for kind, job in JOB_KIND.items()}

MEDIA_TYPES = ("VIDEO", "AUDIO", "IMAGE", "DOCUMENT", "OTHER")
PLAY_STATES = ("STARTED", "VIEWED")
QUARTILES = (0, 25, 50, 75, 100)
EMAIL = "EMAIL"
PLAY_CONTEXTS = (EMAIL, "EXTERNAL_PAGE")


@dataclasses.dataclass(frozen=True)
class EventRecord:
    kind: str
    external_id: str
    media_type: str
    session_id: str
    occurred_at_ms: int
    # None: a page outside HubSpot; the worker sends it to the configured portal.
    portal_id: int | None = None
    # Visitor fields: all None when the viewer asked not to be tracked (dnt / GPC).
    contact_utk: str | None = None
    page_id: str | None = None
    page_name: str | None = None
    page_url: str | None = None
    hsenc: str | None = None
    external_play_context: str | None = None
    contact_id: int | None = None         # the contact an email link named (domain.email_plays)
    state: str | None = None              # PLAYED only: STARTED or VIEWED
    played_percent: int | None = None     # QUARTILE only: 0, 25, 50, 75 or 100
    spans: tuple[int, ...] | None = None  # ATTENTION only: play count per span, in order
    span_seconds: float | None = None     # ATTENTION only: seconds of media per span
    duration_seconds: float | None = None

    def __post_init__(self) -> None:
        problem = record_problem(self)
        if problem:
            raise ValueError(problem)

    @property
    def job_kind(self) -> str:
        return JOB_KIND[self.kind]

    @property
    def job_priority(self) -> int:
        if self.kind == QUARTILE and self.played_percent in INTERMEDIATE_QUARTILES:
            return SHEDDABLE_PRIORITY
        return JOB_PRIORITY[self.kind]

    def to_payload(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy of every field is a tenth of a report's cost.
        payload = {name: value for name in _FIELD_NAMES if (value := getattr(self, name)) is not None}
        if self.spans is not None:
            payload["spans"] = list(self.spans)
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> EventRecord:
        values = {k: v for k, v in payload.items() if k in _FIELD_NAMES}
        if values.get("spans") is not None:
            values["spans"] = tuple(values["spans"])
        return cls(**values)


_FIELD_NAMES = tuple(field.name for field in dataclasses.fields(EventRecord))


def record_problem(record: EventRecord) -> str | None:
    """What makes a record unsendable, or None. The intake validates the player's input
    with precise messages first; this is the last guard of the contract."""
    if record.kind not in KINDS:
        return f"kind must be one of {', '.join(KINDS)}"
    if record.media_type not in MEDIA_TYPES:
        return f"media_type must be one of {', '.join(MEDIA_TYPES)}"
    if record.kind == PLAYED and record.state not in PLAY_STATES:
        return "a played event needs state STARTED or VIEWED"
    if record.kind == QUARTILE and record.played_percent not in QUARTILES:
        return "a quartile event needs played_percent 0, 25, 50, 75 or 100"
    if record.kind == ATTENTION and (not record.spans or not record.span_seconds):
        return "an attention event needs spans and span_seconds"
    if record.external_play_context is not None and record.external_play_context not in PLAY_CONTEXTS:
        return f"external_play_context must be one of {', '.join(PLAY_CONTEXTS)}"
    if record.contact_id is not None and not is_contact_id(record.contact_id):
        return "contact_id must be a positive whole number within int64"
    return None
