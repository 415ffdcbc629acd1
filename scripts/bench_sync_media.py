"""Benchmark sync_media on a 10,000-item catalog against the HubSpot emulator served live
in-process: write calls, look-up calls and seconds, for a first run and an unchanged second run.

By default the emulator and the client both use HubSpot's real budget (100 requests per
10 s per portal), so the seconds are what a Free/Starter portal would cost; --rate-limit and
--interval-s change it (e.g. --rate-limit 100000 shows the raw cost without throttling)."""
from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.hubspot_emulator

from oembed_server.domain.media import MediaItem, MediaType
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.client_config import load_hubspot_config
from oembed_server.hubspot.crm_objects_api import CrmObjects
from oembed_server.hubspot.media_bridge_api import MediaBridgeSettings
from oembed_server.storage import schema_version
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.usecases.media_sync import sync_catalog
from tests.hubspot_emulator import LiveEmulator

PUBLIC_URL = "https://media.example.com"
# Shares that are multiples of 100 per type, so each type fills whole batches.
MIX = ((MediaType.VIDEO, 0.6), (MediaType.AUDIO, 0.3), (MediaType.IMAGE, 0.1))
# Every CRM call that changes objects: single create and the batch writes.
WRITE = re.compile(r"^/crm/v3/objects/[^/]+(/batch/(create|update|upsert|archive))?$")


def build_catalog(database_url: str, total: int) -> CatalogStore:
    catalog = CatalogStore.from_url(database_url)
    schema_version.upgrade(catalog.engine)
    items = []
    for media_type, share in MIX:
        for i in range(int(total * share)):
            external_id = f"{media_type.value.lower()}-{i:06d}"
            items.append(MediaItem(
                external_id=external_id, media_type=media_type, title=f"{media_type.value.title()} {i}",
                file_url=f"https://cdn.example.com/{external_id}", thumbnail_url=f"https://cdn.example.com/{external_id}.png",
                duration_ms=60_000 + i if media_type is not MediaType.IMAGE else None, folder_path=f"/Bench/{i % 50}"))
    catalog.upsert(items)
    return catalog


def measure(live: LiveEmulator, catalog: CatalogStore, client: HubSpotClient) -> dict:
    start_index = len(live.state.requests)
    started = time.perf_counter()
    sync_catalog(catalog, CrmObjects(client), MediaBridgeSettings(client, live.state.app_id), PUBLIC_URL)
    seconds = time.perf_counter() - started
    requests = live.state.requests[start_index:]
    writes = sum(1 for r in requests if r.method == "POST" and WRITE.match(r.path))
    return {"writes": writes, "lookups": len(requests) - writes, "rate_limited": sum(r.status == 429 for r in requests),
            "seconds": seconds}


@click.command()
@click.option("--items", default=10_000, show_default=True, type=click.IntRange(100))
@click.option("--rate-limit", default=100, show_default=True, type=click.IntRange(1),
              help="Requests per window, for the emulator and the client alike.")
@click.option("--interval-s", default=10.0, show_default=True, type=click.FloatRange(0.01))
def main(items: int, rate_limit: int, interval_s: float) -> None:
    with tempfile.TemporaryDirectory() as tmp, LiveEmulator(rate_limit=rate_limit,
                                                            rate_interval_ms=int(interval_s * 1000)) as live:
        live.state.define_media_types(*(t.value for t, _ in MIX))
        catalog = build_catalog(f"sqlite:///{os.path.join(tmp, 'bench.sqlite3')}", items)
        config = load_hubspot_config(live.env(), rate_limit=rate_limit, rate_interval_s=interval_s)
        client = HubSpotClient(config)
        click.echo(f"{catalog.count()} items; budget {rate_limit} requests / {interval_s:g} s per portal "
                   "(emulator and client)")
        for label in ("first run", "second run (unchanged)"):
            m = measure(live, catalog, client)
            click.echo(f"{label:24} write calls {m['writes']:4}  look-up calls {m['lookups']:4}  "
                       f"429s {m['rate_limited']}  {m['seconds']:.1f} s")
        catalog.dispose()


if __name__ == "__main__":
    main()
