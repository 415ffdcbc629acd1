"""The request log never holds a capability or a visitor's identity: insights links (the
session token in the path, the ``key`` of an item's page) and the visitor fields the player
URL carries (``hs_utk``, ``_hsenc``) are written as ``[REDACTED]``. Applied to the
development server's log (``werkzeug``) and gunicorn's access log (``gunicorn.access``),
whose lines also carry the Referer, where the same parameters can appear."""
from __future__ import annotations

import logging
import re

REDACTED = "[REDACTED]"
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")
_SESSION_LINK = re.compile(r"(/insights/session/)[^\s\"?#]+")
_SECRET_PARAMS = re.compile(r"([?&](?:key|hs_utk|_hsenc)=)[^&\s\"#]*")


def redact(line: str) -> str:
    return _SECRET_PARAMS.sub(rf"\g<1>{REDACTED}", _SESSION_LINK.sub(rf"\g<1>{REDACTED}", line))


class AccessLogRedaction(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/insights/" in message or "=" in message:
            redacted = redact(message)
            if redacted != message:
                record.msg, record.args = redacted, ()
        return True


def install_access_log_redaction() -> None:
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, AccessLogRedaction) for f in logger.filters):
            logger.addFilter(AccessLogRedaction())
