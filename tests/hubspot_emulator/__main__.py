"""python -m tests.hubspot_emulator --port 8765: the emulator alone, for local trials.
Prints the HUBSPOT_* variables that point the scripts at it."""
from __future__ import annotations

import click

from tests.hubspot_emulator.app import create_emulator_app
from tests.hubspot_emulator.state import MEDIA_TYPES, EmulatorState


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option("--rate-limit", default=100, show_default=True, type=click.IntRange(1), help="Requests per window.")
@click.option("--define", default="", help="Media types to define up front, e.g. VIDEO,AUDIO.")
def main(host: str, port: int, rate_limit: int, define: str) -> None:
    state = EmulatorState(rate_limit=rate_limit)
    types = [t.strip().upper() for t in define.split(",") if t.strip()]
    bad = [t for t in types if t not in MEDIA_TYPES]
    if bad:
        raise click.BadParameter(f"unknown media types {bad}", param_hint="--define")
    state.define_media_types(*types)
    click.echo(f"export HUBSPOT_API_BASE=http://{host}:{port}")
    click.echo(f"export HUBSPOT_DEVELOPER_ACCESS_TOKEN={next(iter(state.developer_tokens))}")
    click.echo(f"export HUBSPOT_DEVELOPER_API_KEY={state.developer_api_key}")
    click.echo(f"export HUBSPOT_ACCESS_TOKEN={next(iter(state.access_tokens))}")
    click.echo(f"export HUBSPOT_REFRESH_TOKEN={next(iter(state.refresh_tokens))}")
    click.echo(f"export HUBSPOT_CLIENT_ID={state.client_id} HUBSPOT_CLIENT_SECRET={state.client_secret}")
    click.echo(f"export HUBSPOT_APP_ID={state.app_id} HUBSPOT_PORTAL_ID={state.portal_id}")
    create_emulator_app(state).run(host=host, port=port, threaded=True)


if __name__ == "__main__":
    main()
