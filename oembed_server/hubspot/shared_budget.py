"""The per-portal rate budget kept in PostgreSQL, so every worker process spends one budget.

HubSpot counts requests per app per portal, whichever process sends them; an in-memory
limiter per process would let two workers spend twice the budget and meet 429s. Same
interface and rules as ``rate_limit.RateLimiter`` (slots counted from the answer, HubSpot's
headers obeyed), with the window stored in the database under an advisory lock per budget
key and timed by the database's clock, which all processes share. Refuses SQLite: there
the project runs one worker, and the in-memory limiter is exact.
"""
from __future__ import annotations

import threading
import time
import zlib
from typing import Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..catalog_store import metadata
from .rate_limit import _int_header

rate_slots = sa.Table(
    "hubspot_rate_slots",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("budget_key", sa.String(64), nullable=False),
    sa.Column("taken_at", sa.Float, nullable=False),
)
sa.Index("ix_hubspot_rate_slots_key", rate_slots.c.budget_key, rate_slots.c.taken_at)

rate_blocks = sa.Table(
    "hubspot_rate_blocks",
    metadata,
    sa.Column("budget_key", sa.String(64), primary_key=True),
    sa.Column("blocked_until", sa.Float, nullable=False),
)

_DB_NOW = sa.text("SELECT extract(epoch from clock_timestamp())::float8")


class SharedRateLimiter:
    def __init__(self, engine: Engine, max_requests: int = 100, interval_s: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep):
        if engine.dialect.name != "postgresql":
            raise ValueError("the shared rate budget needs PostgreSQL; use RateLimiter with a single worker")
        if max_requests < 1 or interval_s <= 0:
            raise ValueError("a rate limit needs at least one request per positive interval")
        self.engine = engine
        self.max_requests = max_requests
        self.interval_s = interval_s
        self._sleep = sleep
        self._taken = threading.local()
        metadata.create_all(engine, tables=[rate_slots, rate_blocks], checkfirst=True)

    def acquire(self, key: str) -> float:
        """Wait for a slot in ``key``'s window (across all processes) and take it."""
        waited = 0.0
        while True:
            with self.engine.begin() as conn:
                now = self._lock_key(conn, key)
                conn.execute(rate_slots.delete().where(rate_slots.c.budget_key == key,
                                                       rate_slots.c.taken_at <= now - self.interval_s))
                count, oldest = conn.execute(
                    sa.select(sa.func.count(), sa.func.min(rate_slots.c.taken_at))
                    .where(rate_slots.c.budget_key == key)).one()
                blocked = conn.execute(sa.select(rate_blocks.c.blocked_until)
                                       .where(rate_blocks.c.budget_key == key)).scalar()
                wait = (blocked or 0.0) - now
                if count >= self.max_requests:
                    wait = max(wait, oldest + self.interval_s - now)
                if wait <= 0:
                    self._taken.slot = (key, conn.execute(
                        rate_slots.insert().values(budget_key=key, taken_at=now).returning(rate_slots.c.id)
                    ).scalar_one())
                    return waited
            self._sleep(wait)
            waited += wait

    def observe(self, key: str, headers: Mapping[str, str]) -> None:
        taken = getattr(self._taken, "slot", None)
        own_full = False
        with self.engine.begin() as conn:
            if taken is not None and taken[0] == key:
                self._taken.slot = None
                # Counted from the answer: HubSpot counted it on arrival, earlier.
                conn.execute(rate_slots.update().where(rate_slots.c.id == taken[1])
                             .values(taken_at=sa.text("extract(epoch from clock_timestamp())::float8")))
            remaining = _int_header(headers, "X-HubSpot-RateLimit-Remaining")
            if remaining is None or remaining > 0:
                return
            now = conn.execute(_DB_NOW).scalar_one()
            own_full = conn.execute(sa.select(sa.func.count()).where(
                rate_slots.c.budget_key == key, rate_slots.c.taken_at > now - self.interval_s)
            ).scalar_one() >= self.max_requests
        if not own_full:
            interval_ms = _int_header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
            self.block(key, interval_ms / 1000 if interval_ms else self.interval_s)

    def block(self, key: str, seconds: float) -> None:
        from sqlalchemy.dialects.postgresql import insert
        with self.engine.begin() as conn:
            now = conn.execute(_DB_NOW).scalar_one()
            statement = insert(rate_blocks).values(budget_key=key, blocked_until=now + seconds)
            conn.execute(statement.on_conflict_do_update(
                index_elements=[rate_blocks.c.budget_key],
                set_={"blocked_until": sa.func.greatest(rate_blocks.c.blocked_until,
                                                        statement.excluded.blocked_until)}))

    @staticmethod
    def _lock_key(conn: Connection, key: str) -> float:
        # One writer per budget key at a time, across processes, for this transaction only.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(key.encode()) - 2 ** 31})
        return conn.execute(_DB_NOW).scalar_one()
