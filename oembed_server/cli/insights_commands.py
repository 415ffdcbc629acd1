"""``oembed-server insights revoke-links``: every insights link handed out so far (the
iframeUrl of every played event on HubSpot's timelines, the item pages) stops working;
links made afterwards work. OEMBED_SECRET_KEY, and so the stored tokens, stay as they are."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from oembed_server.domain.derived_keys import LINKS_PURPOSE
from oembed_server.storage.key_salts import replace_salt
from oembed_server.web.app_state import current_catalog


@click.group("insights")
def insights_group() -> None:
    """Insights links (capabilities to see visitor data)."""


@insights_group.command("revoke-links")
@with_appcontext
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def revoke_links(yes: bool) -> None:
    """Revoke every insights link made so far (session pages on contact timelines included)."""
    if not yes:
        click.confirm("Every insights link made so far stops working, including the session pages "
                      "of played events already on HubSpot's contact timelines. Go on?", abort=True)
    replace_salt(current_catalog().engine, LINKS_PURPOSE)
    click.echo("Revoked every insights link made so far; new links use a new key.")
