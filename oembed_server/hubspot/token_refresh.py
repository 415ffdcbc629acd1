"""OAuth access tokens: refreshed through /oauth/v1/token before they expire, and once
after HubSpot rejects one, never more often than needed when threads share a client."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from oembed_server.domain.oauth_tokens import OAuthTokens
from oembed_server.hubspot.api_error import HubSpotError

TOKEN_PATH = "/oauth/v1/token"




class TokenStore(Protocol):
    def load(self) -> OAuthTokens | None: ...
    def save(self, tokens: OAuthTokens) -> None: ...


# Sends the form to the token endpoint and returns HubSpot's answer, already checked
# against response_shapes.TOKEN (a non-empty access_token; expires_in a number when given).
PostForm = Callable[[str, dict], dict]


class TokenManager:
    def __init__(self, access_token: str | None, refresh_token: str | None, client_id: str | None,
                 client_secret: str | None, refresh_margin_s: float = 300.0,
                 store: TokenStore | None = None, clock: Callable[[], float] = time.time):
        self._client_id = client_id
        self._client_secret = client_secret
        self._margin = refresh_margin_s
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: OAuthTokens | None = None
        stored = store.load() if store else None
        if stored is not None:
            self._tokens = stored
        elif access_token:
            self._tokens = OAuthTokens(access_token, refresh_token, None)
        # The environment's refresh token stays the fallback if a stored one stops working.
        self._env_refresh_token = refresh_token
        self._old_secrets: list[str] = []

    @property
    def can_refresh(self) -> bool:
        return bool(self._client_id and self._client_secret and self._refresh_token())

    def _refresh_token(self) -> str | None:
        return (self._tokens.refresh_token if self._tokens else None) or self._env_refresh_token

    def secrets(self) -> list[str]:
        current = [self._tokens.access_token, self._tokens.refresh_token] if self._tokens else []
        return [s for s in [*current, self._env_refresh_token, self._client_secret, *self._old_secrets] if s]

    def access_token(self, post_form: PostForm) -> str:
        """A token valid for the next call, refreshing first when it is close to expiry."""
        with self._lock:
            tokens = self._tokens
            if tokens is None:
                return self._refresh(post_form).access_token
            due = tokens.expires_at is not None and self._clock() >= tokens.expires_at - self._margin
            if due and self.can_refresh:
                tokens = self._refresh(post_form)
            return tokens.access_token

    def refresh_after_rejection(self, rejected: str, post_form: PostForm) -> str:
        """HubSpot answered 401 to ``rejected``: refresh unless another thread already did."""
        with self._lock:
            if self._tokens is not None and self._tokens.access_token != rejected:
                return self._tokens.access_token
            return self._refresh(post_form).access_token

    def _refresh(self, post_form: PostForm) -> OAuthTokens:
        if not self.can_refresh:
            raise HubSpotError(None, "no usable OAuth access token, and refreshing needs HUBSPOT_REFRESH_TOKEN, "
                                     "HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET", "MISSING_CREDENTIALS")
        answer = post_form(TOKEN_PATH, {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "refresh_token": self._refresh_token(),
        })
        access = answer["access_token"]
        expires_in = answer.get("expires_in")
        expires_at = self._clock() + float(expires_in) if isinstance(expires_in, (int, float)) else None
        if self._tokens is not None:
            self._old_secrets.append(self._tokens.access_token)
        tokens = OAuthTokens(access, answer.get("refresh_token") or self._refresh_token(), expires_at)
        self._tokens = tokens
        if self._store is not None:
            self._store.save(tokens)
        return tokens
