"""``oembed-server privacy erase``: erase by hand what a HubSpot privacy deletion erases
(one contact's, or one visitor token's, play sessions, event jobs and map rows in one
portal). Prints the rows removed per table; running it again removes nothing more."""
from __future__ import annotations

import json
import re

import click
from flask.cli import with_appcontext

from oembed_server.storage.write_transaction import write_transaction
from oembed_server.usecases.webhook_processing import erase_by_hand
from oembed_server.web.app_state import current_catalog, current_settings

_UTK = re.compile(r"[A-Za-z0-9_-]{1,128}")


@click.group("privacy")
def privacy_group() -> None:
    """Visitor data: erase one contact's or one visitor token's."""


@privacy_group.command("erase")
@with_appcontext
@click.option("--portal", "portal_id", required=True, type=click.IntRange(1), help="The HubSpot portal (hub id).")
@click.option("--contact-id", type=click.IntRange(1), help="The contact's id in that portal.")
@click.option("--utk", help="A visitor token (hubspotutk), when the contact is not known.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def erase_command(portal_id: int, contact_id: int | None, utk: str | None, as_json: bool) -> None:
    """Erase everything tied to --contact-id (with every utk HubSpot tied to it) or --utk in --portal."""
    if (contact_id is None) == (utk is None):
        raise click.UsageError("give --contact-id or --utk (one of them)")
    if utk is not None and not _UTK.fullmatch(utk):
        raise click.BadParameter("must be a HubSpot user token (letters, digits, - and _)", param_hint="--utk")
    with write_transaction(current_catalog().engine) as conn:
        erased = erase_by_hand(conn, current_settings(), portal_id, contact_id=contact_id, utk=utk)
    counts = erased.counts()
    if as_json:
        click.echo(json.dumps(counts))
        return
    who = f"contact {contact_id}" if contact_id is not None else f"utk {utk}"
    click.echo(f"Erased {who} in portal {portal_id}:")
    for table, count in counts.items():
        click.echo(f"  {table}: {count} row(s)")
