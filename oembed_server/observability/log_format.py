"""Log lines a machine can read: ``OEMBED_LOG_FORMAT=json`` writes one JSON object per
line; ``text`` (development's default) stays readable. Either way the values of query
parameters that carry a visitor's identity or a credential (``hs_utk``, ``key``, ``code``,
``state``, ``token``) are redacted from every line, whoever logged it: a URL in a warning
of a library is as dangerous as one in our own request log."""
from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

JSON, TEXT = "json", "text"
# The id of the request being answered (web.request_observer), on every line it causes.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("oembed_request_id", default=None)
LOG_FORMATS = (JSON, TEXT)
REDACTED = "[REDACTED]"
SENSITIVE_PARAMETERS = ("hs_utk", "key", "code", "state", "token")
# name=value in a query string, form body or log text, also percent-encoded as it is inside
# another URL's query (/oembed?url=...%3Fhs_utk%3D...): "?" %3F, "&" %26, "=" %3D.
_SENSITIVE_RE = re.compile(r"(?i)((?:^|[?&;\s\"']|%3F|%26)(?:" + "|".join(SENSITIVE_PARAMETERS) + r")(?:=|%3D))"
                           r"(?:(?!%26)[^&;\s\"'#])*")
# The fields of a record that a JSON line carries besides the message; others go in as given.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def redact(text: str) -> str:
    """``text`` with the values of the sensitive query parameters replaced."""
    if "=" not in text and "%3" not in text:
        return text
    return _SENSITIVE_RE.sub(lambda m: m.group(1) + REDACTED, text)


def redact_query(pairs: Iterable[tuple[str, str]]) -> str:
    """A query string to log from its (name, value) pairs, each sensitive value replaced."""
    return urlencode([(k, REDACTED if k.lower() in SENSITIVE_PARAMETERS else v) for k, v in pairs], safe="[]")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, the
    record's extra fields (``log.info("...", extra={"route": ...})``), the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "message": redact(record.getMessage())}
        request_id = request_id_var.get()
        if request_id is not None:  # a line the request caused (its own line names it in extra)
            entry["request_id"] = request_id
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRIBUTES and not name.startswith("_"):
                entry[name] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, separators=(",", ":"))


class RedactingTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


_HANDLER_NAME = "oembed-server"


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Send this process's log records to stderr in ``log_format``, once (a second call
    replaces the handler it installed, never adds one). Other handlers are given the
    same formatter, so gunicorn's and werkzeug's lines are redacted too."""
    formatter: logging.Formatter = (JsonFormatter() if log_format == JSON else
                                    RedactingTextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("gunicorn.error", "werkzeug"):
        for other in logging.getLogger(name).handlers:
            other.setFormatter(formatter)
