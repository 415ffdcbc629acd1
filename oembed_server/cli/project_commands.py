"""``oembed-server hubspot-project``: write this provider's HubSpot developer project, or
check one (``--check DIR``), before ``hs project upload``. Needs no database."""
from __future__ import annotations

import os
from pathlib import Path

import click

from oembed_server.cli.script_support import default_instance_path
from oembed_server.domain.hubspot_app import DISTRIBUTIONS
from oembed_server.settings import ConfigError, Settings, load_settings
from oembed_server.usecases.hubspot_project import ProjectRefused, check_project, write_project


def _settings() -> Settings:
    try:
        return load_settings(os.environ, default_instance_path())
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None


@click.command("hubspot-project")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write the project into this folder (created if missing).")
@click.option("--check", "check_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Check the project in this folder instead, as `hs project validate` would.")
@click.option("--distribution", type=click.Choice(DISTRIBUTIONS), default="marketplace", show_default=True,
              help="marketplace (any portal may install) or private (an allowlist of up to 10 accounts).")
@click.option("--name", help="The app's name in HubSpot (default: OEMBED_PROVIDER_NAME).")
@click.option("--support-email", help="config.support.supportEmail")
@click.option("--documentation-url", help="config.support.documentationUrl")
@click.option("--support-url", help="config.support.supportUrl")
@click.option("--support-phone", help="config.support.supportPhone")
@click.option("--force", is_flag=True, help="Overwrite the project files if they exist.")
def hubspot_project_command(out_dir: Path | None, check_dir: Path | None, distribution: str, name: str | None,
                            support_email: str | None, documentation_url: str | None, support_url: str | None,
                            support_phone: str | None, force: bool) -> None:
    """Write (--out DIR) or check (--check DIR) the HubSpot developer project (platform 2026.03)
    declaring this provider's app: OAuth, scopes, redirect URL and webhook subscriptions."""
    if (out_dir is None) == (check_dir is None):
        raise click.UsageError("give --out DIR or --check DIR (one of them)")
    settings = _settings()
    if check_dir is not None:
        result = check_project(check_dir, settings.hubspot_scopes)
        for line in result.lines():
            click.echo(line, err=not result.valid)
        if not result.valid:
            raise SystemExit(1)
        return
    assert out_dir is not None
    support = {"supportEmail": support_email, "documentationUrl": documentation_url, "supportUrl": support_url,
               "supportPhone": support_phone}
    try:
        written = write_project(out_dir, name=name or settings.provider_name, public_url=settings.public_url,
                                public_url_explicit=settings.public_url_explicit, distribution=distribution,
                                required_scopes=settings.hubspot_scopes,
                                support={k: v for k, v in support.items() if v}, force=force)
    except ProjectRefused as exc:
        raise click.ClickException(str(exc)) from None
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"Next: cd {out_dir} && hs project upload")
