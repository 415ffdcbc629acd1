"""Refused ``/events`` reports per minute and reason, for the console's Events page.

The console needs counts that survive a restart and add up over several web processes,
which an in-process counter (or Prometheus's per-process files) cannot give a page; but a
flood of refused reports must not cost a database write each (refusing cheaply is what
keeps a flood from reaching the database). So each process counts in memory and adds its
counts to the table at most once per ``flush_every_s`` (on the next refusal after that,
and at exit): a flood of any size costs each process one small upsert per period. What a
process counted in its last period is lost if it is killed (SIGKILL); minutes older than
``keep_days`` are pruned at flush."""
from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oembed_server.storage.dialect_insert import dialect_insert
from oembed_server.storage.schema import intake_refusals

log = logging.getLogger(__name__)
DEFAULT_FLUSH_EVERY_S = 5.0
KEEP_DAYS = 8


class RefusalTally:
    def __init__(self, engine: Engine, flush_every_s: float = DEFAULT_FLUSH_EVERY_S,
                 clock=time.time):
        self.engine = engine
        self.flush_every_s = flush_every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[tuple[int, str], int] = {}
        self._last_flush = clock()
        _LIVE.add(self)

    def count(self, reason: str) -> None:
        now = self._clock()
        key = (int(now // 60), reason[:64])
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            due = now - self._last_flush >= self.flush_every_s
            if due:
                self._last_flush = now
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, {}
        if not counts:
            return
        try:
            with self.engine.begin() as conn:
                insert = dialect_insert(intake_refusals, conn.dialect.name)
                conn.execute(insert.values([{"minute": m, "reason": r, "refused": n} for (m, r), n in counts.items()])
                             .on_conflict_do_update(index_elements=["minute", "reason"],
                                                    set_={"refused": intake_refusals.c.refused
                                                          + insert.excluded.refused}))
                conn.execute(intake_refusals.delete().where(
                    intake_refusals.c.minute < int(self._clock() // 60) - KEEP_DAYS * 1440))
        except sa.exc.SQLAlchemyError as exc:
            # Counting must never fail a refusal; the counts go back for the next flush.
            log.warning("intake refusal counts not saved yet: %s", type(exc).__name__)
            with self._lock:
                for key, n in counts.items():
                    self._counts[key] = self._counts.get(key, 0) + n


# Flushed at exit while still in use; a tally whose app is gone (a test's, whose database
# may be dropped by then) is not kept alive by the exit hook, nor its engine with it.
_LIVE: weakref.WeakSet[RefusalTally] = weakref.WeakSet()


@atexit.register
def _flush_live_tallies() -> None:
    for tally in list(_LIVE):
        tally.flush()


def refusals_since(engine: Engine, since: float) -> dict[str, int]:
    """Refusals per reason from the minute holding ``since`` on (as flushed)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(intake_refusals.c.reason, sa.func.sum(intake_refusals.c.refused))
                            .where(intake_refusals.c.minute >= int(since // 60))
                            .group_by(intake_refusals.c.reason))
        return {reason: int(total) for reason, total in rows}
