"""The metric families read from the database at each scrape: the outbox by kind and
state, the oldest queued job per portal, dead letters, portals by state, the workers by
status and the share of each portal's HubSpot budget they last reported using.

Read, not counted, so they are right whichever gunicorn process answers the scrape and
however many workers (on however many hosts) share the database. Every query reads an
index (``ix_jobs_portal_state`` covers the job counts)."""
from __future__ import annotations

import time
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from oembed_server.domain.worker_health import is_live
from oembed_server.storage import app_lifecycle, worker_heartbeats
from oembed_server.storage.portal_store import CONNECTED, DISCONNECTED
from oembed_server.storage.schema import HELD, QUEUED, hubspot_portals, jobs
from oembed_server.usecases.provisioning import KIND_PUSH_MODULES, KIND_SYNC

PROVISIONING = "provisioning"
PORTAL_STATES = (CONNECTED, DISCONNECTED, PROVISIONING)
WORKER_STATUSES = ("running", "stopping", "stale")
_PROVISIONING_KINDS = (KIND_PUSH_MODULES, KIND_SYNC)


def portal_label(portal_id: int | None) -> str:
    return "default" if portal_id is None else str(portal_id)


def budget_portal_label(budget_key: str) -> str:
    """A limiter's budget key ("portal:123", "portal:None", "app:42") as a portal label."""
    kind, _, value = budget_key.partition(":")
    if kind == "app":
        return "app"
    return "default" if value in ("", "None") else value


class DatabaseCollector(Collector):
    def __init__(self, engine: Engine, clock=time.time):
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("oembed_database_up", "1 when the database answered this scrape's queries, else 0.")
        try:
            families = self._read(self.clock())
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self, now: float) -> list[GaugeMetricFamily]:
        by_state = GaugeMetricFamily("oembed_outbox_jobs", "Jobs in the outbox, by job kind and state "
                                     "(queued, held, dead, done: delivered and not yet pruned).",
                                     labels=["kind", "state"])
        oldest = GaugeMetricFamily("oembed_outbox_oldest_queued_age_seconds",
                                   "Age of the oldest queued (or held) job, by portal.", labels=["portal"])
        dead = GaugeMetricFamily("oembed_outbox_dead_letters", "Dead jobs (refused by HubSpot, kept until "
                                 "requeued), by portal.", labels=["portal"])
        portals = GaugeMetricFamily("oembed_portals", "Installed portals, by state.", labels=["state"])
        workers = GaugeMetricFamily("oembed_workers", "Workers by the status of their heartbeat.",
                                    labels=["status"])
        budget = GaugeMetricFamily("oembed_hubspot_rate_budget_used_ratio",
                                   "Share of each portal's HubSpot rate budget window in use, as the running "
                                   "workers last reported it (0 to 1).", labels=["portal"])
        journal = GaugeMetricFamily("oembed_journal_dead_letters",
                                    "Webhooks Journal entries (app uninstalls) that could not be read, kept with "
                                    "their raw text.")
        with self.engine.connect() as conn:
            journal.add_metric([], app_lifecycle.dead_letter_count(conn))
            for kind, state, count in conn.execute(
                    sa.select(jobs.c.kind, jobs.c.state, sa.func.count()).group_by(jobs.c.kind, jobs.c.state)):
                by_state.add_metric([kind, state], count)
            for portal_id, created in conn.execute(
                    sa.select(jobs.c.portal_id, sa.func.min(jobs.c.created_at))
                    .where(jobs.c.state.in_((QUEUED, HELD))).group_by(jobs.c.portal_id)):
                oldest.add_metric([portal_label(portal_id)], max(now - created, 0.0))
            for portal_id, count in conn.execute(
                    sa.select(jobs.c.portal_id, sa.func.count()).where(jobs.c.state == "dead")
                    .group_by(jobs.c.portal_id)):
                dead.add_metric([portal_label(portal_id)], count)
            provisioning = set(conn.execute(
                sa.select(jobs.c.portal_id).where(jobs.c.kind.in_(_PROVISIONING_KINDS),
                                                  jobs.c.state.in_((QUEUED, HELD))).distinct()).scalars())
            counts = dict.fromkeys(PORTAL_STATES, 0)
            for portal_id, token_state in conn.execute(sa.select(hubspot_portals.c.portal_id,
                                                                 hubspot_portals.c.token_state)):
                if token_state == CONNECTED:
                    counts[PROVISIONING if portal_id in provisioning else CONNECTED] += 1
                else:
                    counts[DISCONNECTED] += 1
            for state, count in counts.items():
                portals.add_metric([state], count)
            heartbeats = worker_heartbeats.all_heartbeats(conn)
        statuses = dict.fromkeys(WORKER_STATUSES, 0)
        usage: dict[str, float] = {}
        for beat in heartbeats:
            status = beat.status(now)
            if status in statuses:
                statuses[status] += 1
            if is_live(status):
                for key, share in beat.budget_usage.items():
                    label = budget_portal_label(key)
                    usage[label] = max(usage.get(label, 0.0), share)
        for status, count in statuses.items():
            workers.add_metric([status], count)
        for label, share in sorted(usage.items()):
            budget.add_metric([label], share)
        return [by_state, oldest, dead, portals, workers, budget, journal]

