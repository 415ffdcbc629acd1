"""Errors the HubL renderer raises. All are Jinja2 TemplateErrors, so a caller that
already handles template problems handles these too."""
from __future__ import annotations

from jinja2 import TemplateError


class HublError(TemplateError):
    """A template did something HubSpot would refuse; the message names the culprit."""


class UnknownNameError(HublError):
    """A tag, filter, test or function HubL does not know (HubSpot fails these, not silently)."""


class HublLimitError(HublError):
    """A documented HubSpot limit was exceeded (objects per call, calls per page)."""


class NotAvailableError(HublError):
    """A function used where HubSpot does not offer it (e.g. ``oembed`` outside emails)."""
