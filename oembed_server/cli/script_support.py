"""What every scripts/*.py shares: the common flags, building the client, the public URL
the scripts send, printing a result / a dry-run plan / an error (one line, non-zero exit).

Every script reads its settings once, before anything else, so a malformed value is named
before any other check. A dry run stops on nothing else it can see: it lists the requests,
then every problem the real run would stop on (missing credentials, a public URL HubSpot
cannot reach), and exits 1 when there is one."""
from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import click

from oembed_server.domain import public_url as public_url_rule
from oembed_server.hubspot.api_call import ApiCall
from oembed_server.hubspot.api_error import HubSpotError, redact
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.client_config import HubSpotConfig, HubSpotConfigError
from oembed_server.settings import ConfigError, Settings, load_settings
from oembed_server.storage import schema_version
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.storage.schema_version import SchemaNotCurrent


class ScriptInputError(ValueError):
    """Something the script was given would make HubSpot's copy wrong; nothing was sent."""


@dataclasses.dataclass
class DryRunPlan:
    """What a dry run prints: the requests, and what their count assumes about the portal."""
    calls: list[ApiCall]
    # Set when a real run skips what already exists, so it may send fewer requests.
    assumes: str | None = None
    # What the run relies on that a dry run cannot check without asking HubSpot.
    needs: str | None = None


# Bad input the scripts explain in one line rather than with a traceback.
EXPECTED_ERRORS = (HubSpotError, HubSpotConfigError, ConfigError, SchemaNotCurrent, ValueError, OSError)
# The request count of a plan that assumes nothing exists yet in the portal.
EMPTY_PORTAL = "A run against a portal without these objects"


def load_script_settings(environ: Mapping[str, str], *, app_id: int | None, portal_id: int | None) -> Settings:
    """The settings a script runs with: the environment's, read once, with --app-id and
    --portal-id (when given) in place of HUBSPOT_APP_ID and HUBSPOT_PORTAL_ID."""
    return load_settings(environ, default_instance_path()).with_hubspot(app_id=app_id, portal_id=portal_id)


@dataclasses.dataclass
class ScriptContext:
    settings: Settings
    dry_run: bool
    as_json: bool
    # What the real run would stop on, gathered by a dry run instead of stopping it.
    problems: list[str] = dataclasses.field(default_factory=list)
    _catalog: CatalogStore | None = None
    _client: HubSpotClient | None = None

    @property
    def config(self) -> HubSpotConfig:
        return self.settings.hubspot

    @property
    def portal_id(self) -> int | None:
        return self.config.portal_id

    @property
    def catalog(self) -> CatalogStore:
        if self._catalog is None:
            self._catalog = CatalogStore.from_url(self.settings.database_url)
            schema_version.require_current(self._catalog.engine)
        return self._catalog

    @property
    def client(self) -> HubSpotClient:
        if self.dry_run:
            raise RuntimeError("a dry run must not build a HubSpot client")
        if self._client is None:
            installed = self.installed_portal
            if installed is not None:
                # The install's own tokens: the environment's belong to the configured portal.
                config = dataclasses.replace(self.config, access_token=None, refresh_token=None)
                self._client = HubSpotClient(config, token_store=installed.store.tokens_of(installed.portal_id))
            else:
                self._client = HubSpotClient(self.config, token_store=self._token_store())
        return self._client

    @property
    def installed_portal(self):
        """The stored record of --portal-id when that portal installed the app by OAuth
        (its tokens are then used), else None (the HUBSPOT_* tokens are)."""
        if self.portal_id is None or self.settings.stable_secret_key is None:
            return None  # without the key stored tokens cannot be read; no database opened
        from oembed_server.storage.portal_store import PortalStore
        store = PortalStore(self.catalog.engine, self.settings.secret_key)
        record = store.get(self.portal_id)
        if record is None:
            return None
        if not record.connected:
            raise HubSpotConfigError(f"portal {self.portal_id} is disconnected ({record.state_reason}): "
                                     "it must install the app again")
        return _Installed(store, record.portal_id, record.library)

    def stop_unless_dry_run(self, problem: str | None) -> None:
        """A real run stops on ``problem``; a dry run notes it and goes on planning."""
        if problem is None:
            return
        if not self.dry_run:
            raise ScriptInputError(problem)
        self.problems.append(problem)

    def public_url(self, allow_local: bool = False) -> str:
        """OEMBED_PUBLIC_URL (or the default, with a warning) as the scripts send it to HubSpot."""
        url = self.settings.public_url
        explicit = self.settings.public_url_explicit
        if not explicit:
            click.echo(public_url_rule.fallback_warning(url), err=True)
        if not allow_local:
            self.stop_unless_dry_run(public_url_rule.hubspot_reachability_problem(
                url, self.config.api_base, from_default=not explicit))
            # Explicit schemes are sent as they are; the default ones derive from the URL above.
            for scheme in self.settings.url_schemes:
                self.stop_unless_dry_run(public_url_rule.scheme_problem(scheme, self.config.api_base))
        return url

    def need_credentials(self, *kinds: str) -> None:
        """Note missing credentials in a dry run (a real run fails on its first call anyway).
        ``kinds``: "developer" (app settings) and/or "oauth" (portal data)."""
        if not self.dry_run:
            return
        config = self.config
        if "developer" in kinds and config.developer_credential is None:
            self.problems.append("app settings calls need developer credentials: set HUBSPOT_DEVELOPER_ACCESS_TOKEN "
                                 "or HUBSPOT_DEVELOPER_API_KEY")
        can_refresh = config.refresh_token and config.client_id and config.client_secret
        if "oauth" in kinds and not (config.access_token or can_refresh):
            self.problems.append("portal calls need OAuth: set HUBSPOT_ACCESS_TOKEN, or HUBSPOT_REFRESH_TOKEN "
                                 "with HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET")

    def _token_store(self):
        secret = self.settings.stable_secret_key
        refresh = self.config.refresh_token
        # Only a stable key can read tokens back next run; a per-process one would be pointless.
        if not secret or not refresh:
            return None
        from oembed_server.storage.token_store import EncryptedTokenStore
        return EncryptedTokenStore(self.catalog.engine, secret, refresh)

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.dispose()


@dataclasses.dataclass(frozen=True)
class _Installed:
    store: Any
    portal_id: int
    library: str


def default_instance_path() -> str:
    """The instance folder create_app uses, so scripts and server share records."""
    from flask import Flask
    return Flask("oembed_server", instance_relative_config=True).instance_path


def allow_local_url_option(command: Callable) -> Callable:
    """--allow-local-url for the scripts that send the public URL to HubSpot."""
    option = click.option("--allow-local-url", is_flag=True,
                          help="Send OEMBED_PUBLIC_URL to HubSpot even when it is loopback, private or plain http.")
    return option(command)


def common_options(command: Callable) -> Callable:
    """--app-id, --portal-id, --dry-run, --json; the command receives a ScriptContext first
    and returns a result (with to_dict() and lines()) or, in a dry run, a DryRunPlan (or a
    plain list of ApiCalls)."""

    @click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON result.")
    @click.option("--dry-run", is_flag=True, help="Print the requests that would be sent; send nothing.")
    @click.option("--portal-id", type=click.IntRange(1), envvar="HUBSPOT_PORTAL_ID", show_envvar=True,
                  help="The HubSpot portal (hub id).")
    @click.option("--app-id", type=click.IntRange(1), envvar="HUBSPOT_APP_ID", show_envvar=True,
                  help="The Media Bridge app's id.")
    @functools.wraps(command)
    def wrapper(app_id, portal_id, dry_run, as_json, **kwargs):
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        try:
            settings = load_script_settings(os.environ, app_id=app_id, portal_id=portal_id)
        except ConfigError as exc:
            fail_at_start(as_json, exc)
        ctx = ScriptContext(settings, dry_run, as_json)
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


def print_plan(ctx: ScriptContext, plan: DryRunPlan | list[ApiCall]) -> None:
    if not isinstance(plan, DryRunPlan):
        plan = DryRunPlan(list(plan))
    base = ctx.config.api_base
    if ctx.as_json:
        click.echo(json.dumps({"ok": not ctx.problems, "dryRun": True,
                               "requests": [c.describe(base) for c in plan.calls], "needs": plan.needs,
                               "problems": ctx.problems}, indent=1))
    else:
        count = f"{len(plan.calls)} request(s)"
        heading = f"{plan.assumes} would send {count}" if plan.assumes else f"The run would send {count}"
        click.echo(f"Dry run: nothing was sent. {heading}:")
        for call in plan.calls:
            click.echo(f"  {call.describe_line(base)}")
        if plan.needs:
            click.echo(f"It needs {plan.needs}.")
        for problem in ctx.problems:
            click.echo(f"problem: {problem}", err=True)
        if ctx.problems:
            click.echo(f"The real run would stop: {len(ctx.problems)} problem(s) above.", err=True)
    if ctx.problems:
        sys.exit(1)


def print_result(ctx: ScriptContext, result: Any) -> None:
    if ctx.as_json:
        click.echo(json.dumps({"ok": True, "dryRun": False, "result": result.to_dict()}, indent=1, default=str))
    else:
        for line in result.lines():
            click.echo(line)


def fail(ctx: ScriptContext, exc: Exception) -> NoReturn:
    secrets = ctx.config.secrets()
    if ctx._client is not None:
        secrets = (*secrets, *ctx._client.tokens.secrets())
    # A dry run that met a problem it could not plan past still names the ones seen before.
    for problem in ctx.problems:
        click.echo(f"problem: {problem}", err=True)
    _print_error(ctx.as_json, exc, redact(_one_line(exc), secrets))


def fail_at_start(as_json: bool, exc: ConfigError) -> NoReturn:
    """A setting is malformed: nothing else was checked, read or sent."""
    _print_error(as_json, exc, _one_line(exc))


def _print_error(as_json: bool, exc: Exception, line: str) -> NoReturn:
    if as_json:
        detail = exc.to_dict() if isinstance(exc, HubSpotError) else {"message": line}
        click.echo(json.dumps({"ok": False, "error": detail | {"text": line}}, indent=1))
    click.echo(f"error: {line}", err=True)
    sys.exit(1)


def _one_line(exc: Exception) -> str:
    text = str(exc) if not isinstance(exc, OSError) or not exc.filename else f"{exc.filename}: {exc.strerror}"
    return " ".join(text.split())
