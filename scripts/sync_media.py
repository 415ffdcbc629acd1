"""Upsert the whole catalog (OEMBED_DATABASE_URL) into the portal as Media Bridge media
objects, 100 per batch call, and record each item's HubSpot object id in the catalog."""
from __future__ import annotations

import sys

import click
from tqdm import tqdm

from oembed_server.hubspot.cli_common import common_options
from oembed_server.hubspot.crm import CrmObjects
from oembed_server.hubspot.media_bridge import MediaBridgeSettings
from oembed_server.hubspot.media_sync import plan_sync, sync_catalog


@click.command()
@click.option("--prune", is_flag=True, help="Archive media objects whose media left the catalog.")
@common_options
def main(ctx, prune: bool):
    """Sync the catalog to HubSpot (developer credentials for object types, OAuth for objects)."""
    app_id = ctx.config.require_app_id()
    public_url = ctx.settings.public_url
    if ctx.dry_run:
        return plan_sync(ctx.catalog, app_id, public_url, prune=prune, version=ctx.config.media_bridge_version)
    # A bar only where someone watches; logs and CI get the summary alone.
    with tqdm(total=ctx.catalog.count(), unit="item", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
        return sync_catalog(ctx.catalog, CrmObjects(ctx.client), MediaBridgeSettings(ctx.client, app_id),
                            public_url, prune=prune, progress=bar.update)


if __name__ == "__main__":
    main()
