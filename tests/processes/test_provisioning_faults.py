"""Provisioning under faults: a worker killed mid-sync, a 429 storm in one portal, and
HubSpot failing one portal's sync for good while another's goes through."""
from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time

import pytest

from oembed_server.domain.media import MediaType
from tests.hubspot_emulator import LiveEmulator
from tests.support.environment import PUBLIC_URL, SECRET_KEY
from tests.support.portal_installs import (
    PORTAL_A,
    PORTAL_B,
    TEST_PORTALS,
    external_ids,
    install,
    install_env,
    item,
    make_install_app,
    run_worker,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def created_per_external_id(emulator, hub_id: int) -> collections.Counter:
    """Every object ever created in the portal (archived too), per external id."""
    return collections.Counter(o.properties.get("hs_external_id") for objects in
                               emulator.state.data(hub_id).objects.values() for o in objects.values())


def test_worker_killed_mid_sync_resumes_without_duplicates(sqlite_url):
    with LiveEmulator(rate_interval_ms=200, test_portals=TEST_PORTALS) as emulator:
        app = make_install_app(sqlite_url, emulator)
        catalog = app.extensions["catalog"]
        catalog.upsert([item(f"v-{i:04d}") for i in range(1000)])
        install(app.test_client(), emulator, PORTAL_A)
        # Slow upserts, so SIGKILL lands between two of the sync's ten batch writes.
        emulator.state.add_latency(0.3, times=100, path=r"/batch/upsert$")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "OEMBED_"))}
        env |= install_env(emulator) | {"OEMBED_DATABASE_URL": sqlite_url, "OEMBED_PUBLIC_URL": PUBLIC_URL,
                                        "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_URL_SCHEMES": ""}
        process = subprocess.Popen([sys.executable, "-m", "oembed_server.cli", "worker", "--lease-seconds", "2"],
                                   env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while len(emulator.state.live_objects(hub_id=PORTAL_A)) < 300:
                assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
                time.sleep(0.02)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        assert len(emulator.state.live_objects(hub_id=PORTAL_A)) < 1000  # killed mid-sync

        restarted = subprocess.run([sys.executable, "-m", "oembed_server.cli", "worker", "--once",
                                    "--lease-seconds", "2"], env=env, cwd=REPO, capture_output=True, text=True,
                                   timeout=120)
        assert restarted.returncode == 0, restarted.stderr
        created = created_per_external_id(emulator, PORTAL_A)
        assert len(created) == 1000 and set(created.values()) == {1}
        progress = app.test_client().get("/hubspot/connect")  # the app still serves
        assert progress.status_code == 200
        catalog.dispose()


def test_a_429_storm_in_one_portal_does_not_delay_another(sqlite_url):
    with LiveEmulator(rate_interval_ms=200, test_portals=TEST_PORTALS) as emulator:
        app = make_install_app(sqlite_url, emulator)
        app.extensions["catalog"].upsert([item(f"v-{i:03d}") for i in range(250)])
        client = app.test_client()
        install(client, emulator, PORTAL_A)
        install(client, emulator, PORTAL_B)
        # Portal B's media writes are refused for a long while; A's are not.
        emulator.state.rate_limit_storm(times=60, hub_id=PORTAL_B, path=r"^/crm/")
        run_worker(app, emulator)
        wanted = [f"v-{i:03d}" for i in range(250)]
        assert external_ids(emulator, PORTAL_A) == external_ids(emulator, PORTAL_B) == wanted
        crm = [(i, r) for i, r in enumerate(emulator.state.requests) if r.path.startswith("/crm/")]
        a_done = max(i for i, r in crm if r.status == 200 and r.hub_id == PORTAL_A)
        b_first_ok = min(i for i, r in crm if r.status == 200 and r.hub_id == PORTAL_B)
        assert a_done < b_first_ok  # A finished while B was still weathering its storm
        assert not [r for _, r in crm if r.status == 429 and r.hub_id == PORTAL_A]
        app.extensions["catalog"].dispose()


@pytest.mark.parametrize("media_type", [MediaType.VIDEO])
def test_one_portal_failing_for_good_leaves_the_other_done(sqlite_url, media_type):
    with LiveEmulator(rate_interval_ms=200, test_portals=TEST_PORTALS) as emulator:
        app = make_install_app(sqlite_url, emulator)
        app.extensions["catalog"].upsert([item("v-1", media_type=media_type)])
        client = app.test_client()
        install(client, emulator, PORTAL_A)
        install(client, emulator, PORTAL_B)
        emulator.state.fail_next(400, times=1, hub_id=PORTAL_B, path=r"/batch/upsert$")
        run_worker(app, emulator)
        assert external_ids(emulator, PORTAL_A) == ["v-1"] and external_ids(emulator, PORTAL_B) == []
        steps = {p: {s["step"]: s for s in client.get(_status(client, p)).get_json()["steps"]}
                 for p in (PORTAL_A, PORTAL_B)}
        assert steps[PORTAL_A]["provision.sync"]["state"] == "done"
        failed = steps[PORTAL_B]["provision.sync"]
        assert failed["state"] == "failed" and "400" in failed["detail"]
        app.extensions["catalog"].dispose()


def _status(client, portal_id: int) -> str:
    from oembed_server.web.install_routes import status_token
    with client.application.test_request_context():
        return f"/hubspot/installs/{status_token(portal_id)}/progress.json"
