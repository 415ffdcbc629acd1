"""Create the Media Bridge app's media object definitions that do not exist yet, print each
media type's object type name, and optionally add the app's extra properties.

Without --types it sets up the media types the catalog holds, so sync_media.py finds every
object type it needs; --types narrows or widens that list."""
from __future__ import annotations

from pathlib import Path

import click

from oembed_server.cli.script_support import EMPTY_PORTAL, DryRunPlan, common_options
from oembed_server.hubspot.media_bridge_api import MEDIA_TYPES, MediaBridgeSettings, check_media_types
from oembed_server.usecases.media_type_setup import load_extra_properties, plan_setup, setup_media_types


@click.command()
@click.option("--types", "types_", default=None,
              help="Comma-separated media types: VIDEO, AUDIO, DOCUMENT, IMAGE, OTHER "
                   "[default: the types the catalog holds].")
@click.option("--properties", "properties_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON file of extra property definitions: a list for every type, or an object by media type.")
@common_options
def main(ctx, types_: str | None, properties_file: Path | None):
    """Set up the app's media object definitions (needs HUBSPOT_DEVELOPER_API_KEY)."""
    in_catalog = [t for t in MEDIA_TYPES if t in set(ctx.catalog.media_types())]
    if types_ is None:
        if not in_catalog:
            raise ValueError("the catalog is empty: import media first, or name the types with --types")
        media_types = in_catalog
    else:
        media_types = check_media_types(types_.split(","))
        left_out = [t for t in in_catalog if t not in media_types]
        if left_out:
            click.echo(f"warning: the catalog also holds {', '.join(left_out)}; sync_media.py stops until "
                       "those types are set up too", err=True)
    extra = load_extra_properties(properties_file, media_types) if properties_file else None
    app_id = ctx.config.require_app_id()
    ctx.need_credentials("developer")
    if ctx.dry_run:
        return DryRunPlan(plan_setup(app_id, media_types, extra, ctx.config.media_bridge_version),
                          assumes=EMPTY_PORTAL)
    return setup_media_types(MediaBridgeSettings(ctx.client, app_id), media_types, extra)


if __name__ == "__main__":
    main()
