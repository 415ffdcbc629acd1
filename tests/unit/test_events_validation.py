"""The pure side of event intake: report checks, the token, attention maths (Python and the
player's JavaScript held to one table), the per-client budget."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from oembed_server.domain import attention_spans as attention
from oembed_server.domain.intake_limits import ClientBudget, RefusedSessions
from oembed_server.domain.player_report import MAX_AGE_MS, ReportError, parse_report, report_token
from oembed_server.domain.player_tokens import PlayerClaims, issue_token, parse_portal_id, read_token

ROOT = Path(__file__).resolve().parents[2]
PLAYER_EVENTS_JS = ROOT / "oembed_server" / "web" / "static" / "player-events.js"
NOW_MS = 1_800_000_000_000
SECRET = "validation-secret-key-0123456789-abcdefgh"


def report(**fields) -> dict:
    base = {"token": "abc.def.ghi", "kind": "played", "externalId": "clip-1", "sessionId": "A" * 22,
            "sessionSecret": "S" * 22, "occurredTimestamp": NOW_MS, "state": "STARTED"}
    return {k: v for k, v in (base | fields).items() if v is not ...}


def attention_report(**fields) -> dict:
    return report(kind="attention", state=..., spans=[1] * 9, spanSeconds=1, durationSeconds=8.003) | fields


def test_a_full_played_report_is_read_field_by_field():
    parsed = parse_report(report(portalId=42, contactUtk="utk1", pageId="77", pageName="Landing",
                                 pageUrl="https://example.com/p", hsenc="enc", externalPlayContext="EMAIL"),
                          NOW_MS, "VIDEO")
    record = parsed.record
    assert (record.kind, record.external_id, record.session_id, record.state, record.portal_id, record.media_type) == (
        "played", "clip-1", "A" * 22, "STARTED", 42, "VIDEO")
    assert (record.contact_utk, record.page_id, record.page_name, record.page_url, record.hsenc) == (
        "utk1", "77", "Landing", "https://example.com/p", "enc")
    stripped = parsed.without_visitor().record
    assert (stripped.contact_utk, stripped.page_id, stripped.page_name, stripped.page_url,
            stripped.hsenc) == (None,) * 5
    assert stripped.portal_id == 42 and stripped.external_play_context == "EMAIL"


def test_attention_report_uses_the_span_rule():
    parsed = parse_report(attention_report(final=True), NOW_MS, "AUDIO")
    assert parsed.record.spans == (1,) * 9 and parsed.record.span_seconds == 1.0 and parsed.final
    long = parse_report(attention_report(spans=[0] * 100, spanSeconds=3.6, durationSeconds=360), NOW_MS, "VIDEO")
    assert long.record.span_seconds == 3.6 and not long.final


@pytest.mark.parametrize("fields, field", [
    ({"kind": "paused"}, "kind"),
    ({"token": None}, "token"),
    ({"token": "has spaces"}, "token"),
    ({"externalId": ""}, "externalId"),
    ({"externalId": "a/b"}, "externalId"),
    ({"sessionId": "short"}, "sessionId"),
    ({"sessionId": "A" * 21 + "!"}, "sessionId"),
    ({"occurredTimestamp": "1800000000000"}, "occurredTimestamp"),
    ({"occurredTimestamp": True}, "occurredTimestamp"),
    ({"occurredTimestamp": 1.5}, "occurredTimestamp"),
    ({"occurredTimestamp": NOW_MS - MAX_AGE_MS - 1}, "occurredTimestamp"),
    ({"occurredTimestamp": NOW_MS + 3_600_000}, "occurredTimestamp"),
    ({"portalId": "42"}, "portalId"),
    ({"portalId": 0}, "portalId"),
    ({"contactUtk": "not a utk"}, "contactUtk"),
    ({"pageId": 77}, "pageId"),
    ({"pageName": "x" * 1025}, "pageName"),
    ({"pageName": "line\nbreak"}, "pageName"),
    ({"pageUrl": "javascript:alert(1)"}, "pageUrl"),
    ({"hsenc": 5}, "hsenc"),
    ({"externalPlayContext": "WEB"}, "externalPlayContext"),
    ({"dnt": "yes"}, "dnt"),
    ({"state": "PLAYING"}, "state"),
    ({"state": ...}, "state"),
    ({"playedPercent": 50}, "playedPercent"),
    ({"surprise": 1}, "surprise"),
])
def test_every_bad_field_is_named(fields, field):
    with pytest.raises(ReportError) as caught:
        parse_report(report(**fields), NOW_MS, "VIDEO")
    assert caught.value.field == field


@pytest.mark.parametrize("fields, field", [
    ({"playedPercent": 30}, "playedPercent"),
    ({"playedPercent": 50.0}, "playedPercent"),
    ({"playedPercent": True}, "playedPercent"),
])
def test_quartile_values(fields, field):
    with pytest.raises(ReportError) as caught:
        parse_report(report(kind="quartile", state=..., **fields), NOW_MS, "VIDEO")
    assert caught.value.field == field
    parsed = parse_report(report(kind="quartile", state=..., playedPercent=75), NOW_MS, "VIDEO")
    assert parsed.record.played_percent == 75


@pytest.mark.parametrize("fields, field", [
    ({"durationSeconds": 0}, "durationSeconds"),
    ({"durationSeconds": float("inf")}, "durationSeconds"),
    ({"durationSeconds": 90_000}, "durationSeconds"),
    ({"spanSeconds": 2}, "spanSeconds"),
    ({"spans": [1] * 8}, "spans"),
    ({"spans": "1,1"}, "spans"),
    ({"spans": [1] * 8 + [-1]}, "spans[8]"),
    ({"spans": [1] * 8 + [True]}, "spans[8]"),
    ({"spans": [1] * 8 + [10_001]}, "spans[8]"),
    ({"final": 1}, "final"),
])
def test_attention_fields(fields, field):
    with pytest.raises(ReportError) as caught:
        parse_report(attention_report(**fields), NOW_MS, "VIDEO")
    assert caught.value.field == field


def test_the_body_must_be_an_object_with_a_token():
    for check in (lambda data: parse_report(data, NOW_MS, "VIDEO"), report_token):
        with pytest.raises(ReportError) as caught:
            check([report()])
        assert caught.value.field == "body"
    assert report_token(report()) == "abc.def.ghi"
    with pytest.raises(ReportError, match="token"):
        report_token(report(token=...))


def test_what_a_report_may_say_depends_on_the_media_type():
    parse_report(report(), NOW_MS, "AUDIO")
    parse_report(report(state="VIEWED"), NOW_MS, "DOCUMENT")
    for state, media_type in (("VIEWED", "VIDEO"), ("STARTED", "IMAGE")):
        with pytest.raises(ReportError, match="state"):
            parse_report(report(state=state), NOW_MS, media_type)
    with pytest.raises(ReportError, match="kind"):
        parse_report(attention_report(), NOW_MS, "IMAGE")


def test_token_binds_item_portal_and_dnt_and_expires():
    claims = PlayerClaims("clip-1", "VIDEO", 42, True)
    token = issue_token(SECRET, claims)
    assert read_token(SECRET, token) == claims
    assert read_token(SECRET + "x", token) is None
    # A character the signature's bytes depend on (base64's last one carries unused bits).
    flipped = "A" if token[-6] != "A" else "B"
    assert read_token(SECRET, token[:-6] + flipped + token[-5:]) is None
    assert read_token(SECRET, token, max_age=-1) is None  # past its age
    assert read_token(SECRET, "garbage") is None


@pytest.mark.parametrize("raw, expected", [("42", 42), ("", None), (None, None), ("0", None), ("-3", None),
                                           ("4x", None), ("9" * 16, None), ("٣", None)])
def test_portal_id_from_the_player_url(raw, expected):
    assert parse_portal_id(raw) == expected


# --- attention maths, one table for Python and the player's JavaScript ------------------
SPAN_CASES = [  # (duration, position) -> (count, seconds, index)
    (8.003, 0, 9, 1.0, 0), (8.003, 7.99, 9, 1.0, 7), (8.003, 8.003, 9, 1.0, 8), (8.0, 8.0, 8, 1.0, 7),
    (0.4, 0.3, 1, 1.0, 0), (100, 99.5, 100, 1.0, 99), (100, 100, 100, 1.0, 99), (100.5, 50.25, 100, 1.005, 50),
    (360, 3.59, 100, 3.6, 0), (360, 3.6, 100, 3.6, 1), (360, 360, 100, 3.6, 99),
]


def test_span_layout_and_index():
    for duration, position, count, seconds, index in SPAN_CASES:
        assert attention.span_layout(duration) == (count, pytest.approx(seconds))
        assert attention.span_index(position, duration) == index


def test_player_script_cuts_the_timeline_by_the_same_rule():
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    script = f"""
        const m = require({json.dumps(str(PLAYER_EVENTS_JS))});
        const cases = {json.dumps(SPAN_CASES)};
        const counts = new Array(9).fill(0);
        let last = m.countSpans(counts, -1, 0, 2.4, 8.003);      // first pass: spans 0-2
        last = m.countSpans(counts, last, 2.4, 2.6, 8.003);      // same pass, same span
        last = m.countSpans(counts, -1, 2.5, 3.2, 8.003);        // after a seek: span 2 again
        console.log(JSON.stringify({{
            spans: cases.map(([d, p]) => [m.spanLayout(d).count, m.spanLayout(d).seconds, m.spanIndex(p, d)]),
            quartiles: [m.quartilesCrossed(0, 2.1, 8.003), m.quartilesCrossed(2.2, 6.1, 8.003),
                        m.quartilesCrossed(7.9, 8.003, 8.003), m.quartilesCrossed(4.1, 5.9, 8.003)],
            counts: counts, last: last,
        }}));
    """
    out = json.loads(subprocess.run([node, "-e", script], capture_output=True, text=True, check=True).stdout)
    for (duration, position, count, seconds, index), (js_count, js_seconds, js_index) in zip(
            SPAN_CASES, out["spans"], strict=True):
        assert (js_count, js_index) == (count, index), (duration, position)
        assert js_seconds == pytest.approx(seconds)
    assert out["quartiles"] == [[0, 25], [50, 75], [100], []]
    assert out["counts"] == [1, 1, 2, 1, 0, 0, 0, 0, 0] and out["last"] == 3


def test_merge_percent_and_seconds():
    assert attention.merge_spans(None, [1, 0]) == [1, 0]
    assert attention.merge_spans([2, 0, 1], [1, 1, 1]) == [2, 1, 1]
    assert attention.merge_spans([1, 1], [0, 0, 1]) == [0, 0, 1]  # another layout replaces
    assert attention.percent_played([1, 0, 2, 0]) == 50.0
    assert attention.seconds_played([1] * 9, 1.0, 8.003) == pytest.approx(8.003)
    assert attention.seconds_played([2, 0], 3.6) == 7.2
    assert attention.played_any([0, 0, 1]) and not attention.played_any([0, 0]) and not attention.played_any(None)


def test_client_budget_counts_per_address_per_minute():
    budget = ClientBudget(per_minute=3)
    assert [budget.allow("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert budget.allow("b", 1.0)
    assert budget.allow("a", 61.0)  # a new minute
    assert ClientBudget(per_minute=0).allow("a", 0.0)
    refused = RefusedSessions(size=2)
    for session in ("s1", "s2", "s3"):
        refused.add(session)
    assert "s1" not in refused and "s3" in refused
