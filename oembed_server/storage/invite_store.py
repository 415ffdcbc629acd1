"""Install invites: a library, a lifetime, a number of uses, and a revocation, in the
database so every web process sees the same count and a revoke takes effect at once.

An invite's link carries ``<invite_id>.<secret>``; only the SHA-256 of the secret is kept,
and a use is taken by one conditional UPDATE (not expired, not revoked, uses left) inside
the install's own transaction, so two callbacks racing for a single-use invite cannot
both install."""
from __future__ import annotations

import dataclasses
import hashlib
import secrets
import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from oembed_server.storage.schema import install_invites


@dataclasses.dataclass(frozen=True)
class Invite:
    invite_id: str
    library: str
    created_at: float
    expires_at: float
    max_uses: int
    uses: int
    revoked_at: float | None
    created_by: str

    def state(self, now: float) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        if self.uses >= self.max_uses:
            return "used"
        return "open"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_invite(engine: Engine, library: str, days: float, max_uses: int, created_by: str,
                  now: float | None = None) -> tuple[Invite, str]:
    """A new invite and the token its link carries (shown once: only its digest is stored)."""
    now = time.time() if now is None else now
    invite_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    invite = Invite(invite_id, library, now, now + days * 86400, max_uses, 0, None, created_by)
    with engine.begin() as conn:
        conn.execute(install_invites.insert().values(
            invite_id=invite_id, secret_sha256=_digest(secret), library=library, created_at=now,
            expires_at=invite.expires_at, max_uses=max_uses, uses=0, created_by=created_by[:128]))
    return invite, f"{invite_id}.{secret}"


def _usable(now: float):
    return sa.and_(install_invites.c.revoked_at.is_(None), install_invites.c.expires_at > now,
                   install_invites.c.uses < install_invites.c.max_uses)


def _split(token: str) -> tuple[str, str] | None:
    invite_id, dot, secret = token.partition(".")
    if not dot or not invite_id or not secret or len(invite_id) > 32 or len(secret) > 100:
        return None
    return invite_id, secret


def find_usable(conn: Connection, token: str, now: float | None = None) -> Invite | None:
    """The invite a link's token names when it can still be used, else None (unknown,
    altered, expired, revoked or used up: the page says the same for all)."""
    parts = _split(token)
    if parts is None:
        return None
    now = time.time() if now is None else now
    row = conn.execute(sa.select(install_invites).where(install_invites.c.invite_id == parts[0], _usable(now))
                       ).mappings().first()
    if row is None or not secrets.compare_digest(row["secret_sha256"], _digest(parts[1])):
        return None
    return _invite(row)


def take_use(conn: Connection, invite_id: str, now: float | None = None) -> bool:
    """Count one use inside the caller's transaction; False when none is left (or it was
    revoked or expired since the connect page)."""
    now = time.time() if now is None else now
    return conn.execute(install_invites.update().where(install_invites.c.invite_id == invite_id, _usable(now))
                        .values(uses=install_invites.c.uses + 1)).rowcount == 1


def revoke(engine: Engine, invite_id: str, now: float | None = None) -> bool:
    """False when there is no such invite or it was already revoked."""
    now = time.time() if now is None else now
    with engine.begin() as conn:
        return conn.execute(install_invites.update().where(install_invites.c.invite_id == invite_id,
                                                           install_invites.c.revoked_at.is_(None))
                            .values(revoked_at=now)).rowcount == 1


def exists(engine: Engine, invite_id: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.select(install_invites.c.invite_id)
                            .where(install_invites.c.invite_id == invite_id)).first() is not None


def list_invites(engine: Engine) -> list[Invite]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(install_invites).order_by(install_invites.c.created_at.desc())).mappings()
        return [_invite(r) for r in rows]


def _invite(row) -> Invite:
    return Invite(row["invite_id"], row["library"], row["created_at"], row["expires_at"], row["max_uses"],
                  row["uses"], row["revoked_at"], row["created_by"])
