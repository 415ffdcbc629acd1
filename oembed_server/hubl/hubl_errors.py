"""Errors the HubL renderer raises. All are Jinja2 TemplateErrors, so a caller that
already handles template problems handles these too."""
from __future__ import annotations

import dataclasses

from jinja2 import TemplateError


class HublError(TemplateError):
    """A template did something HubSpot would refuse; the message names the culprit."""


class UnknownNameError(HublError):
    """A tag, filter, test or function HubL does not know (HubSpot fails these, not silently)."""


class HublLimitError(HublError):
    """A documented HubSpot limit was exceeded (objects per call, calls per page)."""


class NotAvailableError(HublError):
    """A function used where HubSpot does not offer it (e.g. ``oembed`` outside emails)."""


class HublTemplateError(HublError):
    """Any other failure of a template (a syntax error in an imported file, a missing
    import, a Python error in an expression), with where it happened."""


@dataclasses.dataclass(frozen=True)
class ErrorLocation:
    """Where a template failed: the file (module-dir relative), line and that line's text."""

    file: str
    line: int | None
    source_line: str = ""


def location_of(error: BaseException) -> ErrorLocation | None:
    """The location the renderer recorded on an error it let through, if any."""
    return getattr(error, "hubl_location", None)
