"""Reports answered 202 survive the server being killed before its next disk flush.

The intake's SQLite commits do not wait for the disk (OEMBED_EVENTS_FLUSH_MS); what a
202 promises still holds against the crash of every server process at once.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from oembed_server.domain.player_tokens import PlayerClaims, issue_token
from oembed_server.storage import schema_version
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.environment import SECRET_KEY, free_port

ROOT = Path(__file__).resolve().parents[2]


def post(port: int, body: dict) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/events", body=json.dumps(body), headers={"Content-Type": "text/plain;charset=UTF-8"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_sigkill_of_every_server_process_loses_no_answered_report(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    store = CatalogStore.from_url(f"sqlite:///{path}")
    schema_version.upgrade(store.engine)
    load_sample_media(store, public_url)
    store.dispose()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OEMBED_", "HUBSPOT_"))}
    env |= {"OEMBED_ENV": "production", "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_PUBLIC_URL": public_url,
            "OEMBED_DATABASE_URL": f"sqlite:///{path}", "OEMBED_EVENTS_CLIENT_RATE": "0",
            # The longest bound: the kill lands long before the flush that follows a commit.
            "OEMBED_EVENTS_FLUSH_MS": "1000", "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "oembed_server:create_app()"], cwd=ROOT, env=env, start_new_session=True)
    token = issue_token(SECRET_KEY, PlayerClaims("sample-video", "VIDEO", None, False))
    answered = 0
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.1)
        now = int(time.time() * 1000)
        for n in range(40):
            session = f"crash-session-{n:04d}-abcdef"
            base = {"token": token, "externalId": "sample-video", "sessionId": session,
                    "sessionSecret": f"{session}-secret", "occurredTimestamp": now}
            for report in ([dict(base, kind="played", state="STARTED")]
                           + [dict(base, kind="quartile", playedPercent=q) for q in (0, 25, 50)]):
                assert post(port, report) == 202
                answered += 1
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # master and workers, no chance to flush or exit cleanly
        server.wait(timeout=20)

    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM jobs").scalar() == answered == 160
            assert conn.exec_driver_sql("SELECT count(*) FROM play_sessions WHERE state = 'STARTED'").scalar() == 40
    finally:
        engine.dispose()
