"""/metrics under gunicorn with two workers: every process's counts add up whichever
process answers the scrape, the worker process's counts join through the shared
PROMETHEUS_MULTIPROC_DIR, promtool accepts the output, and production logs are JSON."""
from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from oembed_server.storage import job_queue, schema_version
from oembed_server.storage.catalog_store import CatalogStore
from tests.support.environment import SECRET_KEY, free_port, service_missing

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-token-0123456789abcdef"


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def healthz_count(text: str) -> float:
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == "oembed_http_requests_total" and s.labels.get("route") == "/healthz")


def test_two_gunicorn_workers_counts_add_up_and_promtool_accepts_them(tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        service_missing("promtool is not installed (Debian's prometheus package; tests/run_all.sh installs it)")
    database = tmp_path / "catalog.sqlite3"
    store = CatalogStore.from_url(f"sqlite:///{database}")
    schema_version.upgrade(store.engine)
    store.dispose()
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OEMBED_", "HUBSPOT_", "PROMETHEUS_"))}
    env |= {"OEMBED_ENV": "production", "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "OEMBED_DATABASE_URL": f"sqlite:///{database}", "OEMBED_METRICS_TOKEN": TOKEN,
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "PYTHONPATH": str(ROOT)}
    # A file left by a process that ended before this server started is not counted.
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999999.db").write_bytes(b"stale")
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:oembed_server.gunicorn_config", "--workers", "2",
             "--bind", f"127.0.0.1:{port}", "oembed_server:create_app()"], cwd=ROOT, env=env, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        assert not (metrics_dir / "counter_999999999.db").exists()

        # Concurrent requests until both sync workers have taken some: which worker accepts a
        # connection is the kernel's choice, so one may take a whole round.
        sent = 1

        def hammer() -> None:
            for _ in range(15):
                assert get(port, "/healthz")[0] == 200

        def worker_pids() -> set[str]:
            return {path.name.rsplit("_", 1)[1].split(".")[0] for path in metrics_dir.glob("counter_*.db")}

        deadline = time.monotonic() + 60
        while len(worker_pids()) < 2 and time.monotonic() < deadline:
            threads = [threading.Thread(target=hammer) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            sent += 8 * 15
        pids = worker_pids()
        assert len(pids) == 2, pids  # both workers counted requests...

        assert get(port, "/metrics")[0] == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        for _ in range(6):  # ...and whichever answers the scrape reports them all
            status, text = get(port, "/metrics", auth)
            assert status == 200
            assert healthz_count(text) == sent
        check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stdout + check.stderr

        # The worker process shares the directory: its counts join the same /metrics. Without
        # HubSpot credentials its one job is held.
        store = CatalogStore.from_url(f"sqlite:///{database}")
        with store.engine.begin() as conn:
            job_queue.enqueue(conn, "event.played", {"externalId": "x"}, portal_id=4242)
        store.dispose()
        worker = subprocess.run([sys.executable, "-m", "oembed_server.cli", "worker", "--once"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert worker.returncode == 0, worker.stderr
        status, text = get(port, "/metrics", auth)
        families = {family.name for family in text_string_to_metric_families(text)}
        assert {"oembed_workers", "oembed_outbox_jobs", "oembed_database_up", "oembed_portals"} <= families
        assert 'oembed_workers{status="running"} 0.0' in text
        assert 'oembed_worker_jobs_total{kind="event.played",outcome="held"} 1.0' in text
        assert 'oembed_outbox_jobs{kind="event.played",state="held"} 1.0' in text
    finally:
        server.terminate()
        server.wait(timeout=30)
    # Production logs one JSON object per line, and the probes above are not among them.
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert lines and all("level" in line and "message" in line for line in lines)
    assert not [line for line in lines if line.get("route") in ("/healthz", "/metrics")]
