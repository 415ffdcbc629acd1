"""Register this provider's oEmbed endpoint ({OEMBED_PUBLIC_URL}/oembed) with the Media
Bridge app, with the catalog's URL schemes and discovery on; update it when it changed."""
from __future__ import annotations

import click

from oembed_server.hubspot.cli_common import common_options
from oembed_server.hubspot.domain_registration import (delete_domain, desired_endpoints, plan_delete,
                                                       plan_register, register_domain)
from oembed_server.hubspot.media_bridge import MediaBridgeSettings


@click.command()
@click.option("--delete", is_flag=True, help="Remove the registration instead.")
@click.option("--all-portals", is_flag=True,
              help="Register for every portal even when --portal-id / HUBSPOT_PORTAL_ID is set.")
@common_options
def main(ctx, delete: bool, all_portals: bool):
    """Register (or --delete) the oEmbed domain; restricted to --portal-id when one is given."""
    settings = ctx.settings
    endpoints = desired_endpoints(settings.public_url, settings.effective_url_schemes)
    portal_id = None if all_portals else ctx.config.portal_id
    app_id = ctx.config.require_app_id()
    if ctx.dry_run:
        version = ctx.config.media_bridge_version
        return plan_delete(app_id, portal_id, version) if delete else plan_register(app_id, endpoints, portal_id,
                                                                                      version)
    app = MediaBridgeSettings(ctx.client, app_id)
    return delete_domain(app, endpoints, portal_id) if delete else register_domain(app, endpoints, portal_id)


if __name__ == "__main__":
    main()
