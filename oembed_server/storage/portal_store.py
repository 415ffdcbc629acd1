"""Installed portals: one record per HubSpot portal (hub id) holding its library, its
OAuth token pair encrypted at rest, and whether it is connected.

Reinstalling replaces the record's tokens (and library) and reconnects it; disconnecting
forgets the tokens but keeps the record, so its history and held jobs survive until the
customer installs again. Tokens are encrypted with a key derived from OEMBED_SECRET_KEY
(the same Fernet scheme as the single-portal token store); refuses to work without a
stable key, since tokens encrypted with a per-process key could never be read back.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import logging
import time

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.engine import Connection, Engine

from oembed_server.domain.media import DEFAULT_LIBRARY
from oembed_server.domain.oauth_tokens import OAuthTokens
from oembed_server.storage.schema import hubspot_portals, install_states
from oembed_server.storage.token_store import derive_key

log = logging.getLogger(__name__)

CONNECTED = "connected"
DISCONNECTED = "disconnected"



def state_nonce_used(engine: Engine, nonce: str) -> bool:
    with engine.connect() as conn:
        found = conn.execute(sa.select(install_states.c.nonce).where(install_states.c.nonce == nonce)).first()
        return found is not None


def use_state_nonce(engine: Engine, nonce: str, max_age_s: float) -> bool:
    """Mark an install state's nonce used; False when it already was (a replay). States
    expire after ``max_age_s``, so older marks are pruned here too."""
    now = time.time()
    with engine.begin() as conn:
        conn.execute(install_states.delete().where(install_states.c.used_at < now - 2 * max_age_s))
        if conn.execute(sa.select(install_states.c.nonce).where(install_states.c.nonce == nonce)).first():
            return False
        try:
            with conn.begin_nested():
                conn.execute(install_states.insert().values(nonce=nonce, used_at=now))
        except sa.exc.IntegrityError:  # a concurrent replay won the race
            return False
    return True


@dataclasses.dataclass(frozen=True)
class PortalRecord:
    portal_id: int
    library: str
    token_state: str
    state_reason: str | None
    connected_at: float
    updated_at: float
    last_sync_at: float | None
    generation: int
    has_tokens: bool
    # What HubSpot granted at the last install; None when installed before it was recorded.
    granted_scopes: tuple[str, ...] | None = None

    @property
    def connected(self) -> bool:
        return self.token_state == CONNECTED and self.has_tokens


class MissingSecretKey(RuntimeError):
    """Installs need OEMBED_SECRET_KEY: tokens must be readable by every process, every run."""


class PortalStore:
    def __init__(self, engine: Engine, stable_secret_key: str | None):
        self.engine = engine
        self._fernet = (Fernet(base64.urlsafe_b64encode(derive_key(stable_secret_key, b"hubspot-portals/fernet")))
                        if stable_secret_key else None)

    # --- records ----------------------------------------------------------------------
    def get(self, portal_id: int) -> PortalRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(hubspot_portals).where(hubspot_portals.c.portal_id == portal_id)
                               ).mappings().first()
        return _record(row) if row else None

    def all(self) -> list[PortalRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(hubspot_portals).order_by(hubspot_portals.c.portal_id)).mappings().all()
        return [_record(r) for r in rows]

    def connected_in(self, conn: Connection, libraries: list[str] | None = None) -> list[int]:
        """Connected portals (of these libraries when given), inside the caller's transaction."""
        query = sa.select(hubspot_portals.c.portal_id).where(hubspot_portals.c.token_state == CONNECTED)
        if libraries is not None:
            query = query.where(hubspot_portals.c.library.in_(sorted(set(libraries))))
        return list(conn.execute(query.order_by(hubspot_portals.c.portal_id)).scalars())

    def install(self, conn: Connection, portal_id: int, library: str, tokens: OAuthTokens,
                now: float | None = None, scopes: tuple[str, ...] | None = None) -> bool:
        """Store a fresh install's tokens in the caller's transaction, replacing any earlier
        record. True when the portal was new."""
        now = time.time() if now is None else now
        values = dict(library=library, ciphertext=self._encrypt(tokens), token_state=CONNECTED, state_reason=None,
                      connected_at=now, updated_at=now, visitor_data_delete_after=None,
                      granted_scopes=" ".join(scopes) if scopes is not None else None)
        updated = conn.execute(hubspot_portals.update().where(hubspot_portals.c.portal_id == portal_id)
                               .values(**values, generation=hubspot_portals.c.generation + 1)).rowcount
        if not updated:
            conn.execute(hubspot_portals.insert().values(portal_id=portal_id, generation=1, **values))
        return not updated

    def library_in(self, conn: Connection, portal_id: int) -> str | None:
        """The portal's library inside the caller's transaction, None when never installed."""
        library = conn.execute(sa.select(hubspot_portals.c.library)
                               .where(hubspot_portals.c.portal_id == portal_id)).scalar()
        return None if library is None else library or DEFAULT_LIBRARY

    def set_library(self, conn: Connection, portal_id: int, library: str, now: float | None = None) -> bool:
        """Move an installed portal to another library; False when it already was there.
        Raises LookupError for a portal that never installed."""
        current = self.library_in(conn, portal_id)
        if current is None:
            raise LookupError(f"portal {portal_id} is not installed")
        if current == library:
            return False
        conn.execute(hubspot_portals.update().where(hubspot_portals.c.portal_id == portal_id)
                     .values(library=library, updated_at=time.time() if now is None else now))
        return True

    def disconnect(self, portal_id: int, reason: str, now: float | None = None) -> bool:
        """Forget the portal's tokens; its record and jobs stay. False when it was not connected."""
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            return conn.execute(hubspot_portals.update().where(
                hubspot_portals.c.portal_id == portal_id, hubspot_portals.c.token_state == CONNECTED)
                .values(token_state=DISCONNECTED, state_reason=reason[:2000], ciphertext=None,
                        updated_at=now)).rowcount == 1

    def mark_synced(self, portal_id: int, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            conn.execute(hubspot_portals.update().where(hubspot_portals.c.portal_id == portal_id)
                         .values(last_sync_at=now))

    # --- tokens -----------------------------------------------------------------------
    def load_tokens(self, portal_id: int) -> OAuthTokens | None:
        with self.engine.connect() as conn:
            ciphertext = conn.execute(sa.select(hubspot_portals.c.ciphertext).where(
                hubspot_portals.c.portal_id == portal_id, hubspot_portals.c.token_state == CONNECTED)).scalar()
        if ciphertext is None:
            return None
        try:
            data = json.loads(self._require_fernet().decrypt(ciphertext.encode()))
        except (InvalidToken, ValueError):
            log.warning("tokens of portal %s cannot be decrypted with the current OEMBED_SECRET_KEY", portal_id)
            return None
        return OAuthTokens(data["access_token"], data.get("refresh_token"), data.get("expires_at"))

    def save_tokens(self, portal_id: int, tokens: OAuthTokens) -> None:
        """A refresh replaced the tokens of a connected portal (a disconnected one stays so)."""
        with self.engine.begin() as conn:
            conn.execute(hubspot_portals.update().where(
                hubspot_portals.c.portal_id == portal_id, hubspot_portals.c.token_state == CONNECTED)
                .values(ciphertext=self._encrypt(tokens), updated_at=time.time()))

    def tokens_of(self, portal_id: int) -> PortalTokens:
        return PortalTokens(self, portal_id)

    def _encrypt(self, tokens: OAuthTokens) -> str:
        return self._require_fernet().encrypt(json.dumps(
            {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
             "expires_at": tokens.expires_at}).encode()).decode()

    def _require_fernet(self) -> Fernet:
        if self._fernet is None:
            raise MissingSecretKey("set OEMBED_SECRET_KEY: installed portals' tokens are encrypted with it")
        return self._fernet


@dataclasses.dataclass(frozen=True)
class PortalTokens:
    """One portal's slot in the store, in the shape the HubSpot client's TokenManager uses."""
    store: PortalStore
    portal_id: int

    def load(self) -> OAuthTokens | None:
        return self.store.load_tokens(self.portal_id)

    def save(self, tokens: OAuthTokens) -> None:
        self.store.save_tokens(self.portal_id, tokens)


def _record(row) -> PortalRecord:
    return PortalRecord(int(row["portal_id"]), row["library"] or DEFAULT_LIBRARY, row["token_state"],
                        row["state_reason"], row["connected_at"], row["updated_at"], row["last_sync_at"],
                        row["generation"], row["ciphertext"] is not None,
                        tuple(row["granted_scopes"].split()) if row["granted_scopes"] is not None else None)
