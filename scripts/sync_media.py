"""Upsert the whole catalog (OEMBED_DATABASE_URL) into the portal as Media Bridge media
objects, 100 per batch call, and record each item's HubSpot object id in the catalog.

Refuses, against HubSpot's real API, a public URL HubSpot cannot reach (loopback, private,
plain http) unless --allow-local-url is given: hs_oembed_url must be fetchable by HubSpot.

With --portal-id of a portal installed by OAuth: its stored tokens, its library only."""
from __future__ import annotations

import sys

import click
from tqdm import tqdm

from oembed_server.cli.script_support import EMPTY_PORTAL, DryRunPlan, allow_local_url_option, common_options
from oembed_server.hubspot.crm_objects_api import CrmObjects
from oembed_server.hubspot.media_bridge_api import MEDIA_TYPES, MediaBridgeSettings
from oembed_server.usecases.media_sync import plan_sync, sync_catalog


@click.command()
@click.option("--prune", is_flag=True, help="Archive media objects whose media left the catalog.")
@allow_local_url_option
@common_options
def main(ctx, prune: bool, allow_local_url: bool):
    """Sync the catalog to HubSpot (developer credentials for object types, OAuth for objects)."""
    app_id = ctx.config.require_app_id()
    public_url = ctx.public_url(allow_local=allow_local_url)
    ctx.need_credentials("developer", "oauth")
    if ctx.dry_run:
        types = [t for t in MEDIA_TYPES if t in set(ctx.catalog.media_types())]
        return DryRunPlan(plan_sync(ctx.catalog, app_id, public_url, prune=prune,
                                    version=ctx.config.media_bridge_version),
                          assumes=EMPTY_PORTAL,
                          needs=f"the app's object definitions for {', '.join(types) or 'no type'} "
                                "(scripts/setup_media_types.py creates the catalog's types)")
    installed = ctx.installed_portal
    # A portal installed by OAuth gets its own library only, and its object ids are its own.
    scope = {"library": installed.library, "record_ids": False} if installed else {}
    # A bar only where someone watches; logs and CI get the summary alone.
    with tqdm(total=ctx.catalog.count(), unit="item", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
        return sync_catalog(ctx.catalog, CrmObjects(ctx.client), MediaBridgeSettings(ctx.client, app_id),
                            public_url, prune=prune, progress=bar.update, **scope)


if __name__ == "__main__":
    main()
