"""Upload a CMS module folder (cms_module/NAME.module/) to the portal through the CMS source
code API: validate each changed file, then upload one file per request, meta.json first."""
from __future__ import annotations

from pathlib import Path

import click

from oembed_server.cli.script_support import DryRunPlan, common_options
from oembed_server.hubspot.source_code_api import ENVIRONMENTS, SourceCode
from oembed_server.package_data import CMS_MODULES_DIR
from oembed_server.usecases.module_push import PushRecord, collect_module_files, plan_push, push_module


@click.command()
@click.option("--module", default="media_embed", show_default=True, help="Module name (folder NAME.module).")
@click.option("--dest", default="media-bridge", show_default=True, help="Folder in the portal's design manager.")
@click.option("--environment", type=click.Choice(ENVIRONMENTS), default="draft", show_default=True)
@click.option("--source-dir", type=click.Path(file_okay=False, path_type=Path), default=CMS_MODULES_DIR,
              show_default=True, help="Folder holding the NAME.module folders.")
@common_options
def main(ctx, module: str, dest: str, environment: str, source_dir: Path):
    """Push the module to the portal (needs an OAuth token with the content scope)."""
    files = collect_module_files(source_dir, module, dest)
    ctx.need_credentials("oauth")
    if ctx.dry_run:
        # Validate and upload for every file: a real run skips the files it already pushed.
        return DryRunPlan(plan_push(files, environment), assumes="A first push of this module")
    record = PushRecord(Path(ctx.settings.push_record_path))
    return push_module(SourceCode(ctx.client), files, environment, record, ctx.config.portal_id)


if __name__ == "__main__":
    main()
