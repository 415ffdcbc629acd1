"""Send a played, a quartile and an attention-span event for one catalog item through the
synchronous media events endpoints (v1, or the dated version HUBSPOT_MEDIA_EVENTS_VERSION
names), and print HubSpot's answers."""
from __future__ import annotations

import time
import uuid

import click

from oembed_server.cli.script_support import DryRunPlan, allow_local_url_option, common_options
from oembed_server.domain.media import media_page_url
from oembed_server.hubspot.media_events_api import MediaEvents
from oembed_server.usecases.check_events import (
    QUARTILES,
    EventContext,
    build_test_events,
    check_version,
    plan_test_events,
    send_test_events,
)


@click.command()
@click.option("--media", "external_id", required=True, help="The catalog item's external id.")
@click.option("--contact-utk", help="The visitor's hubspotutk cookie value.")
@click.option("--contact-id", type=click.IntRange(1), help="A HubSpot contact id (wins over --contact-utk).")
@click.option("--session-id", default=None, help="Session id (default: a new random one).")
@click.option("--percent", type=click.Choice([str(q) for q in QUARTILES]), default="25", show_default=True,
              help="The quartile reached.")
@click.option("--page-id", type=click.IntRange(1), help="A HubSpot CMS page id.")
@click.option("--page-name", help="Page title for a page outside HubSpot (default: the media title).")
@click.option("--page-url", help="Page URL for a page outside HubSpot (default: the media page).")
@allow_local_url_option
@common_options
def main(ctx, external_id, contact_utk, contact_id, session_id, percent, page_id, page_name, page_url,
         allow_local_url):
    """Check an integration: three v1 events for --media, attributed to a contact."""
    item = ctx.catalog.get(external_id)
    if item is None:
        raise ValueError(f"no catalog item with external id {external_id!r}")
    public_url = ctx.public_url(allow_local=allow_local_url)
    ctx.need_credentials("oauth")
    if page_id is None:
        page_name = page_name or item.title
        page_url = page_url or media_page_url(public_url, item.external_id)
    event_ctx = EventContext(session_id or f"test-{uuid.uuid4()}", int(time.time() * 1000), contact_utk, contact_id,
                             page_id, page_name, page_url)
    events = build_test_events(item, public_url, event_ctx, int(percent))
    version = check_version(ctx.config.media_events_version)
    if ctx.dry_run:
        return DryRunPlan(plan_test_events(events, version))
    return send_test_events(MediaEvents(ctx.client, version), events)


if __name__ == "__main__":
    main()
