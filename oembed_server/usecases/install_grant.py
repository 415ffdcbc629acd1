"""Whether a grant HubSpot handed the install callback is one this server can use, and
revoking one it cannot.

A grant is usable when its token was issued to this app (``app_id`` present and ours: a
missing one is refused, never assumed) and carries every scope the features need
(``hubspot.oauth_api.DEFAULT_SCOPES``). A grant refused, or one whose install fails after
the code exchange (the database, say), is revoked at HubSpot, so no portal is left with
an app that holds a live refresh token nobody keeps.
"""
from __future__ import annotations

import dataclasses
import logging

from oembed_server.hubspot.api_error import HubSpotError
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.oauth_api import DEFAULT_SCOPES, Installation, revoke_grant

log = logging.getLogger(__name__)

REQUIRED_SCOPES = DEFAULT_SCOPES

NO_APP_ID = "no_app_id"
OTHER_APP = "other_app"
MISSING_SCOPES = "missing_scopes"


@dataclasses.dataclass(frozen=True)
class GrantProblem:
    kind: str
    missing_scopes: tuple[str, ...] = ()


def grant_problem(installation: Installation, app_id: int | None) -> GrantProblem | None:
    if installation.app_id is None:
        return GrantProblem(NO_APP_ID)
    if app_id is None or installation.app_id != app_id:
        return GrantProblem(OTHER_APP)
    missing = tuple(s for s in REQUIRED_SCOPES if s not in set(installation.scopes))
    if missing:
        return GrantProblem(MISSING_SCOPES, missing)
    return None


def revoke(client: HubSpotClient, installation: Installation) -> bool:
    """Revoke the grant at HubSpot; False (logged, without the token) when HubSpot could not."""
    refresh = installation.tokens.refresh_token
    if not refresh:
        return False
    try:
        revoke_grant(client, refresh)
    except HubSpotError as exc:
        log.warning("install: could not revoke the refused grant of portal %s at HubSpot (%s, %s)",
                    installation.hub_id, exc.status, exc.category)
        return False
    log.info("install: revoked the refused grant of portal %s at HubSpot", installation.hub_id)
    return True
