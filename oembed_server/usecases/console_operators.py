"""Operators of the console: Argon2id password hashes (argon2-cffi's defaults, RFC 9106's
second recommended profile), sign-in with a throttle per name and per client address,
and sessions in the database (so a sign-out or a removed operator ends them in every
process)."""
from __future__ import annotations

import re
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from oembed_server.storage.operator_store import OperatorStore

NAME_RULE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
SESSION_LIFETIME_S = 12 * 3600
# At most this many failed sign-ins per name and per address in the window; further ones
# are refused unchecked (no hash computed) until older failures leave the window.
THROTTLE_FAILURES = 5
THROTTLE_WINDOW_S = 15 * 60

_hasher = PasswordHasher()
# A name that does not exist costs the same hash as one that does: timing tells nothing.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class OperatorRefused(ValueError):
    """A name or password that cannot be used; the message says why."""


def name_problem(name: str) -> str | None:
    if not NAME_RULE.match(name):
        return (f"operator name {name!r} must be 1 to 64 lower-case letters, digits, '.', '_' or '-', "
                "starting with a letter or digit")
    return None


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password must be at most {MAX_PASSWORD_LENGTH} characters long"
    return None


def _checked(name: str, password: str) -> str:
    for problem in (name_problem(name), password_problem(password)):
        if problem:
            raise OperatorRefused(problem)
    return _hasher.hash(password)


def add_operator(store: OperatorStore, name: str, password: str) -> None:
    if not store.add(name, _checked(name, password)):
        raise OperatorRefused(f"operator {name!r} exists (change the password with `operators passwd {name}`)")


def change_password(store: OperatorStore, name: str, password: str) -> None:
    if not store.set_password(name, _checked(name, password)):
        raise OperatorRefused(f"no operator {name!r}")


class Throttled(Exception):
    """Too many failed sign-ins for this name or address lately."""


def sign_in(store: OperatorStore, name: str, password: str, address: str, now: float | None = None) -> str | None:
    """A new session token for a correct name and password, None for a wrong one; raises
    Throttled past the failures allowed (checked before the password, so a flood of
    guesses costs no hashing and proves nothing)."""
    now = time.time() if now is None else now
    keys = [f"name:{name[:64]}", f"addr:{address}"]
    if any(store.recent_failures(k, now - THROTTLE_WINDOW_S) >= THROTTLE_FAILURES for k in keys):
        raise Throttled()
    stored = store.password_hash(name) if len(password) <= MAX_PASSWORD_LENGTH else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
        ok = stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or stored is None:
        store.record_failure(keys, now)
        return None
    if _hasher.check_needs_rehash(stored):
        store.set_password(name, _hasher.hash(password), end_sessions=False)
    store.clear_failures(keys[0], older_than=now - THROTTLE_WINDOW_S)
    token = secrets.token_urlsafe(32)
    store.start_session(token, name, SESSION_LIFETIME_S, now)
    return token
