"""What the console's buttons do: the same use cases the CLI runs (queue a sync or a
module push, disconnect, requeue dead jobs, import a catalog, make and revoke invites),
returning a sentence for the operator."""
from __future__ import annotations

import dataclasses
from typing import BinaryIO

from sqlalchemy.exc import SQLAlchemyError

from oembed_server.storage import job_queue
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.storage.portal_store import PortalStore
from oembed_server.usecases.catalog_import import CatalogFileError, RowProblem, import_catalog, read_catalog_rows
from oembed_server.usecases.provisioning import queue_catalog_change, queue_push, queue_sync

# A page lists this many problems of a bad file; the count says how many there were.
SHOWN_PROBLEMS = 200


class ActionRefused(ValueError):
    """The action cannot run; the message says why."""


def _connected(store: PortalStore, portal_id: int) -> None:
    record = store.get(portal_id)
    if record is None:
        raise ActionRefused(f"portal {portal_id} is not installed")
    if not record.connected:
        raise ActionRefused(f"portal {portal_id} is disconnected: it must install the app again")


def resync(store: PortalStore, portal_id: int) -> str:
    _connected(store, portal_id)
    with store.engine.begin() as conn:
        added = queue_sync(conn, [portal_id])
    return f"Portal {portal_id}: sync queued." if added else f"Portal {portal_id} already had a sync waiting."


def push_modules(store: PortalStore, portal_id: int) -> str:
    _connected(store, portal_id)
    with store.engine.begin() as conn:
        added = queue_push(conn, [portal_id])
    return (f"Portal {portal_id}: module push queued." if added
            else f"Portal {portal_id} already had a module push waiting.")


def disconnect(store: PortalStore, portal_id: int) -> str:
    if store.get(portal_id) is None:
        raise ActionRefused(f"portal {portal_id} is not installed")
    if store.disconnect(portal_id, "disconnected by an operator"):
        return f"Portal {portal_id}: tokens forgotten; its jobs are held until it installs again."
    return f"Portal {portal_id} was already disconnected."


def retry_dead(store: PortalStore, *, portal_id: int | None = None, job_id: int | None = None) -> str:
    with store.engine.begin() as conn:
        count = job_queue.requeue_dead(conn, portal_id=portal_id, job_id=job_id)
    if job_id is not None:
        return f"Job {job_id} requeued." if count else f"Job {job_id} is not a dead job (any more)."
    return f"Portal {portal_id}: {count} dead job(s) requeued."


@dataclasses.dataclass
class UploadOutcome:
    applied: bool
    message: str
    problems: list[str] = dataclasses.field(default_factory=list)
    problem_count: int = 0


def upload_catalog(catalog: CatalogStore, store: PortalStore, filename: str, stream: BinaryIO) -> UploadOutcome:
    """import-catalog's rules on an uploaded file: every problem by row number, nothing
    applied on any; on success the changed libraries' portals get a sync."""
    shown: list[str] = []

    def keep(problem: RowProblem) -> None:
        if len(shown) < SHOWN_PROBLEMS:
            shown.append(str(problem))

    try:
        outcome = import_catalog(catalog, read_catalog_rows(filename, stream), keep)
    except CatalogFileError as exc:
        return UploadOutcome(False, f"{exc} (nothing imported)", [], 1)
    except SQLAlchemyError as exc:
        return UploadOutcome(False, f"database error ({type(exc).__name__}); nothing imported", [], 1)
    if outcome.report is None:
        return UploadOutcome(False, f"Nothing imported: {outcome.problems} problem(s) in {outcome.rows} row(s) "
                                    f"of {filename}.", shown, outcome.problems)
    report = outcome.report
    with catalog.engine.begin() as conn:
        portals = queue_catalog_change(conn, store, report.libraries)
    message = (f"Imported {outcome.rows} item(s) from {filename}: {report.inserted} added, {report.updated} "
               f"updated, {report.unchanged} unchanged.")
    if portals:
        message += f" Queued a sync for {len(portals)} installed portal(s) of the changed libraries."
    return UploadOutcome(True, message)
