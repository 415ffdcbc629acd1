"""The per-portal rate budget kept in PostgreSQL, so every worker process spends one budget.

HubSpot counts requests per app per portal, whichever process sends them; an in-memory
limiter per process would let two workers spend twice the budget and meet 429s. Same
interface and rules as ``rate_limit.RateLimiter`` (slots counted from the answer, HubSpot's
headers obeyed; a slot whose answer came is restamped by the next acquire, before it counts), with the window stored in the database under an advisory lock per budget
key and timed by the database's clock, which all processes share. Refuses SQLite: there
the project runs one worker, and the in-memory limiter is exact.
"""
from __future__ import annotations

import threading
import time
import zlib
from typing import Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..catalog_store import metadata
from .rate_limit import _int_header, check_budget

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

# Advisory locks are one key space per database: ours carry this first half.
_LOCK_NAMESPACE = 0x6D62  # "mb"
_DB_NOW = sa.text("SELECT extract(epoch from clock_timestamp())::float8")

# Take a slot in one round trip: lock the key, restamp the slots whose answers came (counted
# from the answer: HubSpot counted them on arrival, earlier), count the window, and either
# take a slot or say how long to wait. Time is the database's, shared by every process.
_TAKE_SLOT_FUNCTION = """
CREATE OR REPLACE FUNCTION hubspot_take_rate_slot(p_ns int, p_lock int, p_key text, p_max int,
                                                  p_interval float8, p_answered bigint[])
RETURNS TABLE(slot_id bigint, wait_s float8) LANGUAGE plpgsql AS $$
DECLARE
  v_now float8;
  v_count int;
  v_oldest float8;
  v_blocked float8;
  v_wait float8;
BEGIN
  PERFORM pg_advisory_xact_lock(p_ns, p_lock);
  v_now := extract(epoch from clock_timestamp());
  IF cardinality(p_answered) > 0 THEN
    UPDATE hubspot_rate_slots SET taken_at = v_now WHERE id = ANY(p_answered);
  END IF;
  SELECT count(*), min(taken_at) INTO v_count, v_oldest FROM hubspot_rate_slots
   WHERE budget_key = p_key AND taken_at > v_now - p_interval;
  SELECT blocked_until INTO v_blocked FROM hubspot_rate_blocks WHERE budget_key = p_key;
  v_wait := coalesce(v_blocked, 0) - v_now;
  IF v_count >= p_max THEN
    v_wait := greatest(v_wait, v_oldest + p_interval - v_now);
  END IF;
  IF v_wait > 0 THEN
    RETURN QUERY SELECT NULL::bigint, v_wait;
  ELSE
    RETURN QUERY INSERT INTO hubspot_rate_slots AS s (budget_key, taken_at) VALUES (p_key, v_now)
                 RETURNING s.id, 0::float8;
  END IF;
END
$$
"""


class SharedRateLimiter:
    def __init__(self, engine: Engine, max_requests: int = 100, interval_s: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep):
        if engine.dialect.name != "postgresql":
            raise ValueError("the shared rate budget needs PostgreSQL; use RateLimiter with a single worker")
        check_budget(max_requests, interval_s)
        self.engine = engine
        self.max_requests = max_requests
        self.interval_s = interval_s
        self._sleep = sleep
        self._taken = threading.local()
        self._calls = 0
        # Slots whose answer has come, to restamp in the next acquire: key -> slot ids.
        self._answered: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        for attempt in (1, 2):
            try:
                metadata.create_all(engine, tables=[rate_slots, rate_blocks], checkfirst=True)
                with engine.begin() as conn:
                    conn.execute(sa.text(_TAKE_SLOT_FUNCTION))
                break
            except sa.exc.DBAPIError:
                # Workers starting together race on CREATE; the loser finds everything made.
                if attempt == 2:
                    raise

    def acquire(self, key: str) -> float:
        """Wait for a slot in ``key``'s window (across all processes) and take it."""
        waited = 0.0
        while True:
            with self._lock:
                answered, self._answered[key] = self._answered.get(key, []), []
            # One statement in autocommit: the advisory lock that serialises every process's
            # acquire on this key is held only while the server runs the function.
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                slot_id, wait = conn.execute(sa.text(
                    "SELECT slot_id, wait_s FROM hubspot_take_rate_slot(:ns, :lock_key, :key, :max, :interval, "
                    "CAST(:answered AS bigint[]))"),
                    {"ns": _LOCK_NAMESPACE, "lock_key": zlib.crc32(key.encode()) - 2 ** 31, "key": key,
                     "max": self.max_requests, "interval": self.interval_s, "answered": answered}).one()
                self._calls += 1
                if self._calls % 200 == 0:  # slots out of every window are only clutter
                    conn.execute(sa.text("DELETE FROM hubspot_rate_slots "
                                         "WHERE taken_at <= extract(epoch from clock_timestamp()) - :interval"),
                                 {"interval": self.interval_s})
            if slot_id is not None:
                self._taken.slot = (key, slot_id)
                return waited
            self._sleep(wait)
            waited += wait

    def observe(self, key: str, headers: Mapping[str, str]) -> None:
        taken = getattr(self._taken, "slot", None)
        if taken is not None and taken[0] == key:
            self._taken.slot = None
            with self._lock:
                self._answered.setdefault(key, []).append(taken[1])
        remaining = _int_header(headers, "X-HubSpot-RateLimit-Remaining")
        if remaining is None or remaining > 0:
            return
        with self.engine.connect() as conn:
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


def skip_commit_fsync(engine: Engine) -> None:
    """Commits on this engine's connections stop waiting for the disk. For processes whose
    writes a database crash may lose without harm (rate slots; a worker's claims and
    outcomes: the jobs themselves were committed durably by whoever queued them, so the
    worst case is a job sent again). Saves several milliseconds per commit."""
    @sa.event.listens_for(engine, "connect")
    def _async_commit(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("SET synchronous_commit TO off")
        cursor.close()
        dbapi_connection.commit()
    engine.dispose()  # pooled connections made before the listener get replaced
