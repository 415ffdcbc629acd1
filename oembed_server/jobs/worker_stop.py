"""A graceful stop for ``oembed-server worker``: on SIGTERM (or Ctrl-C) it claims nothing
more and finishes the jobs in flight; whatever is still in hand after ``grace`` seconds
(HubSpot slow to answer, a long rate-limit wait) is given back to the queue and the process
exits 0. Either way no job stays leased, so another worker takes it at once instead of
after the lease."""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError

from oembed_server.jobs.worker import Worker

log = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def stop_on_signals(worker: Worker, grace: float) -> Iterator[None]:
    timer: threading.Timer | None = None

    def give_up() -> None:
        try:
            released = worker.abandon()
        except DBAPIError as error:  # the leases run out by themselves
            log.warning("grace period over; could not give back the jobs in hand (%s)", type(error.orig).__name__)
        else:
            log.warning("grace period of %gs over: gave back %d job(s) in flight; exiting", grace, released)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        # Threads blocked in a request to HubSpot cannot be interrupted; their jobs are
        # already back in the queue (sent again later: delivery is at least once).
        os._exit(0)

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal timer
        if timer is not None:
            return
        log.info("%s: stopping; finishing the jobs in flight (at most %gs)", signal.Signals(signum).name, grace)
        worker.stop()
        timer = threading.Timer(grace, give_up)
        timer.daemon = True
        timer.start()

    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
