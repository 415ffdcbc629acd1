"""The stored salts of derived keys (``domain.derived_keys``): made at random on first use,
replaced to revoke everything signed with the old key."""
from __future__ import annotations

import secrets
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oembed_server.storage.schema import key_salts


def salt_for(engine: Engine, purpose: str) -> bytes:
    """The salt of ``purpose``, made now if there is none yet (two processes racing to make
    it both end up with the one that was stored first)."""
    with engine.connect() as conn:
        found = conn.execute(sa.select(key_salts.c.salt).where(key_salts.c.purpose == purpose)).scalar()
    if found is not None:
        return found.encode()
    try:
        with engine.begin() as conn:
            conn.execute(key_salts.insert().values(purpose=purpose, salt=secrets.token_hex(32), created_at=time.time()))
    except sa.exc.IntegrityError:
        pass  # another process made it first: use theirs
    with engine.connect() as conn:
        return conn.execute(sa.select(key_salts.c.salt).where(key_salts.c.purpose == purpose)).scalar_one().encode()


def replace_salt(engine: Engine, purpose: str) -> None:
    """A new random salt for ``purpose``: every key derived with the old one is gone."""
    salt, now = secrets.token_hex(32), time.time()
    with engine.begin() as conn:
        updated = conn.execute(key_salts.update().where(key_salts.c.purpose == purpose)
                               .values(salt=salt, created_at=now)).rowcount
        if not updated:
            conn.execute(key_salts.insert().values(purpose=purpose, salt=salt, created_at=now))
