"""Benchmark provisioning: a catalog (10,000 items by default) installed into 3 portals by
OAuth against the HubSpot emulator served live in-process, then provisioned by the worker,
at HubSpot's real budget (100 requests / 10 s per portal, emulator and client alike).

Prints, per portal, the requests it cost on its budget and the media-object write calls
(goal: 100 for 10,000 items), and the wall time against the best possible under the
budget: with N requests on one portal's budget, the last of them cannot leave before
floor((N - 1) / limit) windows have passed, and portals run side by side, so the best
possible is that bound for the busiest portal (goal: wall time <= 1.2x of it).
--items, --portals, --rate-limit and --interval-s scale it down with the same ratio logic."""
from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.*
sys.path.insert(0, str(Path(__file__).resolve().parent))  # for the sync benchmark's catalog

from bench_sync_media import WRITE, build_catalog  # noqa: E402
from tests.hubspot_emulator import LiveEmulator  # noqa: E402
from tests.portal_installs import install, make_install_app, run_worker  # noqa: E402

@click.command()
@click.option("--items", default=10_000, show_default=True, type=click.IntRange(100))
@click.option("--portals", default=3, show_default=True, type=click.IntRange(1, 20))
@click.option("--rate-limit", default=100, show_default=True, type=click.IntRange(1),
              help="Requests per window and portal, for the emulator and the client alike.")
@click.option("--interval-s", default=10.0, show_default=True, type=click.FloatRange(0.01))
def main(items: int, portals: int, rate_limit: int, interval_s: float) -> None:
    hubs = {9000 + i: f"Bench portal {i + 1}" for i in range(portals)}
    budget = {"HUBSPOT_RATE_LIMIT": str(rate_limit), "HUBSPOT_RATE_LIMIT_INTERVAL_S": f"{interval_s:g}"}
    with tempfile.TemporaryDirectory() as tmp, LiveEmulator(rate_limit=rate_limit, test_portals=hubs,
                                                            rate_interval_ms=int(interval_s * 1000)) as live:
        database_url = f"sqlite:///{os.path.join(tmp, 'bench.sqlite3')}"
        build_catalog(database_url, items).dispose()  # the same catalog as bench_sync_media's
        app = make_install_app(database_url, live, **budget)
        client = app.test_client()
        for hub_id in hubs:
            response, _ = install(client, live, hub_id)
            assert response.status_code == 303, response.get_data(as_text=True)
        first = len(live.state.requests)
        started = time.perf_counter()
        started_mono = time.monotonic()
        os.environ.update(budget)
        run_worker(app, live, idle_poll_s=0.05)
        wall = time.perf_counter() - started
        requests = live.state.requests[first:]
        click.echo(f"{app.extensions['catalog'].count()} items into {portals} portal(s); budget {rate_limit} "
                   f"requests / {interval_s:g} s per portal")
        worst = 0
        for hub_id in hubs:
            mine = [r for r in requests if r.hub_id == hub_id]
            writes = sum(1 for r in mine if r.method == "POST" and WRITE.match(r.path))
            uploads = sum(1 for r in mine if r.method == "PUT")
            objects = len(live.state.live_objects(hub_id=hub_id))
            worst = max(worst, len(mine))
            click.echo(f"portal {hub_id}: {objects} media objects, {writes} object write calls "
                       f"(goal {math.ceil(items / 100)}), {uploads} module file uploads, {len(mine)} requests "
                       f"on its budget, {sum(r.status == 429 for r in mine)} x 429")
            if os.environ.get("BENCH_TIMELINE") and mine:
                marks = [0, min(rate_limit, len(mine)) - 1, len(mine) - 1]
                click.echo("  answered at " + ", ".join(f"#{i + 1} {mine[i].answered_at - started_mono:.2f} s"
                                                        for i in marks))
        app_calls = sum(1 for r in requests if r.auth == "hapikey")
        best = (worst - 1) // rate_limit * interval_s
        click.echo(f"app-level calls (developer budget): {app_calls}")
        click.echo(f"wall time {wall:.1f} s; best possible under the budget {best:.1f} s; "
                   f"ratio {wall / best if best else float('inf'):.2f} (goal <= 1.2)")
        app.extensions["catalog"].dispose()


if __name__ == "__main__":
    main()
