"""Pure pieces of health, metrics and logs: redaction, the JSON line, HubSpot operation
templates, when a worker is stale, the log format and metrics token settings."""
from __future__ import annotations

import json
import logging
import sys

import pytest

from oembed_server.domain.worker_health import RUNNING, STALE, STOPPED, STOPPING, is_live, worker_status
from oembed_server.hubspot.call_observer import operation_of
from oembed_server.observability.log_format import JsonFormatter, RedactingTextFormatter, redact, redact_query
from oembed_server.settings import ConfigError, load_settings

SECRET = "0123456789abcdef0123456789abcdef-x7Qz"


@pytest.mark.parametrize("text, hidden", [
    ("GET /embed/a?hs_utk=abc123&autoplay=1", "abc123"),
    ("callback /hubspot/oauth-callback?code=one-time-code&state=signed.state", "one-time-code"),
    ("callback /hubspot/oauth-callback?code=one-time-code&state=signed.state", "signed.state"),
    ("/insights/x?KEY=insight-key", "insight-key"),
    ("url=https%3A%2F%2Fm.test%2Fembed%3Ftoken%3Dtok-1%26hs_utk%3Dutk-2", "utk-2"),
    ('{"url": "https://m.test/x?token=tok-9"}', "tok-9"),
    ("form: key=k1; token=t2", "t2"),
])
def test_sensitive_values_are_redacted_wherever_they_appear(text, hidden):
    assert hidden not in redact(text)
    assert "[REDACTED]" in redact(text)


def test_redaction_leaves_other_parameters_and_lookalike_names():
    assert redact("?autoplay=1&monkey=banana&statement=yes") == "?autoplay=1&monkey=banana&statement=yes"
    assert redact_query([("hs_utk", "u"), ("start", "10"), ("Token", "t")]) == \
        "hs_utk=[REDACTED]&start=10&Token=[REDACTED]"


def record(message: str, *args, **extra) -> logging.LogRecord:
    entry = logging.LogRecord("oembed_server.test", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(entry, key, value)
    return entry


def test_a_json_line_carries_time_level_logger_message_and_extras_redacted():
    line = json.loads(JsonFormatter().format(record("sent %s", "/x?token=abc", kind="event.played", portal=7,
                                                    path="/x?code=zzz")))
    assert line["level"] == "warning" and line["logger"] == "oembed_server.test"
    assert line["message"] == "sent /x?token=[REDACTED]"
    assert line["kind"] == "event.played" and line["portal"] == 7 and line["path"] == "/x?code=[REDACTED]"
    assert line["time"].endswith("Z") and "T" in line["time"]


def test_a_json_line_keeps_a_traceback_on_one_line():
    try:
        raise ValueError("boom at /x?state=s3")
    except ValueError:
        entry = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = JsonFormatter().format(entry)
    assert "\n" not in text
    assert "ValueError" in json.loads(text)["exception"] and "s3" not in text


def test_text_lines_are_redacted_too():
    assert "abc" not in RedactingTextFormatter("%(message)s").format(record("GET /e?hs_utk=abc"))


@pytest.mark.parametrize("method, path, operation", [
    ("POST", "/media-bridge/v2/events/media-played", "POST /media-bridge/v2/events/media-played"),
    ("POST", "/crm/v3/objects/p4242_Videos/batch/upsert", "POST /crm/v3/objects/{objectType}/batch/upsert"),
    ("GET", "/media-bridge/v1/4242/settings/object-definitions/VIDEO",
     "GET /media-bridge/v1/{id}/settings/object-definitions/{mediaType}"),
    ("PATCH", "/media-bridge/2026-03/4242/properties/p4242_Videos/hs_title",
     "PATCH /media-bridge/2026-03/{id}/properties/{objectType}/{name}"),
    ("PATCH", "/media-bridge/v1/4242/settings/oembed-domains/17",
     "PATCH /media-bridge/v1/{id}/settings/oembed-domains/{id}"),
    ("PUT", "/cms/v3/source-code/published/content/media-bridge/media_embed.module/module.html",
     "PUT /cms/v3/source-code/published/content/{path}"),
    ("GET", "/oauth/v1/access-tokens/[REDACTED]", "GET /oauth/v1/access-tokens/{token}"),
    ("POST", "/oauth/v1/token", "POST /oauth/v1/token"),
])
def test_hubspot_operations_are_path_templates(method, path, operation):
    assert operation_of(method, path) == operation


def test_a_worker_is_stale_after_three_silent_lease_periods():
    assert worker_status(RUNNING, beat_at=1000.0, lease_s=60, now=1180.0) == RUNNING
    assert worker_status(RUNNING, beat_at=1000.0, lease_s=60, now=1180.5) == STALE
    assert worker_status(STOPPING, beat_at=1000.0, lease_s=10, now=1031.0) == STALE
    assert worker_status(STOPPED, beat_at=0.0, lease_s=10, now=1e9) == STOPPED
    assert is_live(RUNNING) and not is_live(STOPPING) and not is_live(STALE)


def test_log_format_defaults_to_json_in_production_and_text_in_development(tmp_path):
    base = {"OEMBED_SECRET_KEY": SECRET}
    assert load_settings(base, str(tmp_path)).log_format == "text"
    assert load_settings(base | {"OEMBED_ENV": "production"}, str(tmp_path)).log_format == "json"
    assert load_settings(base | {"OEMBED_ENV": "production", "OEMBED_LOG_FORMAT": "TEXT"},
                         str(tmp_path)).log_format == "text"
    with pytest.raises(ConfigError, match="OEMBED_LOG_FORMAT must be 'json' or 'text', got 'xml'"):
        load_settings(base | {"OEMBED_LOG_FORMAT": "xml"}, str(tmp_path))


def test_the_metrics_token_is_never_shown(tmp_path):
    settings = load_settings({"OEMBED_METRICS_TOKEN": "tok-" + "z" * 30}, str(tmp_path))
    assert settings.metrics_token == "tok-" + "z" * 30 and "zzzz" not in repr(settings)
    with pytest.raises(ConfigError) as refused:
        load_settings({"OEMBED_METRICS_TOKEN": "short-secret"}, str(tmp_path))
    assert "short-secret" not in str(refused.value)
