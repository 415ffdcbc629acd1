"""What provisioning work to queue, and how far it has got: the steps of an install as jobs.

An install queues three steps: the app-level setup (object definitions, oEmbed domain,
event visibility; one job for the whole app, not per portal), then per portal the module
push and the catalog sync. A catalog change queues a sync for the connected portals of
the libraries it touched; a new module version queues a push for every connected portal.
A step already waiting for a portal is not queued twice (it reads the latest state when
it runs). Job payloads carry no credentials: a handler finds the portal's tokens itself.
"""
from __future__ import annotations

import dataclasses
import hashlib
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oembed_server.package_data import CMS_MODULES_DIR
from oembed_server.settings import Settings
from oembed_server.storage import job_queue
from oembed_server.storage.portal_store import PortalStore
from oembed_server.storage.provisioning_marks import get_mark, set_mark
from oembed_server.usecases.portal_clients import APP_PORTAL

KIND_APP_SETUP = "provision.app_setup"
KIND_PUSH_MODULES = "provision.push_modules"
KIND_SYNC = "provision.sync"
STEPS = (KIND_APP_SETUP, KIND_PUSH_MODULES, KIND_SYNC)
STEP_LABELS = {KIND_APP_SETUP: "App setup: media types, oEmbed domain, event visibility",
               KIND_PUSH_MODULES: "Modules media_embed and media_email",
               KIND_SYNC: "Media library as media objects"}
# Lower runs first within a portal's share of a batch; engagement events use 100.
PRIORITY = {KIND_APP_SETUP: 10, KIND_PUSH_MODULES: 20, KIND_SYNC: 30}

MODULES = ("media_embed", "media_email")
MODULES_DEST = "media-bridge"
# Customers pick modules in their editors, which offer published files only.
MODULES_ENVIRONMENT = "published"


def modules_dir(settings: Settings) -> Path:
    """The module sources pushed into portals (OEMBED_MODULES_DIR, else the packaged ones)."""
    return Path(settings.modules_dir)


def app_fingerprint(media_types: list[str], public_url: str, url_schemes: tuple[str, ...], *,
                    journal: bool = False) -> str:
    """What the app setup was done for: a new media type, public URL or scheme changes it,
    and so does turning on the journal of uninstalls (its subscription is part of the setup)."""
    parts = [",".join(sorted(media_types)), public_url, ",".join(url_schemes)]
    text = "\0".join(parts + (["journal"] if journal else []))
    return hashlib.sha256(text.encode()).hexdigest()


def queue_app_update(conn: Connection, fingerprint: str) -> int:
    """The app setup is queued again when what it was done for has changed."""
    if get_mark(conn, "app_setup") == fingerprint:
        return 0
    return queue_app_setup(conn, force=True)


def modules_fingerprint(source_dir: Path | None = None) -> str:
    """One hash over every file of the pushed modules: a new module version changes it."""
    digest = hashlib.sha256()
    root = source_dir or CMS_MODULES_DIR
    for module in MODULES:
        folder = root / f"{module}.module"
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# --- queueing -------------------------------------------------------------------------------
def _waiting(conn: Connection, kind: str, portal_id: int) -> bool:
    """A job of this kind is queued or held for the portal and not yet started."""
    jobs = job_queue.jobs
    return conn.execute(sa.select(jobs.c.id).where(
        jobs.c.kind == kind, jobs.c.portal_id == portal_id, jobs.c.state.in_((job_queue.QUEUED, job_queue.HELD)),
        jobs.c.lease_owner.is_(None)).limit(1)).first() is not None


def _queue(conn: Connection, kind: str, portal_ids: list[int]) -> int:
    added = 0
    for portal_id in portal_ids:
        if not _waiting(conn, kind, portal_id):
            job_queue.enqueue(conn, kind, {}, portal_id=portal_id, priority=PRIORITY[kind])
            added += 1
    return added


def queue_app_setup(conn: Connection, force: bool = False) -> int:
    if not force and get_mark(conn, "app_setup") is not None:
        return 0
    return _queue(conn, KIND_APP_SETUP, [APP_PORTAL])


def queue_install(conn: Connection, portal_id: int) -> None:
    """Everything a fresh (or renewed) install needs, in the caller's transaction."""
    queue_app_setup(conn)
    _queue(conn, KIND_PUSH_MODULES, [portal_id])
    _queue(conn, KIND_SYNC, [portal_id])
    # Work kept while the portal was disconnected runs again now.
    job_queue.release_portal(conn, portal_id)


def queue_sync(conn: Connection, portal_ids: list[int]) -> int:
    return _queue(conn, KIND_SYNC, portal_ids)


def queue_push(conn: Connection, portal_ids: list[int]) -> int:
    return _queue(conn, KIND_PUSH_MODULES, portal_ids)


def queue_catalog_change(conn: Connection, store: PortalStore, libraries: list[str] | tuple[str, ...]) -> list[int]:
    """The catalog changed in these libraries: their connected portals get a sync."""
    if not libraries:
        return []
    portals = store.connected_in(conn, list(libraries))
    queue_sync(conn, portals)
    return portals


def queue_module_update(conn: Connection, store: PortalStore, fingerprint: str) -> list[int]:
    """When the modules changed since the last check, every connected portal gets a push."""
    if get_mark(conn, "modules") == fingerprint:
        return []
    portals = store.connected_in(conn)
    queue_push(conn, portals)
    set_mark(conn, "modules", fingerprint)
    return portals


# --- progress ----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class StepStatus:
    kind: str
    label: str
    # waiting | running | retrying | done | failed | held | not queued
    state: str
    attempts: int
    detail: str | None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def to_dict(self) -> dict:
        return {"step": self.kind, "label": self.label, "state": self.state, "attempts": self.attempts,
                "detail": self.detail}


def portal_steps(conn: Connection, portal_id: int, now: float | None = None) -> list[StepStatus]:
    """The latest job of each provisioning step for the portal (app setup: the app's)."""
    now = time.time() if now is None else now
    jobs = job_queue.jobs
    steps = []
    for kind in STEPS:
        owner = APP_PORTAL if kind == KIND_APP_SETUP else portal_id
        row = conn.execute(sa.select(jobs.c.state, jobs.c.attempts, jobs.c.last_error, jobs.c.lease_until)
                           .where(jobs.c.kind == kind, jobs.c.portal_id == owner)
                           .order_by(jobs.c.id.desc()).limit(1)).mappings().first()
        steps.append(_step(kind, row, now))
    return steps


def _step(kind: str, row, now: float) -> StepStatus:
    label = STEP_LABELS[kind]
    if row is None:
        return StepStatus(kind, label, "not queued", 0, None)
    state, attempts, error = row["state"], row["attempts"], row["last_error"]
    if state == job_queue.DONE:
        return StepStatus(kind, label, "done", attempts, None)
    if state == job_queue.DEAD:
        return StepStatus(kind, label, "failed", attempts, error)
    if state == job_queue.HELD:
        return StepStatus(kind, label, "held", attempts, error)
    if row["lease_until"] is not None and row["lease_until"] > now:
        return StepStatus(kind, label, "running", attempts, None)
    return StepStatus(kind, label, "retrying" if attempts else "waiting", attempts, error if attempts else None)
