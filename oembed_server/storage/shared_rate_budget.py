"""The per-portal rate budget kept in PostgreSQL, so every worker process spends one budget.

HubSpot counts requests per app per portal, whichever process sends them; an in-memory
limiter per process would let two workers spend twice the budget and meet 429s. Same
interface and rules as ``rate_limit.RateLimiter`` (slots counted from the answer, HubSpot's
headers obeyed; a slot whose answer came is restamped by the next acquire, before it
counts), with the window stored in the database under an advisory lock per budget key and
timed by the database's clock, which all processes share. Refuses SQLite: there
the project runs one worker, and the in-memory limiter is exact.
"""
from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oembed_server.domain.rate_budget import budget_from_headers, check_budget, rate_limit_header
from oembed_server.storage.schema import rate_blocks, rate_slots

# Advisory locks are one key space per database: ours carry this first half.
_LOCK_NAMESPACE = 0x6D62  # "mb"
_DB_NOW = sa.text("SELECT extract(epoch from clock_timestamp())::float8")



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
        # What HubSpot's headers said a key's budget is. Per process: each learns it from
        # its own first answer, and every process then asks the function for the same one.
        self._budgets: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def budget(self, key: str) -> tuple[int, float]:
        """Requests per window on ``key``: HubSpot's figure once an answer carried it, else
        the configured one."""
        return self._budgets.get(key, (self.max_requests, self.interval_s))

    def acquire(self, key: str) -> float:
        """Wait for a slot in ``key``'s window (across all processes) and take it."""
        waited = 0.0
        while True:
            with self._lock:
                answered, self._answered[key] = self._answered.get(key, []), []
                max_requests, interval_s = self.budget(key)
            # One statement in autocommit: the advisory lock that serialises every process's
            # acquire on this key is held only while the server runs the function.
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                slot_id, wait = conn.execute(sa.text(
                    "SELECT slot_id, wait_s FROM hubspot_take_rate_slot(:ns, :lock_key, :key, :max, :interval, "
                    "CAST(:answered AS bigint[]))"),
                    {"ns": _LOCK_NAMESPACE, "lock_key": zlib.crc32(key.encode()) - 2 ** 31, "key": key,
                     "max": max_requests, "interval": interval_s, "answered": answered}).one()
                self._calls += 1
                if self._calls % 200 == 0:  # slots out of every window are only clutter
                    conn.execute(sa.text("DELETE FROM hubspot_rate_slots "
                                         "WHERE taken_at <= extract(epoch from clock_timestamp()) - :interval"),
                                 {"interval": interval_s})
            if slot_id is not None:
                self._taken.slot = (key, slot_id)
                return waited
            self._sleep(wait)
            waited += wait

    def observe(self, key: str, headers: Mapping[str, str]) -> None:
        taken = getattr(self._taken, "slot", None)
        learned = budget_from_headers(headers)
        with self._lock:
            if learned is not None:
                self._budgets[key] = learned
            if taken is not None and taken[0] == key:
                self._taken.slot = None
                self._answered.setdefault(key, []).append(taken[1])
        max_requests, interval_s = self.budget(key)
        remaining = rate_limit_header(headers, "X-HubSpot-RateLimit-Remaining")
        if remaining is None or remaining > 0:
            return
        with self.engine.connect() as conn:
            now = conn.execute(_DB_NOW).scalar_one()
            own_full = conn.execute(sa.select(sa.func.count()).where(
                rate_slots.c.budget_key == key, rate_slots.c.taken_at > now - interval_s)
            ).scalar_one() >= max_requests
        if not own_full:
            interval_ms = rate_limit_header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
            self.block(key, interval_ms / 1000 if interval_ms else interval_s)

    def usage(self) -> dict[str, float]:
        """Each budget key's share of its window spent right now, by every process (0 to 1)."""
        with self.engine.connect() as conn:
            now = conn.execute(_DB_NOW).scalar_one()
            rows = conn.execute(sa.select(rate_slots.c.budget_key, sa.func.count())
                                .where(rate_slots.c.taken_at > now - self.interval_s)
                                .group_by(rate_slots.c.budget_key)).all()
        return {key: min(count / self.max_requests, 1.0) for key, count in rows}

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
