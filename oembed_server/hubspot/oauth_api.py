"""The install side of HubSpot OAuth: the authorize URL an admin is sent to, the code
exchange, and the token introspection that names the portal (hub id) and the app.

Refuses answers without the fields the install needs; the code, the tokens and the
client secret never appear in an error message (the client redacts what it knows, and
the exchange hands it the new tokens before anything can fail)."""
from __future__ import annotations

import dataclasses
import time
from urllib.parse import urlencode

from oembed_server.domain.hubspot_app import REQUIRED_SCOPES
from oembed_server.domain.oauth_tokens import OAuthTokens
from oembed_server.hubspot.api_call import ApiCall, Auth, segment
from oembed_server.hubspot.api_error import HubSpotError
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.token_refresh import TOKEN_PATH

DEFAULT_AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize"
# The app's scopes live in domain.hubspot_app, shared with the developer project.
DEFAULT_SCOPES = REQUIRED_SCOPES


def authorize_url(base: str, client_id: str, redirect_uri: str, scopes: tuple[str, ...] | list[str],
                  state: str, optional_scopes: tuple[str, ...] | list[str] = ()) -> str:
    params = {"client_id": client_id, "redirect_uri": redirect_uri, "scope": " ".join(scopes)}
    if optional_scopes:
        # Scopes the installer may decline (HubSpot's optional_scope parameter).
        params["optional_scope"] = " ".join(optional_scopes)
    query = urlencode(params | {"state": state})
    return f"{base}{'&' if '?' in base else '?'}{query}"


def exchange_code_call(client_id: str, client_secret: str, redirect_uri: str, code: str) -> ApiCall:
    # A code works once: sending it twice can only fail the second time, so never retried.
    return ApiCall("POST", TOKEN_PATH, Auth.NONE, idempotent=False,
                   form={"grant_type": "authorization_code", "client_id": client_id, "client_secret": client_secret,
                         "redirect_uri": redirect_uri, "code": code})


def token_info_call(access_token: str) -> ApiCall:
    return ApiCall("GET", f"/oauth/v1/access-tokens/{segment(access_token)}", Auth.NONE, idempotent=True,
                   log_path="/oauth/v1/access-tokens/[REDACTED]")


@dataclasses.dataclass(frozen=True)
class Installation:
    hub_id: int
    app_id: int | None
    tokens: OAuthTokens = dataclasses.field(repr=False)
    scopes: tuple[str, ...] = ()


def exchange_code(client: HubSpotClient, redirect_uri: str, code: str, clock=time.time) -> Installation:
    """Trade the code from HubSpot's redirect for a token pair and learn which portal it is for."""
    config = client.config
    answer = client.execute(exchange_code_call(config.client_id or "", config.client_secret or "",
                                               redirect_uri, code)).body
    access = answer.get("access_token") if isinstance(answer, dict) else None
    refresh = answer.get("refresh_token") if isinstance(answer, dict) else None
    if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
        raise HubSpotError(None, "the token endpoint answered without an access and a refresh token",
                           "INVALID_TOKEN_RESPONSE", method="POST", path=TOKEN_PATH)
    client.forget_later(access, refresh)
    expires_in = answer.get("expires_in")
    expires_at = clock() + float(expires_in) if isinstance(expires_in, (int, float)) else None
    info = client.execute(token_info_call(access)).body
    hub_id = info.get("hub_id") if isinstance(info, dict) else None
    if not isinstance(hub_id, int) or isinstance(hub_id, bool) or hub_id <= 0:
        raise HubSpotError(None, "HubSpot's token information names no portal (hub_id)", "INVALID_TOKEN_RESPONSE",
                           method="GET", path="/oauth/v1/access-tokens/[REDACTED]")
    app_id = info.get("app_id")
    scopes = info.get("scopes")
    return Installation(hub_id, app_id if isinstance(app_id, int) else None, OAuthTokens(access, refresh, expires_at),
                        tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else ())
