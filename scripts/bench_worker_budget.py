"""How much of a portal's rate budget the worker uses while a backlog exists.

Fills a queue with engagement events, starts the HubSpot emulator with a budget (requests
per rolling window, as HubSpot's per-portal limit), runs `oembed-server worker`'s loop
against it, and counts the events that arrive over whole windows from the first one.
Goal: >= 95% of the allowed budget used, and no 429 caused by our own pacing.

    python scripts/bench_worker_budget.py                     # 100 per 2 s, 5 windows, SQLite
    python scripts/bench_worker_budget.py --limit 100 --interval 10 --windows 3
    python scripts/bench_worker_budget.py --database-url postgresql://...   # shared budget
    python scripts/bench_worker_budget.py --workers 2 --database-url postgresql://...

It exits 1 when a goal is missed, unless --no-check.

The window is shortened from HubSpot's 10 s so a run takes seconds; pacing errors show up
the same way (relative to the window), and --interval 10 measures the real one.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import click

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from oembed_server.domain.event_record import EventRecord  # noqa: E402
from oembed_server.domain.media import MediaItem, MediaType  # noqa: E402
from oembed_server.jobs.worker import WorkerOptions, build_worker  # noqa: E402
from oembed_server.settings import load_settings  # noqa: E402
from oembed_server.storage import job_queue as queue  # noqa: E402
from oembed_server.storage import schema_version  # noqa: E402
from oembed_server.storage.catalog_store import CatalogStore  # noqa: E402
from tests.hubspot_emulator import LiveEmulator  # noqa: E402

SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"
EVENTS_PATH = "/media-bridge/v2/events/"


def fill_backlog(catalog: CatalogStore, count: int) -> None:
    catalog.upsert([MediaItem("bench-clip", MediaType.VIDEO, "Bench clip", duration_ms=60_000)])
    rows, now = [], time.time()
    for i in range(count):
        record = EventRecord(kind="quartile", external_id="bench-clip", media_type="VIDEO", session_id=f"b{i // 5}",
                             occurred_at_ms=1_700_000_000_000 + i, played_percent=(0, 25, 50, 75, 100)[i % 5],
                             contact_utk=f"utk-{i // 5}", page_name="Bench", page_url="https://site.test/bench")
        rows.append(dict(kind=record.job_kind, portal_id=None, priority=record.job_priority,
                         payload=json.dumps(record.to_payload()), state=queue.QUEUED, attempts=0,
                         next_attempt_at=now, created_at=now, updated_at=now))
    with catalog.engine.begin() as conn:
        conn.execute(queue.jobs.insert(), rows)


@click.command()
@click.option("--limit", default=100, show_default=True, help="Requests allowed per window (HubSpot: 100 or 190).")
@click.option("--interval", default=2.0, show_default=True, help="Window length in seconds (HubSpot: 10).")
@click.option("--windows", default=5, show_default=True, help="Whole windows to measure.")
@click.option("--workers", default=1, show_default=True, help="Worker loops (threads standing in for processes; "
              "more than one needs PostgreSQL).")
@click.option("--database-url", default=None, help="Queue database (default: a temporary SQLite file).")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Exit 1 when a goal is missed (--no-check: report the figures only).")
def main(limit: int, interval: float, windows: int, workers: int, database_url: str | None, check: bool) -> None:
    tmp = tempfile.mkdtemp(prefix="bench-worker-")
    atexit.register(shutil.rmtree, tmp, True)
    database_url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
    if workers > 1 and not database_url.startswith("postgresql"):
        raise click.UsageError("several workers need --database-url postgresql://...")
    backlog = int(limit * windows * 1.5) + limit
    with LiveEmulator(rate_limit=limit, rate_interval_ms=int(interval * 1000)) as emulator:
        emulator.state.define_media_types("VIDEO")
        env = emulator.env() | {"OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": "http://media.test",
                                "OEMBED_SECRET_KEY": SECRET_KEY, "HUBSPOT_RATE_LIMIT": str(limit),
                                "HUBSPOT_RATE_LIMIT_INTERVAL_S": str(interval)}
        settings = load_settings(env, tmp)
        catalog = CatalogStore.from_url(settings.database_url)
        schema_version.upgrade(catalog.engine)
        with catalog.engine.begin() as conn:
            conn.execute(queue.jobs.delete())
        fill_backlog(catalog, backlog)
        loops = [build_worker(CatalogStore.from_url(settings.database_url), settings,
                              options=WorkerOptions(batch_size=50)) for _ in range(workers)]
        threads = [threading.Thread(target=w.run, daemon=True) for w in loops]
        for thread in threads:
            thread.start()

        def arrived() -> int:
            return emulator.state.count(path=EVENTS_PATH, status=202)

        while arrived() == 0:
            time.sleep(0.001)
        started = time.monotonic()
        samples = []
        for k in range(1, windows + 1):
            # The count just before the k-th window closes, measured from the first arrival.
            while time.monotonic() < started + k * interval - 0.002:
                time.sleep(0.0005)
            samples.append(arrived())
        for w in loops:
            w.stop()
        for thread in threads:
            thread.join(timeout=interval * 3)
        with catalog.engine.connect() as conn:
            left = sum(r.backlog for r in queue.status(conn))
        rate_limited = emulator.state.count(status=429)

    allowed = limit * windows
    used = samples[-1]
    per_window = [b - a for a, b in zip([0] + samples[:-1], samples, strict=True)]
    click.echo(f"budget: {limit} requests / {interval:g} s window; {windows} windows measured; "
               f"{workers} worker(s) on {database_url.split(':')[0]}")
    click.echo(f"events accepted per window: {per_window}")
    click.echo(f"used {used} of {allowed} allowed = {used / allowed:.1%} of the budget (goal >= 95%)")
    click.echo(f"429 answers: {rate_limited} (goal 0); backlog left at the end: {left} (must be > 0)")
    if left == 0:
        click.echo("warning: the backlog ran out; the figures understate the rate", err=True)
    ok = used / allowed >= 0.95 and rate_limited == 0 and left > 0
    sys.exit(0 if ok or not check else 1)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(REPO))
    main()
