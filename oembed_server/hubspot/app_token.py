"""The app's own access token (OAuth client credentials: the app's client id and secret,
no portal), which the Webhooks Journal takes. Minted on first use, kept until shortly
before it expires, minted again once after HubSpot rejects it; never stored, since a new
one costs one request."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from oembed_server.hubspot.api_error import HubSpotError
from oembed_server.hubspot.token_refresh import TOKEN_PATH, PostForm


class AppToken:
    def __init__(self, client_id: str | None, client_secret: str | None, scopes: tuple[str, ...],
                 margin_s: float = 300.0, clock: Callable[[], float] = time.time):
        self._client_id = client_id
        self._client_secret = client_secret
        self._scopes = scopes
        self._margin = margin_s
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._old: list[str] = []

    def secrets(self) -> list[str]:
        return [t for t in (self._token, *self._old) if t]

    def access_token(self, post_form: PostForm) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - self._margin:
                self._mint(post_form)
            assert self._token is not None
            return self._token

    def after_rejection(self, rejected: str, post_form: PostForm) -> str:
        with self._lock:
            if self._token is not None and self._token != rejected:
                return self._token  # another thread minted one already
            self._mint(post_form)
            assert self._token is not None
            return self._token

    def _mint(self, post_form: PostForm) -> None:
        if not (self._client_id and self._client_secret):
            raise HubSpotError(None, "the Webhooks Journal needs the app's client credentials: set HUBSPOT_CLIENT_ID "
                                     "and HUBSPOT_CLIENT_SECRET", "MISSING_CREDENTIALS")
        answer = post_form(TOKEN_PATH, {"grant_type": "client_credentials", "client_id": self._client_id,
                                        "client_secret": self._client_secret, "scope": " ".join(self._scopes)})
        if self._token:
            self._old.append(self._token)
        self._token = answer["access_token"]
        expires_in = answer.get("expires_in")
        # Without a stated lifetime, ask again after a minute rather than trust it for ever.
        lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else self._margin + 60
        self._expires_at = self._clock() + lifetime
