"""From the JSON a player posted to a checked report, or a refusal naming the field.

Pure: no Flask, no database, no clock of its own (the caller passes ``now_ms``). Every
field is checked for type, enum, length and range; fields the kind does not carry and
fields nobody defined are refused, so a report either means exactly one thing or is
rejected. The token is only checked for shape here (``player_tokens`` verifies it); the
media type comes from the verified token, not from the player.
"""
from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

from oembed_server.domain.attention_spans import MAX_SPANS, span_layout
from oembed_server.domain.event_record import (
    ATTENTION,
    EMAIL,
    KINDS,
    PLAY_CONTEXTS,
    PLAY_STATES,
    PLAYED,
    QUARTILE,
    QUARTILES,
    EventRecord,
)
from oembed_server.domain.media import external_id_problem, is_absolute_http_url
from oembed_server.domain.session_binding import SESSION_SECRET_RE

# A report may be delayed (a beacon sent as the tab closed, a phone waking up) but not by days.
MAX_AGE_MS = 48 * 3600 * 1000
# Clocks drift; a timestamp further ahead than this was made up.
MAX_FUTURE_MS = 10 * 60 * 1000
# Longest media the player reports on: a day (a live stream is not a timeline).
MAX_DURATION_SECONDS = 24 * 3600
# A span watched more often than this in one session is not a person watching.
MAX_SPAN_COUNT = 10_000
SESSION_ID_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_TOKEN_RE = re.compile(r"[A-Za-z0-9_.\-]{1,1024}")
_UTK_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_PAGE_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
MAX_PAGE_NAME = 1024
MAX_PAGE_URL = 2048
MAX_HSENC = 1024
# A span_seconds that differs from the rule by less than this is float noise.
_SPAN_TOLERANCE = 1e-6

COMMON_FIELDS = frozenset({"token", "kind", "externalId", "sessionId", "sessionSecret", "occurredTimestamp", "portalId",
                           "contactUtk", "pageId", "pageName", "pageUrl", "hsenc", "externalPlayContext", "dnt"})
KIND_FIELDS = {
    PLAYED: frozenset({"state"}),
    QUARTILE: frozenset({"playedPercent"}),
    ATTENTION: frozenset({"spans", "spanSeconds", "durationSeconds", "final"}),
}
# What identifies a visitor: never stored when they asked not to be tracked.
VISITOR_FIELDS = ("contact_utk", "page_id", "page_name", "page_url", "hsenc", "contact_id")


class ReportError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclasses.dataclass(frozen=True)
class PlayerReport:
    """A checked report: the record to store, and what only the intake needs to know."""
    record: EventRecord
    dnt: bool = False     # the player says its visitor opted out
    final: bool = False   # attention only: the session is over
    # The player's secret for this session (domain.session_binding); never stored as sent.
    session_secret: str = dataclasses.field(default="", repr=False)

    def without_visitor(self) -> PlayerReport:
        cleared: dict[str, Any] = dict.fromkeys(VISITOR_FIELDS)
        return dataclasses.replace(self, record=dataclasses.replace(self.record, **cleared))

    def from_email(self, contact_id: int | None) -> PlayerReport:
        """The report of a play on a page opened from an email link. What the page was opened
        from is the signed token's to say (the player reports EXTERNAL_PAGE for every page
        outside HubSpot), so the context and the contact come from there, never from the body."""
        record = dataclasses.replace(self.record, external_play_context=EMAIL, contact_id=contact_id)
        return dataclasses.replace(self, record=record)


def report_token(data: Any) -> str:
    """The report's player token (checked for shape only; ``player_tokens`` verifies it)."""
    if not isinstance(data, Mapping):
        raise ReportError("body", "must be a JSON object")
    token = data.get("token")
    if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
        raise ReportError("token", "is required: the player token of the page")
    return token


def parse_report(data: Any, now_ms: int, media_type: str) -> PlayerReport:
    """The checked report about media of ``media_type`` (which its token names), or
    ReportError naming the first field that is wrong."""
    if not isinstance(data, Mapping):
        raise ReportError("body", "must be a JSON object")
    kind = data.get("kind")
    if kind not in KINDS:
        raise ReportError("kind", f"must be one of {', '.join(KINDS)}")
    allowed = COMMON_FIELDS | KIND_FIELDS[kind]
    for name in data:
        if name not in allowed:
            other = next((k for k, fields in KIND_FIELDS.items() if name in fields), None)
            raise ReportError(name, f"is not part of a {kind} report" if other else "is not a known field")

    report_token(data)
    external_id = _required_str(data, "externalId")
    if problem := external_id_problem(external_id):
        raise ReportError("externalId", problem)
    session_id = _required_str(data, "sessionId")
    if not SESSION_ID_RE.fullmatch(session_id):
        raise ReportError("sessionId", "must be 16 to 64 letters, digits, '-' or '_'")
    session_secret = data.get("sessionSecret")
    if not isinstance(session_secret, str) or not SESSION_SECRET_RE.fullmatch(session_secret):
        raise ReportError("sessionSecret", "is required: 22 to 64 letters, digits, '-' or '_' the player made "
                                           "for this session")
    occurred = data.get("occurredTimestamp")
    if not _is_int(occurred):
        raise ReportError("occurredTimestamp", "must be a whole number of milliseconds since 1970")
    if occurred < now_ms - MAX_AGE_MS:
        raise ReportError("occurredTimestamp", "is more than 48 hours old")
    if occurred > now_ms + MAX_FUTURE_MS:
        raise ReportError("occurredTimestamp", "is in the future")
    portal_id = data.get("portalId")
    if portal_id is not None and not (_is_int(portal_id) and 0 < portal_id < 10**15):
        raise ReportError("portalId", "must be a positive whole number or null")

    values: dict[str, Any] = dict(
        kind=kind, external_id=external_id, media_type=media_type, session_id=session_id,
        occurred_at_ms=occurred, portal_id=portal_id,
        contact_utk=_optional_match(data, "contactUtk", _UTK_RE, "must be a HubSpot user token (hubspotutk)"),
        page_id=_optional_match(data, "pageId", _PAGE_ID_RE, "must be a HubSpot page id"),
        page_name=_optional_text(data, "pageName", MAX_PAGE_NAME),
        hsenc=_optional_text(data, "hsenc", MAX_HSENC),
    )
    dnt = _optional_bool(data, "dnt")
    page_url = _optional_text(data, "pageUrl", MAX_PAGE_URL)
    if page_url is not None and not is_absolute_http_url(page_url):
        raise ReportError("pageUrl", "must be an absolute http(s) URL")
    values["page_url"] = page_url
    context = data.get("externalPlayContext")
    if context is not None and context not in PLAY_CONTEXTS:
        raise ReportError("externalPlayContext", f"must be one of {', '.join(PLAY_CONTEXTS)}")
    values["external_play_context"] = context

    final = False
    if kind == PLAYED:
        state = data.get("state")
        if state not in PLAY_STATES:
            raise ReportError("state", f"must be one of {', '.join(PLAY_STATES)}")
        values["state"] = state
    elif kind == QUARTILE:
        percent = data.get("playedPercent")
        if not (_is_int(percent) and percent in QUARTILES):
            raise ReportError("playedPercent", f"must be one of {', '.join(map(str, QUARTILES))}")
        values["played_percent"] = percent
    else:
        values.update(_attention_fields(data))
        final = _optional_bool(data, "final")
    _check_media_type(kind, values.get("state"), media_type)
    return PlayerReport(EventRecord(**values), dnt=dnt, final=final, session_secret=session_secret)


def _check_media_type(kind: str, state: str | None, media_type: str) -> None:
    """What a report may say depends on the media: time-based media start and have a
    timeline; images and documents are only viewed."""
    timed = media_type in ("VIDEO", "AUDIO")
    if kind == PLAYED:
        if timed and state != "STARTED":
            raise ReportError("state", "video and audio report STARTED")
        if not timed and state != "VIEWED":
            raise ReportError("state", f"{media_type.lower()} media report VIEWED")
    elif not timed:
        raise ReportError("kind", f"{media_type.lower()} media report only a played event")


def _attention_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    duration = data.get("durationSeconds")
    if not (_is_number(duration) and 0 < duration <= MAX_DURATION_SECONDS):
        raise ReportError("durationSeconds", f"must be a number of seconds above 0 and at most {MAX_DURATION_SECONDS}")
    count, expected_span = span_layout(duration)
    span_seconds = data.get("spanSeconds")
    if not _is_number(span_seconds) or abs(span_seconds - expected_span) > _SPAN_TOLERANCE * max(1.0, expected_span):
        raise ReportError("spanSeconds", f"must be {expected_span:g} for media of {duration:g} s")
    spans = data.get("spans")
    if not isinstance(spans, list) or not 1 <= len(spans) <= MAX_SPANS:
        raise ReportError("spans", f"must be a list of 1 to {MAX_SPANS} play counts")
    if len(spans) != count:
        raise ReportError("spans", f"must hold {count} counts for media of {duration:g} s, got {len(spans)}")
    for position, value in enumerate(spans):
        if not (_is_int(value) and 0 <= value <= MAX_SPAN_COUNT):
            raise ReportError(f"spans[{position}]", f"must be a whole number from 0 to {MAX_SPAN_COUNT}")
    return dict(spans=tuple(spans), span_seconds=float(expected_span), duration_seconds=float(duration))


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[float]:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _required_str(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ReportError(name, "is required (a non-empty string)")
    return value


def _optional_text(data: Mapping[str, Any], name: str, max_length: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ReportError(name, "must be a string or null")
    if not value or len(value) > max_length:
        raise ReportError(name, f"must be 1 to {max_length} characters")
    if _CONTROL_RE.search(value):
        raise ReportError(name, "must not contain control characters")
    return value


def _optional_match(data: Mapping[str, Any], name: str, pattern: re.Pattern[str], message: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ReportError(name, message)
    return value


def _optional_bool(data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise ReportError(name, "must be true or false")
    return value
