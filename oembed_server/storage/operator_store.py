"""Console operators, their sessions and the login throttle's failures.

Passwords arrive here already hashed (Argon2, by the use case); sessions are kept by the
SHA-256 of the cookie's value, so neither a database dump nor a log of this table signs
anybody in. Removing an operator or changing a password ends their sessions."""
from __future__ import annotations

import dataclasses
import hashlib
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oembed_server.storage.schema import console_login_failures, console_operators, console_sessions


@dataclasses.dataclass(frozen=True)
class Operator:
    name: str
    created_at: float
    updated_at: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OperatorStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    # --- operators --------------------------------------------------------------------
    def add(self, name: str, password_hash: str, now: float | None = None) -> bool:
        """False when an operator of that name exists (nothing changed)."""
        now = time.time() if now is None else now
        try:
            with self.engine.begin() as conn:
                conn.execute(console_operators.insert().values(name=name, password_hash=password_hash,
                                                               created_at=now, updated_at=now))
        except sa.exc.IntegrityError:
            return False
        return True

    def password_hash(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(console_operators.c.password_hash)
                                .where(console_operators.c.name == name)).scalar()

    def set_password(self, name: str, password_hash: str, *, end_sessions: bool = True,
                     now: float | None = None) -> bool:
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            changed = conn.execute(console_operators.update().where(console_operators.c.name == name)
                                   .values(password_hash=password_hash, updated_at=now)).rowcount == 1
            if changed and end_sessions:
                conn.execute(console_sessions.delete().where(console_sessions.c.operator == name))
        return changed

    def remove(self, name: str) -> bool:
        with self.engine.begin() as conn:
            conn.execute(console_sessions.delete().where(console_sessions.c.operator == name))
            return conn.execute(console_operators.delete().where(console_operators.c.name == name)).rowcount == 1

    def all(self) -> list[Operator]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(console_operators.c.name, console_operators.c.created_at,
                                          console_operators.c.updated_at).order_by(console_operators.c.name))
            return [Operator(*r) for r in rows]

    # --- sessions ---------------------------------------------------------------------
    def start_session(self, token: str, operator: str, lifetime_s: float, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            conn.execute(console_sessions.delete().where(console_sessions.c.expires_at < now))
            conn.execute(console_sessions.insert().values(token_sha256=_digest(token), operator=operator,
                                                          created_at=now, expires_at=now + lifetime_s))

    def session_operator(self, token: str, now: float | None = None) -> str | None:
        """Who a live session belongs to; None for an unknown, ended or expired one, or an
        operator removed since."""
        now = time.time() if now is None else now
        query = (sa.select(console_sessions.c.operator)
                 .join(console_operators, console_operators.c.name == console_sessions.c.operator)
                 .where(console_sessions.c.token_sha256 == _digest(token), console_sessions.c.expires_at > now))
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def end_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(console_sessions.delete().where(console_sessions.c.token_sha256 == _digest(token)))

    # --- the login throttle -----------------------------------------------------------
    def record_failure(self, keys: list[str], now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            conn.execute(console_login_failures.insert(), [{"throttle_key": k[:200], "failed_at": now} for k in keys])

    def recent_failures(self, key: str, since: float) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(console_login_failures).where(
                console_login_failures.c.throttle_key == key[:200], console_login_failures.c.failed_at > since))
                .scalar() or 0)

    def clear_failures(self, key: str, older_than: float | None = None) -> None:
        """Forget a key's failures (a successful sign-in), and everybody's older ones."""
        with self.engine.begin() as conn:
            conn.execute(console_login_failures.delete().where(console_login_failures.c.throttle_key == key[:200]))
            if older_than is not None:
                conn.execute(console_login_failures.delete().where(console_login_failures.c.failed_at < older_than))
