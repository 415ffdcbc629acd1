"""The worker: claims due jobs, runs each kind's handler, records every outcome.

One loop: close idle play sessions into attention jobs, give held portals back their jobs
once they have a token, claim a batch in priority order, send each portal's share in its
own thread (a portal waiting for its budget does not stall another), renew leases while
sending, and prune old delivered rows now and then. Nothing is held in memory that the
queue does not also hold: killed at any point, a restarted worker (or another one) finds
every unfinished job again once the lease of the dead one runs out.

On PostgreSQL any number of workers may run; on SQLite run one (the queue stays correct,
but the rate budget is kept in memory, per process).
"""
from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError

from oembed_server.domain.backlog_plan import describe_duration, plan_backlog
from oembed_server.domain.event_record import JOB_KIND, SHEDDABLE_PRIORITY
from oembed_server.domain.worker_health import RUNNING, STOPPED, STOPPING
from oembed_server.hubspot.api_error import HubSpotError
from oembed_server.hubspot.retry_policy import RetryPolicy
from oembed_server.hubspot.webhooks_journal_api import WebhooksJournal
from oembed_server.jobs import job_telemetry
from oembed_server.jobs.handlers import HANDLERS, LOCAL_HANDLERS, Handler, JobContext, LocalContext, LocalHandler
from oembed_server.jobs.job_outcomes import Drop, GiveUp, HoldPortal, JobOutcome, RetryLater, classify
from oembed_server.settings import Settings
from oembed_server.storage import job_queue, worker_heartbeats
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.storage.play_sessions import close_due_sessions, prune_play_sessions
from oembed_server.storage.privacy_erasure import prune_contact_utks
from oembed_server.storage.write_transaction import write_transaction
from oembed_server.usecases import report_outcomes
from oembed_server.usecases.app_uninstalls import JournalReport, delete_due_visitor_data, journal_enabled, read_journal
from oembed_server.usecases.portal_clients import APP_PORTAL, PortalClients
from oembed_server.usecases.webhook_processing import prune_seen as prune_seen_webhook_events

log = logging.getLogger(__name__)



@dataclasses.dataclass(frozen=True)
class WorkerOptions:
    batch_size: int = 50
    # Requests in flight at once per portal (order within a batch then holds only roughly).
    senders_per_portal: int = 4
    # A killed worker's jobs wait this long before another worker claims them.
    lease_s: float = 60.0
    # Sleep between polls when nothing is due.
    idle_poll_s: float = 1.0
    release_held_every_s: float = 10.0
    # How often each portal's backlog is measured against OEMBED_EVENTS_MAX_BACKLOG_HOURS.
    shed_check_every_s: float = 10.0
    prune_every_s: float = 600.0
    # --once waits this long at most for queued work that is not due yet.
    once_max_wait_s: float = 120.0


@dataclasses.dataclass
class RunReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    held: int = 0
    sessions_closed: int = 0
    pruned: int = 0
    shed: int = 0
    dropped: int = 0

    def add(self, other: RunReport) -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


class Worker:
    def __init__(self, catalog: CatalogStore, settings: Settings, portals: PortalClients, *,
                 stable_secret_key: str | None, options: WorkerOptions = WorkerOptions(),
                 handlers: dict[str, Handler] | None = None, policy: RetryPolicy | None = None,
                 clock: Callable[[], float] = time.time):
        self.catalog = catalog
        self.engine = catalog.engine
        self.settings = settings
        self.portals = portals
        self.stable_secret_key = stable_secret_key
        self.options = options
        self.handlers = HANDLERS if handlers is None else handlers
        self.local_handlers: dict[str, LocalHandler] = LOCAL_HANDLERS
        config = portals.config
        # Backoff between attempts of one job, and pauses of a failing portal.
        self.policy = policy or RetryPolicy(base_s=config.backoff_base_s, cap_s=config.backoff_cap_s)
        self.clock = clock
        self.hostname = socket.gethostname()
        self.owner = f"{self.hostname[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.started_at = self.clock()
        self.state = RUNNING
        # Set once run() has given everything back: the heartbeat thread's end.
        self._finished = threading.Event()
        self._wake = threading.Event()
        self._rng = random.Random()
        self._stop = threading.Event()
        self._paused: dict[int | None, float] = {}  # portal -> no claims before this time
        self._failures: collections.Counter = collections.Counter()  # consecutive, per portal
        self._lock = threading.Lock()
        self._next_release = 0.0
        self._next_shed_check = 0.0
        self._next_prune = 0.0
        self._next_journal_read = 0.0
        self._last_sessions_close = 0.0
        self._renewed_until = 0.0

    # --- running -----------------------------------------------------------------------
    def stop(self) -> None:
        """Claim nothing more, finish the jobs in hand, give back the rest of the batch,
        return from run(). Safe from a signal handler (it only sets flags)."""
        self.state = STOPPING
        self._stop.set()
        self._wake.set()  # the heartbeat says "stopping" now, not at its next turn

    def abandon(self) -> int:
        """The grace period is over: give back every job this worker still holds (one in
        flight is sent again later: delivery is at least once) and record it stopped.
        Returns the jobs given back. Called from another thread than run()'s."""
        self._stop.set()
        with self._writing() as conn:
            released = job_queue.release_owned(conn, self.owner, now=self.clock())
        self._beat(STOPPED)
        return released

    def run(self, once: bool = False) -> RunReport:
        """Work until stopped. With ``once``: until nothing is queued that could run within
        ``once_max_wait_s`` (short retries, a lost worker's leases), then prune and return."""
        total = RunReport()
        self._finished.clear()
        with self._writing() as conn:
            worker_heartbeats.forget_old(conn, self.clock())
        self._beat(self.state)
        heartbeat = threading.Thread(target=self._renew_leases, name="lease-heartbeat", daemon=True)
        heartbeat.start()
        try:
            while not self._stop.is_set():
                try:
                    report = self.run_batch()
                except DBAPIError as error:
                    if once:
                        raise
                    # The database went away: nothing is lost (claims expire), so wait and
                    # try again rather than leave the supervisor to restart us.
                    log.warning("database error, retrying in %.0fs: %s", self.options.idle_poll_s * 5,
                                type(error.orig).__name__)
                    self._stop.wait(self.options.idle_poll_s * 5)
                    continue
                total.add(report)
                if report.sent + report.retried + report.dead + report.held + report.dropped:
                    continue
                if not once:
                    self._stop.wait(self.options.idle_poll_s)
                    continue
                wait = self._next_work_in()
                if wait is None or wait > self.options.once_max_wait_s:
                    break
                self._stop.wait(min(max(wait, 0.02), self.options.idle_poll_s))
            if once:
                total.pruned += self.prune()
        finally:
            self._stop.set()
            self.state = STOPPED
            self._finished.set()
            self._wake.set()
            heartbeat.join(timeout=5)
            self._give_back_and_record_stop()
        return total

    def _give_back_and_record_stop(self) -> None:
        try:
            with self._writing() as conn:
                released = job_queue.release_owned(conn, self.owner, now=self.clock())
            if released:
                log.info("gave back %d job(s) still leased", released)
            self._beat(STOPPED)
        except DBAPIError as error:  # the leases run out by themselves
            log.warning("could not record the stop: %s", type(error.orig).__name__)

    def _beat(self, state: str) -> None:
        with self._writing() as conn:
            worker_heartbeats.beat(conn, self.owner, hostname=self.hostname, pid=os.getpid(),
                                   started_at=self.started_at, lease_s=self.options.lease_s, state=state,
                                   now=self.clock(), budget_usage=getattr(self.portals, "budget_usage", dict)())

    def run_batch(self) -> RunReport:
        """One turn of the loop: housekeeping, then one claimed batch sent."""
        report = RunReport()
        now = self.clock()
        report.sessions_closed = self.close_sessions(now)
        if now >= self._next_release:
            self.release_held(now)
            self._next_release = now + self.options.release_held_every_s
        if now >= self._next_shed_check:
            report.shed = self.shed_backlogs(now)
            self._next_shed_check = now + self.options.shed_check_every_s
        if now >= self._next_journal_read and journal_enabled(self.settings):
            self.read_journal(now)
            self._next_journal_read = now + self.settings.hubspot.journal_poll_s
        if now >= self._next_prune and self._next_prune:
            report.pruned = self.prune(now)
        if not self._next_prune:
            self._next_prune = now + self.options.prune_every_s
        with self._writing() as conn:
            jobs = job_queue.claim(conn, self.owner, limit=self.options.batch_size, lease_s=self.options.lease_s,
                               now=now, skip_portals=self._paused_portals(now))
        local = [job for job in jobs if job.kind in self.local_handlers]
        if local:
            report.add(self._run_local(local))
            # A privacy deletion may just have erased some of the events claimed with it.
            jobs = self._still_mine([job for job in jobs if job.kind not in self.local_handlers])
        if not jobs:
            return report
        by_portal: dict[int | None, list[job_queue.Job]] = collections.defaultdict(list)
        for job in jobs:
            by_portal[job.portal_id].append(job)
        if len(by_portal) == 1:
            report.add(self._send_portal(*next(iter(by_portal.items()))))
        else:
            with concurrent.futures.ThreadPoolExecutor(len(by_portal), thread_name_prefix="portal") as pool:
                for result in pool.map(lambda item: self._send_portal(*item), by_portal.items()):
                    report.add(result)
        return report

    # --- one portal's share of a batch ----------------------------------------------------
    def _send_portal(self, portal_id: int | None, jobs: list[job_queue.Job]) -> RunReport:
        report = RunReport()
        client = self.portals.client_for(portal_id)
        if client is None:
            reason = self.portals.missing_reason(portal_id)
            with self._writing() as conn:
                for job in jobs:
                    if job_queue.hold(conn, job, self.owner, reason, now=self.clock()):
                        report.held += 1
                        job_telemetry.job_finished(job.id, job.kind, portal_id, job.attempts + 1, "held", reason)
                report.held += job_queue.hold_portal(conn, portal_id, reason, now=self.clock())
            log.warning("holding jobs for portal %s: %s", portal_id, reason)
            return report
        record = self.portals.store.get(portal_id) if portal_id not in (None, APP_PORTAL) else None
        context = JobContext(client, self.catalog, self.settings, self.stable_secret_key,
                             catalog_object_ids=record is None,
                             portal_library=record.library if record is not None else None)
        pending = collections.deque(jobs)  # in priority order; senders take from the front
        halt = threading.Event()  # the portal is unwell: stop taking jobs
        lock = threading.Lock()

        def next_job() -> job_queue.Job | None:
            with lock:
                if halt.is_set() or self._stop.is_set() or not pending:
                    return None
                job = pending.popleft()
                if self._lease_lost(job):
                    pending.appendleft(job)
                    halt.set()
                    return None
                return job

        def send() -> None:
            while (job := next_job()) is not None:
                job_telemetry.start_job()
                outcome = self._attempt(job, context)
                result = RunReport()
                if outcome is None:
                    with self._writing() as conn:
                        done = job_queue.complete(conn, job, self.owner, now=self.clock())
                    result.sent += done
                    # Not done: the lease passed to another worker (this one was given up).
                    job_telemetry.job_finished(job.id, job.kind, portal_id, job.attempts + 1,
                                               "sent" if done else "lease_lost")
                    self._failures[portal_id] = 0
                else:
                    self._record(job, outcome, result)
                    if isinstance(outcome, (RetryLater, HoldPortal)):
                        # The portal as a whole is unwell (busy, down, or its token refused):
                        # the rest of its share goes back untouched, and it pauses or is held.
                        halt.set()
                        if isinstance(outcome, RetryLater):
                            self._pause(portal_id, outcome.delay_s)
                        else:
                            self._release(self._take_all(pending, lock))
                            if self.portals.refused(portal_id, outcome.reason):
                                log.warning("portal %s disconnected: HubSpot refused its tokens", portal_id)
                            with self._writing() as conn:
                                result.held += job_queue.hold_portal(conn, portal_id, outcome.reason,
                                                                 now=self.clock())
                with lock:
                    report.add(result)

        # Several requests in flight per portal: HubSpot's latency, not its budget, would
        # otherwise bound the rate (190 per 10 s needs one answer every 53 ms).
        senders = min(self.options.senders_per_portal, len(jobs))
        if senders == 1:
            send()
        else:
            threads = [threading.Thread(target=send, name=f"send-{portal_id}-{i}") for i in range(senders)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        self._release(self._take_all(pending, lock))
        return report

    def _run_local(self, jobs: list[job_queue.Job]) -> RunReport:
        """Work without HubSpot (webhook batches): no portal client, token or budget needed."""
        report = RunReport()
        context = LocalContext(self.catalog, self.settings)
        for job in jobs:
            if self._stop.is_set():
                self._release([job])
                continue
            outcome: JobOutcome | None
            try:
                self.local_handlers[job.kind](job, context)
                outcome = None
            except JobOutcome as raised:
                outcome = raised
            except DBAPIError as error:
                outcome = RetryLater(f"database error: {type(error.orig).__name__}")
            except Exception as error:  # noqa: BLE001 - a bug or a poisoned payload: park it, keep going
                log.exception("job %s (%s) failed", job.id, job.kind)
                outcome = GiveUp(f"{type(error).__name__}: {error}")
            if outcome is None:
                with self._writing() as conn:
                    report.sent += job_queue.complete(conn, job, self.owner, now=self.clock())
            else:
                self._record(job, outcome, report)
        return report

    def _still_mine(self, jobs: list[job_queue.Job]) -> list[job_queue.Job]:
        if not jobs:
            return jobs
        with self.engine.connect() as conn:
            kept = job_queue.leased_ids(conn, [job.id for job in jobs], self.owner)
        return [job for job in jobs if job.id in kept]

    @staticmethod
    def _take_all(pending: collections.deque, lock: threading.Lock) -> list[job_queue.Job]:
        with lock:
            taken = list(pending)
            pending.clear()
        return taken

    def _attempt(self, job: job_queue.Job, context: JobContext) -> JobOutcome | None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            return GiveUp(f"no handler for job kind {job.kind!r}")
        try:
            handler(job, context)
        except JobOutcome as outcome:
            return outcome
        except HubSpotError as error:
            return classify(error)
        except DBAPIError as error:  # the database went away mid-job: try again later
            return RetryLater(f"database error: {type(error.orig).__name__}")
        except Exception as error:  # noqa: BLE001 - a bug or a poisoned payload: park it, keep going
            log.exception("job %s (%s) failed", job.id, job.kind)
            return GiveUp(f"{type(error).__name__}: {error}")
        return None

    def _record(self, job: job_queue.Job, outcome: JobOutcome, report: RunReport) -> None:
        now = self.clock()
        with self._writing() as conn:
            if isinstance(outcome, RetryLater):
                delay = outcome.delay_s
                if delay is None:
                    delay = self.policy.backoff(job.attempts, self._rng)
                report.retried += job_queue.retry(conn, job, self.owner, delay, outcome.reason, now=now)
                result, reason = "retried", f"in {delay:.2f}s: {outcome.reason}"
            elif isinstance(outcome, Drop):
                if job_queue.drop(conn, job, self.owner):
                    report.dropped += 1
                    report_outcomes.count(outcome.outcome)
                result, reason = "dropped", outcome.reason
            elif isinstance(outcome, HoldPortal):
                report.held += job_queue.hold(conn, job, self.owner, outcome.reason, now=now)
                result, reason = "held", outcome.reason
            else:
                report.dead += job_queue.bury(conn, job, self.owner, outcome.reason, now=now)
                result, reason = "dead", outcome.reason
        job_telemetry.job_finished(job.id, job.kind, job.portal_id, job.attempts + 1, result, reason)

    # --- pauses, leases --------------------------------------------------------------------
    def _pause(self, portal_id: int | None, delay_s: float | None) -> None:
        with self._lock:
            self._failures[portal_id] += 1
            wait = delay_s if delay_s is not None else self.policy.backoff(self._failures[portal_id] - 1, self._rng)
            self._paused[portal_id] = max(self._paused.get(portal_id, 0.0), self.clock() + wait)

    def _paused_portals(self, now: float) -> list[int | None]:
        with self._lock:
            for portal in [p for p, until in self._paused.items() if until <= now]:
                del self._paused[portal]
            return list(self._paused)

    def _lease_lost(self, job: job_queue.Job) -> bool:
        # The heartbeat extends leases; if it could not (database unreachable), stop before
        # the lease runs out, so another worker never sends what this one is sending.
        with self._lock:
            deadline = max(job.lease_until, self._renewed_until)
        return self.clock() >= deadline - self.options.lease_s / 4

    def _renew_leases(self) -> None:
        """Every quarter lease: extend this worker's leases and record its heartbeat. Runs
        until run() has returned, so jobs still in flight after a stop keep their leases."""
        interval = self.options.lease_s / 4
        while True:
            self._wake.wait(interval)
            self._wake.clear()
            if self._finished.is_set():
                return
            try:
                now = self.clock()
                with self._writing() as conn:
                    job_queue.renew_leases(conn, self.owner, self.options.lease_s, now=now)
                with self._lock:
                    self._renewed_until = now + self.options.lease_s
                self._beat(self.state)
            except DBAPIError as error:
                log.warning("could not renew job leases: %s", type(error.orig).__name__)

    def _release(self, jobs: list[job_queue.Job]) -> None:
        if jobs:
            with self._writing() as conn:
                job_queue.release(conn, [j.id for j in jobs], self.owner, now=self.clock())
            for job in jobs:
                job_telemetry.job_finished(job.id, job.kind, job.portal_id, job.attempts, "released")

    def _next_work_in(self) -> float | None:
        with self.engine.connect() as conn:
            when = job_queue.next_due_at(conn)
        return None if when is None else when - self.clock()

    def _writing(self):
        """A write transaction that queues for SQLite's one writer without its busy sleeps."""
        return write_transaction(self.engine)

    # --- housekeeping ----------------------------------------------------------------------
    def close_sessions(self, now: float) -> int:
        """Idle or ended play sessions become attention jobs (at most once a second)."""
        if now - self._last_sessions_close < 1.0:
            return 0
        self._last_sessions_close = now
        with self._writing() as conn:
            return close_due_sessions(conn, now=now, idle_seconds=self.settings.events_idle_seconds)

    def release_held(self, now: float | None = None) -> int:
        """Portals that have a token again get their held jobs back."""
        now = self.clock() if now is None else now
        released = 0
        with self._writing() as conn:
            for portal in job_queue.held_portals(conn):
                if self.portals.serves(portal):
                    released += job_queue.release_portal(conn, portal, now=now)
        if released:
            log.info("released %d held job(s)", released)
        return released

    def shed_backlogs(self, now: float | None = None) -> int:
        """Each portal whose queued events would take longer than
        OEMBED_EVENTS_MAX_BACKLOG_HOURS at its budget loses just enough intermediate
        quartiles (newest first) to fit again; said in the log, counted in --status."""
        now = self.clock() if now is None else now
        max_hours = self.settings.events_max_backlog_hours
        total = 0
        with self._writing() as conn:
            for portal_id, (queued, sheddable) in job_queue.event_backlogs(conn, SHEDDABLE_PRIORITY).items():
                max_requests, interval_s = self.portals.budget_for(portal_id)
                plan = plan_backlog(queued, sheddable, max_requests, interval_s, max_hours)
                if not plan.shed:
                    continue
                shed = job_queue.shed(conn, portal_id, SHEDDABLE_PRIORITY, plan.shed, now=now)
                total += shed
                log.warning("portal %s: %d queued event(s) need %s at %d requests / %g s, more than "
                            "OEMBED_EVENTS_MAX_BACKLOG_HOURS=%g: shed %d intermediate quartile event(s) (25/50/75)",
                            portal_id if portal_id is not None else "default", queued,
                            describe_duration(plan.seconds_needed), max_requests, interval_s, max_hours, shed)
        return total

    def read_journal(self, now: float | None = None) -> JournalReport | None:
        """The app's uninstalls from HubSpot's Webhooks Journal, since the last offset read.
        A HubSpot failure waits for the next poll (nothing is skipped: the offset stays)."""
        now = self.clock() if now is None else now
        client = self.portals.client_for(APP_PORTAL)
        if client is None:
            return None
        try:
            report = read_journal(self.engine, WebhooksJournal(client), self.settings, now)
        except HubSpotError as error:
            log.warning("reading the Webhooks Journal failed, next try in %gs: %s",
                        self.settings.hubspot.journal_poll_s, error)
            return None
        if report.files or report.restarted:
            log.info("Webhooks Journal: %s", report.describe())
        return report

    def prune(self, now: float | None = None) -> int:
        """Delete delivered jobs, held and dead engagement events (visitor data whose portal
        never installed or left) and closed play sessions older than the retention."""
        now = self.clock() if now is None else now
        cutoff = now - self.settings.events_retention_days * 86400
        pruned = 0
        while True:
            with self._writing() as conn:
                deleted = job_queue.prune_done(conn, cutoff) + job_queue.prune_shed(conn, cutoff)
            pruned += deleted
            if not deleted:
                break
        while True:
            with self._writing() as conn:
                deleted = job_queue.prune_kept_events(conn, JOB_KIND.values(), cutoff)
            pruned += deleted
            if not deleted:
                break
        with self._writing() as conn:
            prune_play_sessions(conn, cutoff)
            prune_contact_utks(conn, cutoff)
            prune_seen_webhook_events(conn, self.settings, now)
        delete_due_visitor_data(self.engine, now)
        self._next_prune = now + self.options.prune_every_s
        return pruned


def build_worker(catalog: CatalogStore, settings: Settings, *, options: WorkerOptions = WorkerOptions(),
                 **client_options) -> Worker:
    """A worker for this app's database and settings (its HubSpot client config is
    ``settings.hubspot``). On PostgreSQL the rate budget lives in the database, shared by
    every worker process; on SQLite it is in memory."""
    from oembed_server.hubspot.rate_limiter import RateLimiter, RequestBudget

    config = settings.hubspot
    limiter: RequestBudget
    if catalog.engine.dialect.name == "postgresql":
        from oembed_server.storage.shared_rate_budget import SharedRateLimiter, skip_commit_fsync
        skip_commit_fsync(catalog.engine)  # see there: nothing this process writes must survive a crash
        limiter = SharedRateLimiter(catalog.engine, config.rate_limit, config.rate_interval_s)
    else:
        limiter = RateLimiter(config.rate_limit, config.rate_interval_s)
    stable_key = settings.stable_secret_key
    client_options.setdefault("observer", job_telemetry.observe_hubspot_call)
    portals = PortalClients(config, catalog.engine, stable_secret_key=stable_key, limiter=limiter, **client_options)
    return Worker(catalog, settings, portals, stable_secret_key=stable_key, options=options)
