"""How a job attempt ended when it did not succeed, and which HubSpot failures mean which.

A handler raises one of these (or lets a HubSpotError through, classified here), and the
worker records the outcome in the queue: retried later, held with its portal, or dead.
One rule for every job kind, so event sends and (later) provisioning calls agree.
"""
from __future__ import annotations

from oembed_server.hubspot.api_error import HubSpotError
from oembed_server.hubspot.token_refresh import TOKEN_PATH


class JobOutcome(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RetryLater(JobOutcome):
    """Time may fix it (HubSpot busy or down, rate limited, unreachable)."""

    def __init__(self, reason: str, delay_s: float | None = None):
        super().__init__(reason)
        # None: the queue's backoff for this attempt; else what HubSpot asked for.
        self.delay_s = delay_s


class HoldPortal(JobOutcome):
    """The portal's credentials are missing or refused: keep its jobs until it reconnects."""


class Drop(JobOutcome):
    """The work must not be done at all (an event about an item that turned private, left
    the catalog or the portal's library): the job is deleted unsent, and counted under
    ``outcome`` (a ``usecases.report_outcomes`` reason)."""

    def __init__(self, reason: str, outcome: str):
        super().__init__(reason)
        self.outcome = outcome


class GiveUp(JobOutcome):
    """Retrying cannot fix it (HubSpot refused the request itself): a dead letter."""


# HubSpot's answers that are about the credentials, not the request.
_AUTH_CATEGORIES = frozenset({"INVALID_AUTHENTICATION", "EXPIRED_AUTHENTICATION", "MISSING_SCOPES",
                              "MISSING_CREDENTIALS", "INVALID_TOKEN_RESPONSE", "BAD_REFRESH_TOKEN",
                              "BAD_CLIENT_ID"})


def classify(error: HubSpotError) -> JobOutcome:
    text = str(error)
    transient = error.status is None or error.status in (408, 429) or error.status >= 500
    if error.path == TOKEN_PATH:
        # A refresh that failed: HubSpot down is transient, a refused refresh token is not.
        return RetryLater(text) if transient and error.status is not None else HoldPortal(text)
    if error.category in _AUTH_CATEGORIES or error.status == 401:
        return HoldPortal(text)
    if transient:
        return RetryLater(text, error.retry_after)
    return GiveUp(text)
