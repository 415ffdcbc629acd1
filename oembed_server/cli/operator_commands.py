"""``oembed-server operators ...``: who may sign in to the console at /console. Passwords
are prompted (never an argument, so they stay out of shell history and process lists) and
stored as Argon2 hashes."""
from __future__ import annotations

import json
import logging

import click
from flask.cli import with_appcontext

from oembed_server.storage.operator_store import OperatorStore
from oembed_server.usecases.console_operators import MIN_PASSWORD_LENGTH, OperatorRefused, add_operator, change_password
from oembed_server.web.app_state import current_catalog

log = logging.getLogger("oembed_server.console.audit")


def _store() -> OperatorStore:
    return OperatorStore(current_catalog().engine)


def _password() -> str:
    return click.prompt(f"Password (at least {MIN_PASSWORD_LENGTH} characters)", hide_input=True,
                        confirmation_prompt="Repeat the password")


@click.group("operators")
def operators_group() -> None:
    """Operators of the web console (/console)."""


@operators_group.command("add")
@click.argument("name")
@with_appcontext
def add_command(name: str) -> None:
    """Add operator NAME; the password is prompted."""
    try:
        add_operator(_store(), name, _password())
    except OperatorRefused as exc:
        raise click.ClickException(str(exc)) from None
    log.info("console: operator %s added from the command line", name)
    click.echo(f"Operator {name} added: sign in at /console.")


@operators_group.command("passwd")
@click.argument("name")
@with_appcontext
def passwd_command(name: str) -> None:
    """Change NAME's password (prompted); their open sessions end."""
    try:
        change_password(_store(), name, _password())
    except OperatorRefused as exc:
        raise click.ClickException(str(exc)) from None
    log.info("console: password of operator %s changed from the command line", name)
    click.echo(f"Password of {name} changed; their sessions were ended.")


@operators_group.command("remove")
@click.argument("name")
@with_appcontext
def remove_command(name: str) -> None:
    """Remove operator NAME and end their sessions."""
    if not _store().remove(name):
        raise click.ClickException(f"no operator {name!r}")
    log.info("console: operator %s removed from the command line", name)
    click.echo(f"Operator {name} removed.")


@operators_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON result.")
@with_appcontext
def list_command(as_json: bool) -> None:
    """Every operator (never their password hashes)."""
    from datetime import UTC, datetime

    def stamp(value: float) -> str:
        return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")

    operators = [{"name": o.name, "createdAt": stamp(o.created_at), "passwordChangedAt": stamp(o.updated_at)}
                 for o in _store().all()]
    if as_json:
        click.echo(json.dumps({"operators": operators}, indent=1))
    else:
        for o in operators:
            click.echo(f"{o['name']}\tsince {o['createdAt']}\tpassword changed {o['passwordChangedAt']}")
        if not operators:
            click.echo("No operator yet: add one with `oembed-server operators add NAME`.")
