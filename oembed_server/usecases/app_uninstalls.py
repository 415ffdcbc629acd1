"""Uninstalls of the app, from either side.

HubSpot's side: app setup subscribes the app to its uninstalls in the Webhooks Journal
(once; an upsert at HubSpot, its id kept in the database), and the worker reads the
journal from the last offset it stored, every HUBSPOT_JOURNAL_POLL_S. Each journal file is
acted on in one transaction with the offset after it, so a crash re-reads a file whole
and never skips one. An uninstall of a known portal marks it disconnected, forgets its
tokens, drops its queued jobs and schedules its visitor data for deletion once the
retention period (OEMBED_EVENTS_RETENTION_DAYS) has passed; an entry that cannot be read
becomes a journal dead letter with its raw text (logged, counted in ``worker --status``).

Our side: ``portals disconnect P --uninstall`` asks HubSpot to remove the app from the
portal (with the portal's token, while it still works), then does the same locally."""
from __future__ import annotations

import collections
import dataclasses
import logging
import time

from sqlalchemy.engine import Engine

from oembed_server.domain.journal_entries import INSTALL, OTHER, UNINSTALL, LifecycleEntry, parse_journal_file
from oembed_server.hubspot.app_installs_api import uninstall_from_portal
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.webhooks_journal_api import WebhooksJournal
from oembed_server.settings import Settings
from oembed_server.storage import app_lifecycle
from oembed_server.storage.write_transaction import write_transaction

log = logging.getLogger(__name__)

# Files read per poll at most: a long-unread journal is caught up over several polls.
MAX_FILES_PER_POLL = 500


def journal_enabled(settings: Settings) -> bool:
    config = settings.hubspot
    return bool(config.journal_poll_s > 0 and config.client_id and config.client_secret and config.app_id)


def ensure_subscription(engine: Engine, journal: WebhooksJournal, now: float | None = None) -> bool:
    """Subscribe the app to its uninstalls; True when HubSpot made a new subscription."""
    subscription_id, created = journal.ensure_uninstall_subscription()
    with write_transaction(engine) as conn:
        app_lifecycle.save_subscription(conn, subscription_id, time.time() if now is None else now)
    if created:
        log.info("subscribed to app uninstalls in the Webhooks Journal (subscription %s)", subscription_id)
    return created


@dataclasses.dataclass
class JournalReport:
    files: int = 0
    outcomes: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    dropped_jobs: int = 0
    restarted: bool = False
    subscribed: bool = True

    def describe(self) -> str:
        if not self.subscribed:
            return "not subscribed yet (app setup subscribes)"
        parts = [f"{self.files} file(s)"] + [f"{n} {k}" for k, n in sorted(self.outcomes.items())]
        if self.dropped_jobs:
            parts.append(f"{self.dropped_jobs} queued job(s) dropped")
        return ", ".join(parts)


def read_journal(engine: Engine, journal: WebhooksJournal, settings: Settings, now: float | None = None,
                 max_files: int = MAX_FILES_PER_POLL) -> JournalReport:
    """Act on every journal file after the stored offset (up to ``max_files``)."""
    report = JournalReport()
    with engine.connect() as conn:
        cursor = app_lifecycle.cursor(conn)
    if cursor.subscription_id is None:
        report.subscribed = False
        return report
    offset = cursor.last_offset
    while report.files < max_files:
        files = journal.files_after(offset, min(max_files - report.files, 100))
        if files is None:
            # HubSpot no longer knows where we stopped (its journal keeps entries for a
            # limited time): read again from the earliest; acting twice changes nothing.
            log.warning("the Webhooks Journal does not know offset %s: reading again from its earliest entry", offset)
            report.restarted = True
            offset = None
            continue
        if not files:
            break
        for journal_file in files:
            entries = parse_journal_file(journal.read(journal_file))
            stamp = time.time() if now is None else now
            with write_transaction(engine) as conn:
                for entry in entries:
                    _act(conn, entry, journal_file.offset, settings, stamp, report)
                app_lifecycle.save_offset(conn, journal_file.offset, stamp)
            report.files += 1
            offset = journal_file.offset
    return report


def _act(conn, entry, file_offset: str, settings: Settings, now: float, report: JournalReport) -> None:
    if not isinstance(entry, LifecycleEntry):
        app_lifecycle.add_dead_letter(conn, file_offset, entry.reason, entry.raw, now)
        log.error("journal file %s: an entry could not be read (%s); kept as a journal dead letter",
                  file_offset, entry.reason)
        report.outcomes["dead_letter"] += 1
        return
    app_id = settings.hubspot.app_id
    if entry.app_id is not None and app_id is not None and entry.app_id != app_id:
        report.outcomes["other_app"] += 1
        return
    if entry.action in (INSTALL, OTHER):
        report.outcomes["install" if entry.action == INSTALL else "ignored"] += 1
        return
    assert entry.action == UNINSTALL
    if entry.portal_id == settings.hubspot.portal_id:
        # The configured portal's tokens come from the environment, which only its operator can change.
        log.warning("portal %s (HUBSPOT_PORTAL_ID) uninstalled the app: its HUBSPOT_ACCESS_TOKEN and "
                    "HUBSPOT_REFRESH_TOKEN stop working; remove them", entry.portal_id)
    result = app_lifecycle.mark_uninstalled(conn, entry.portal_id, entry.occurred_at,
                                            delete_after=now + settings.events_retention_days * 86400, now=now)
    report.outcomes[f"uninstall_{result.outcome}"] += 1
    report.dropped_jobs += result.dropped_jobs
    if result.outcome == "applied":
        log.info("portal %s uninstalled the app: disconnected, tokens forgotten, %d queued job(s) dropped, "
                 "visitor data deleted after %g day(s)", entry.portal_id, result.dropped_jobs,
                 settings.events_retention_days)


def uninstall_portal(engine: Engine, client: HubSpotClient, portal_id: int, settings: Settings,
                     now: float | None = None) -> app_lifecycle.Uninstalled:
    """``portals disconnect P --uninstall``: HubSpot removes the app from P first (a failure
    changes nothing here), then P is handled as an uninstall HubSpot told us of."""
    uninstall_from_portal(client)
    now = time.time() if now is None else now
    with write_transaction(engine) as conn:
        return app_lifecycle.mark_uninstalled(conn, portal_id, None,
                                              delete_after=now + settings.events_retention_days * 86400, now=now)


def delete_due_visitor_data(engine: Engine, now: float) -> list[app_lifecycle.VisitorDataDeleted]:
    with write_transaction(engine) as conn:
        deleted = app_lifecycle.delete_due_visitor_data(conn, now)
    for d in deleted:
        log.info("portal %s: visitor data of the uninstalled app deleted (%d play session(s), %d event job(s), "
                 "%d utk-contact pair(s))", d.portal_id, d.play_sessions, d.jobs, d.hubspot_contact_utks)
    return deleted
