"""The one exception the HubSpot client raises, and the redaction every message goes through."""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

import requests

from oembed_server.hubspot.retry_policy import retry_after_seconds

# HubSpot error bodies can echo request fragments; long HTML error pages are cut to this.
_MAX_MESSAGE = 500


class HubSpotError(Exception):
    """A call to HubSpot failed: HTTP status (None when no answer arrived), HubSpot's
    ``message``, ``category`` and ``correlationId``, and the raw ``errors`` list if any."""

    def __init__(self, status: int | None, message: str, category: str | None = None,
                 correlation_id: str | None = None, errors: list | None = None,
                 method: str | None = None, path: str | None = None, retry_after: float | None = None):
        self.status = status
        self.message = message
        self.category = category
        self.correlation_id = correlation_id
        self.errors = errors or []
        self.method = method
        self.path = path
        # Seconds HubSpot asked us to wait (Retry-After), for whoever schedules the next try.
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.status is not None:
            parts = [f"HubSpot {self.status}"]
        else:
            # No status: either no answer came at all, or the failure is in what answers meant.
            parts = ["HubSpot unreachable" if self.category == "CONNECTION_ERROR" else "HubSpot"]
        if self.category:
            parts.append(self.category)
        text = " ".join(parts)
        if self.method and self.path:
            text += f" on {self.method} {self.path}"
        text += f": {self.message}"
        if self.correlation_id:
            text += f" (correlationId {self.correlation_id})"
        return text.replace("\n", " ")

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.message, "category": self.category,
                "correlationId": self.correlation_id, "method": self.method, "path": self.path}

    @classmethod
    def from_response(cls, response: requests.Response, secrets: Iterable[str] = (),
                      method: str | None = None, path: str | None = None) -> HubSpotError:
        body = _json_or_none(response)
        if isinstance(body, dict):
            message = str(body.get("message") or response.reason or "error")
            category = body.get("category") or body.get("errorType")
            correlation_id = body.get("correlationId")
            errors = body.get("errors") if isinstance(body.get("errors"), list) else []
        else:
            # A proxy in front of HubSpot may answer with HTML or plain text.
            message = (response.text or response.reason or "error").strip()[:_MAX_MESSAGE]
            category = correlation_id = None
            errors = []
        return cls(response.status_code, redact(message, secrets), category, correlation_id,
                   errors, method, path, retry_after_seconds(response.headers.get("Retry-After")))


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        return None


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret occurring in ``text``; exception texts from requests carry
    full URLs, and a hapikey travels in the query string."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            for form in _written_forms(secret):
                if "%" in form:
                    # Percent escapes may be written in lower case (%2b): match those too.
                    text = re.sub(re.escape(form), "[REDACTED]", text, flags=re.IGNORECASE)
                else:
                    text = text.replace(form, "[REDACTED]")
    return text


def _written_forms(secret: str) -> list[str]:
    """The secret as it may appear in a URL or form: raw, percent-encoded as a query value
    (+ / = become %2B %2F %3D), and as a path (keeping /). Longest first, so no form is left
    half-replaced by a shorter one."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    return sorted(forms, key=len, reverse=True)


_HAPIKEY = re.compile(r"(hapikey=)[^&\s\"']+")
# Token introspection carries the access token in the path.
_TOKEN_IN_PATH = re.compile(r"(/oauth/v1/access-tokens/)[^\s\"'?]+")


class HapikeyLogFilter(logging.Filter):
    """urllib3 logs every URL at DEBUG, query string and all: mask the developer key and
    an introspected access token there."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "hapikey=" in message or "/access-tokens/" in message:
            message = _TOKEN_IN_PATH.sub(r"\1[REDACTED]", _HAPIKEY.sub(r"\1[REDACTED]", message))
            record.msg, record.args = message, ()
        return True


def install_log_redaction() -> None:
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, HapikeyLogFilter) for f in logger.filters):
        logger.addFilter(HapikeyLogFilter())
