"""Create the Media Bridge app's media object definitions that do not exist yet, print each
media type's object type name, and optionally add the app's extra properties."""
from __future__ import annotations

from pathlib import Path

import click

from oembed_server.hubspot.cli_common import common_options
from oembed_server.hubspot.media_bridge import MediaBridgeSettings, check_media_types
from oembed_server.hubspot.media_type_setup import load_extra_properties, plan_setup, setup_media_types


@click.command()
@click.option("--types", "types_", default="VIDEO,AUDIO,IMAGE", show_default=True,
              help="Comma-separated media types: VIDEO, AUDIO, DOCUMENT, IMAGE, OTHER.")
@click.option("--properties", "properties_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON file of extra property definitions: a list for every type, or an object by media type.")
@common_options
def main(ctx, types_: str, properties_file: Path | None):
    """Set up the app's media object definitions (needs HUBSPOT_DEVELOPER_API_KEY)."""
    media_types = check_media_types(types_.split(","))
    extra = load_extra_properties(properties_file, media_types) if properties_file else None
    app_id = ctx.config.require_app_id()
    if ctx.dry_run:
        return plan_setup(app_id, media_types, extra, ctx.config.media_bridge_version)
    return setup_media_types(MediaBridgeSettings(ctx.client, app_id), media_types, extra)


if __name__ == "__main__":
    main()
