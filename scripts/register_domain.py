"""Register this provider's oEmbed endpoint ({OEMBED_PUBLIC_URL}/oembed) with the Media
Bridge app, with the catalog's URL schemes and discovery on; update it when it changed.

Refuses, against HubSpot's real API, a public URL HubSpot cannot reach (loopback, private,
plain http) unless --allow-local-url is given."""
from __future__ import annotations

import click

from oembed_server.cli.script_support import DryRunPlan, allow_local_url_option, common_options
from oembed_server.hubspot.media_bridge_api import MediaBridgeSettings
from oembed_server.usecases.domain_registration import (
    delete_domain,
    desired_endpoints,
    plan_delete,
    plan_register,
    register_domain,
)


@click.command()
@click.option("--delete", is_flag=True, help="Remove the registration instead.")
@click.option("--all-portals", is_flag=True,
              help="Register for every portal even when --portal-id / HUBSPOT_PORTAL_ID is set.")
@allow_local_url_option
@common_options
def main(ctx, delete: bool, all_portals: bool, allow_local_url: bool):
    """Register (or --delete) the oEmbed domain; restricted to --portal-id when one is given."""
    # Deleting sends nothing HubSpot must fetch, so any URL may be removed.
    public_url = ctx.public_url(allow_local=allow_local_url or delete)
    endpoints = desired_endpoints(public_url, ctx.settings.effective_url_schemes)
    portal_id = None if all_portals else ctx.config.portal_id
    app_id = ctx.config.require_app_id()
    ctx.need_credentials("developer")
    if ctx.dry_run:
        version = ctx.config.media_bridge_version
        if delete:
            return DryRunPlan(plan_delete(app_id, portal_id, version), assumes="A run that finds the registration")
        return DryRunPlan(plan_register(app_id, endpoints, portal_id, version),
                          assumes="A run against an app without this registration")
    app = MediaBridgeSettings(ctx.client, app_id)
    return delete_domain(app, endpoints, portal_id) if delete else register_domain(app, endpoints, portal_id)


if __name__ == "__main__":
    main()
