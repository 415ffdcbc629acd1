"""Refreshed OAuth tokens kept in the catalog database, encrypted with a key derived from
OEMBED_SECRET_KEY, so short-lived script runs do not each spend a refresh."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.engine import Engine

from oembed_server.domain import derived_keys
from oembed_server.domain.oauth_tokens import OAuthTokens
from oembed_server.storage.schema import oauth_tokens

log = logging.getLogger(__name__)


def derive_key(secret_key: str, purpose: bytes) -> bytes:
    """A stored tokens' key: HKDF with the tokens' fixed salt (``domain.derived_keys``)."""
    return derived_keys.derive_key(secret_key, derived_keys.TOKENS_SALT, purpose)


class EncryptedTokenStore:
    def __init__(self, engine: Engine, secret_key: str, origin_refresh_token: str):
        self._engine = engine
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, b"hubspot-oauth-tokens/fernet")))
        self._origin = hmac.new(derive_key(secret_key, b"hubspot-oauth-tokens/origin"),
                                origin_refresh_token.encode(), hashlib.sha256).hexdigest()

    def load(self) -> OAuthTokens | None:
        with self._engine.connect() as conn:
            ciphertext = conn.execute(sa.select(oauth_tokens.c.ciphertext)
                                      .where(oauth_tokens.c.origin == self._origin)).scalar()
        if ciphertext is None:
            return None
        try:
            data = json.loads(self._fernet.decrypt(ciphertext.encode()))
        except (InvalidToken, ValueError):
            # OEMBED_SECRET_KEY changed: the record is unreadable, start over from the environment.
            log.warning("stored HubSpot tokens cannot be decrypted with the current OEMBED_SECRET_KEY; ignoring them")
            return None
        return OAuthTokens(data["access_token"], data.get("refresh_token"), data.get("expires_at"))

    def save(self, tokens: OAuthTokens) -> None:
        ciphertext = self._fernet.encrypt(json.dumps(
            {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
             "expires_at": tokens.expires_at}).encode()).decode()
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            updated = conn.execute(oauth_tokens.update().where(oauth_tokens.c.origin == self._origin)
                                   .values(ciphertext=ciphertext, updated_at=now)).rowcount
            if not updated:
                conn.execute(oauth_tokens.insert().values(origin=self._origin, ciphertext=ciphertext, updated_at=now))


def token_store_for(engine: Engine, stable_secret_key: str | None,
                    refresh_token: str | None) -> EncryptedTokenStore | None:
    """The store for the environment's token pair, or None when tokens could not be read
    back next run: without a stable OEMBED_SECRET_KEY (a per-process one is pointless) or
    without a refresh token to key the record."""
    if not stable_secret_key or not refresh_token:
        return None
    return EncryptedTokenStore(engine, stable_secret_key, refresh_token)
