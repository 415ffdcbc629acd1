"""What every scripts/*.py shares: the common flags, building the client, printing a
result / a dry-run plan / an error (one line, non-zero exit)."""
from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import sys
from typing import Any, Callable

import click

from ..catalog_store import CatalogStore
from ..config import ConfigError, Settings, load_settings
from .calls import ApiCall
from .client import HubSpotClient
from .config import HubSpotConfig, HubSpotConfigError, load_hubspot_config
from .errors import HubSpotError, redact

# Bad input the scripts explain in one line rather than with a traceback.
EXPECTED_ERRORS = (HubSpotError, HubSpotConfigError, ConfigError, ValueError, OSError)


@dataclasses.dataclass
class ScriptContext:
    app_id: int | None
    portal_id: int | None
    dry_run: bool
    as_json: bool
    _config: HubSpotConfig | None = None
    _settings: Settings | None = None
    _catalog: CatalogStore | None = None
    _client: HubSpotClient | None = None

    @property
    def config(self) -> HubSpotConfig:
        if self._config is None:
            self._config = load_hubspot_config(os.environ, app_id=self.app_id, portal_id=self.portal_id)
        return self._config

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(os.environ, default_instance_path())
        return self._settings

    @property
    def catalog(self) -> CatalogStore:
        if self._catalog is None:
            self._catalog = CatalogStore.from_url(self.settings.database_url)
            self._catalog.create_schema()
        return self._catalog

    @property
    def client(self) -> HubSpotClient:
        if self.dry_run:
            raise RuntimeError("a dry run must not build a HubSpot client")
        if self._client is None:
            self._client = HubSpotClient(self.config, token_store=self._token_store())
        return self._client

    def _token_store(self):
        if not os.environ.get("OEMBED_SECRET_KEY") or not self.config.refresh_token:
            return None  # checked first so a run without a store opens no database
        from .token_store import token_store_for
        return token_store_for(self.catalog.engine, self.settings.secret_key, self.config.refresh_token)

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.dispose()


def default_instance_path() -> str:
    """The instance folder create_app uses, so scripts and server share records."""
    from flask import Flask
    return Flask("oembed_server", instance_relative_config=True).instance_path


def common_options(command: Callable) -> Callable:
    """--app-id, --portal-id, --dry-run, --json; the command receives a ScriptContext first
    and returns a result (with to_dict() and lines()) or, in a dry run, a list of ApiCalls."""

    @click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON result.")
    @click.option("--dry-run", is_flag=True, help="Print the requests that would be sent; send nothing.")
    @click.option("--portal-id", type=click.IntRange(1), envvar="HUBSPOT_PORTAL_ID", show_envvar=True,
                  help="The HubSpot portal (hub id).")
    @click.option("--app-id", type=click.IntRange(1), envvar="HUBSPOT_APP_ID", show_envvar=True,
                  help="The Media Bridge app's id.")
    @functools.wraps(command)
    def wrapper(app_id, portal_id, dry_run, as_json, **kwargs):
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        ctx = ScriptContext(app_id, portal_id, dry_run, as_json)
        try:
            result = command(ctx, **kwargs)
        except EXPECTED_ERRORS as exc:
            fail(ctx, exc)
        finally:
            ctx.close()
        if dry_run:
            print_plan(ctx, result)
        else:
            print_result(ctx, result)

    return wrapper


def print_plan(ctx: ScriptContext, calls: list[ApiCall]) -> None:
    base = _api_base(ctx)
    if ctx.as_json:
        click.echo(json.dumps({"ok": True, "dryRun": True, "requests": [c.describe(base) for c in calls]}, indent=1))
        return
    click.echo(f"Dry run: nothing was sent. A run against a portal without these objects would send "
               f"{len(calls)} request(s):")
    for call in calls:
        click.echo(f"  {call.describe_line(base)}")


def print_result(ctx: ScriptContext, result: Any) -> None:
    if ctx.as_json:
        click.echo(json.dumps({"ok": True, "dryRun": False, "result": result.to_dict()}, indent=1, default=str))
    else:
        for line in result.lines():
            click.echo(line)


def fail(ctx: ScriptContext, exc: Exception) -> None:
    secrets = ctx._config.secrets() if ctx._config else ()
    if ctx._client is not None:
        secrets = (*secrets, *ctx._client.tokens.secrets())
    line = redact(_one_line(exc), secrets)
    if ctx.as_json:
        detail = exc.to_dict() if isinstance(exc, HubSpotError) else {"message": line}
        click.echo(json.dumps({"ok": False, "error": detail | {"text": line}}, indent=1))
    click.echo(f"error: {line}", err=True)
    sys.exit(1)


def _one_line(exc: Exception) -> str:
    text = str(exc) if not isinstance(exc, OSError) or not exc.filename else f"{exc.filename}: {exc.strerror}"
    return " ".join(text.split())


def _api_base(ctx: ScriptContext) -> str:
    try:
        return ctx.config.api_base
    except HubSpotConfigError:
        return "https://api.hubapi.com"
