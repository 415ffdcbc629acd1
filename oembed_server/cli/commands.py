"""Command line: a thin click layer over the catalog and the app factory.

``oembed-server`` is a FlaskGroup. The same commands are Flask CLI plugins (the
``flask.commands`` entry points in pyproject.toml), so ``flask --app oembed_server ...``
offers them too.
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.serving import run_simple

from oembed_server.app import START_FAILURES, create_app, describe_start_failure
from oembed_server.cli.insights_commands import insights_group
from oembed_server.cli.operator_commands import operators_group
from oembed_server.cli.portal_commands import portals_group
from oembed_server.cli.privacy_commands import privacy_group
from oembed_server.cli.project_commands import hubspot_project_command
from oembed_server.cli.script_support import default_instance_path
from oembed_server.domain import public_url
from oembed_server.settings import ConfigError, Settings, load_settings
from oembed_server.storage import schema_version
from oembed_server.storage.engine import create_catalog_engine, describe_database_error
from oembed_server.usecases.catalog_import import CatalogFileError, import_catalog, read_catalog_rows
from oembed_server.web.app_state import current_catalog, current_settings, settings_of


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--sample/--no-sample", default=None,
              help="Load the sample media that ship with the project "
                   "(default: on when the embedded SQLite catalog is used).")
@click.option("--debug", is_flag=True, help="Reload on code changes and show tracebacks.")
@click.option("--module-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Preview the CMS modules (NAME.module/ folders) in this directory instead of ours.")
def serve_command(host: str, port: int, sample: bool | None, debug: bool, module_dir: Path | None) -> None:
    """Run the provider with the development server (use gunicorn in production)."""
    from oembed_server import create_app
    from oembed_server.usecases.sample_media import load_sample_media

    # Without an explicit public URL the links must point where this server listens.
    overrides: dict[str, Any] = {"PREVIEW_ENABLED": True, "UPGRADE_EMBEDDED_SCHEMA": True,
                                 "LOCAL_SERVER_URL": public_url.local_server_url(host, port)}
    if module_dir is not None:
        overrides["CMS_MODULE_DIR"] = str(module_dir.resolve())
    app = _create_or_exit(create_app, overrides)
    settings = settings_of(app)
    if not settings.public_url_explicit:
        click.echo(public_url.fallback_warning(settings.public_url), err=True)
    if settings.production:
        app.config["PREVIEW_ENABLED"] = False
    if sample if sample is not None else settings.embedded_database:
        report = load_sample_media(app.extensions["catalog"], settings.public_url)
        click.echo(f"Sample media: {report.inserted} added, {report.updated} updated, {report.unchanged} unchanged")
    base = settings.public_url
    click.echo(f"Catalog:        {settings.database_url.split('@')[-1]}")
    click.echo(f"Index page:     {base}/")
    query = urlencode({"url": f"{base}/media/sample-video"})
    click.echo(f"oEmbed (JSON):  {base}/oembed?{query}")
    click.echo(f"oEmbed (XML):   {base}/oembed.xml?{query}")
    click.echo(f"Media page:     {base}/media/sample-video")
    if app.config["PREVIEW_ENABLED"] and module_dir is not None:
        click.echo(f"Module previews: {base}/_preview/ (the modules in {module_dir})")
    elif app.config["PREVIEW_ENABLED"]:
        click.echo(f"Module preview: {base}/_preview/media_embed?media=sample-video")
        click.echo(f"Email preview:  {base}/_preview/media_email?media=sample-video")
    # werkzeug directly: Flask's app.run() declines to start inside a Flask CLI command.
    run_simple(host, port, app, use_reloader=debug, use_debugger=debug, threaded=True)


@click.command("import-catalog")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_catalog_command(file: Path) -> None:
    """Upsert media from a JSON array or CSV file; any invalid row imports nothing."""
    catalog = current_catalog()
    try:
        with file.open("rb") as stream:
            outcome = import_catalog(catalog, read_catalog_rows(file.name, stream),
                                     lambda problem: click.echo(f"{file.name}: {problem}", err=True))
    except CatalogFileError as exc:
        raise click.ClickException(f"{exc} (nothing imported)") from None
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"database error, nothing imported: {describe_database_error(exc, catalog.engine.url)}") from None
    if outcome.report is None:
        click.echo(f"Nothing imported: {outcome.problems} problem(s) in {outcome.rows} row(s).", err=True)
        sys.exit(1)
    report = outcome.report
    click.echo(f"Imported {outcome.rows} item(s) from {file.name}: {report.inserted} added, "
               f"{report.updated} updated, {report.unchanged} unchanged.")
    from oembed_server.storage.portal_store import PortalStore
    from oembed_server.usecases.provisioning import queue_catalog_change
    with current_catalog().engine.begin() as conn:
        portals = queue_catalog_change(conn, PortalStore(current_catalog().engine, None), report.libraries)
    if portals:
        click.echo(f"Queued a sync for {len(portals)} installed portal(s) of the changed libraries.")


@click.group("db")
def db_group() -> None:
    """The database schema: where it stands, and bringing it to this version's."""


@db_group.command("upgrade")
def db_upgrade_command() -> None:
    """Bring the database to the newest schema revision (run it before starting a new version)."""
    with _engine_or_exit() as engine:
        try:
            outcome = schema_version.upgrade(engine)
        except SQLAlchemyError as exc:
            raise click.ClickException(
                f"database error, schema unchanged: {describe_database_error(exc, engine.url)}") from None
    if outcome.changed:
        click.echo(f"Database upgraded from {outcome.before_label} to {outcome.after}.")
    else:
        click.echo(f"Database already at the newest revision ({outcome.after}).")


@db_group.command("current")
def db_current_command() -> None:
    """Print the database's schema revision and whether it is the newest."""
    with _engine_or_exit() as engine:
        try:
            current = schema_version.describe_current(engine)
        except SQLAlchemyError as exc:
            raise click.ClickException(f"database unavailable: {describe_database_error(exc, engine.url)}") from None
    head = schema_version.head_revision()
    if current == head:
        click.echo(f"{current} (newest)")
    else:
        click.echo(f"{current} (newest is {head}: run `{schema_version.UPGRADE_COMMAND}`)")


@click.command("init-db")
def init_db_command() -> None:
    """Another name for `db upgrade`."""
    click.get_current_context().invoke(db_upgrade_command)


@contextlib.contextmanager
def _engine_or_exit() -> Iterator[Engine]:
    """The engine of OEMBED_DATABASE_URL (or the embedded default), without building the app:
    the app refuses a database whose schema is not the newest, which is what these fix."""
    engine = create_catalog_engine(load_settings_or_exit().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Send what is due now (waiting out short retries), then exit.")
@click.option("--status", "show_status", is_flag=True, help="Print backlog, held, sent, retried and dead counts "
              "per portal and job kind, and the latest dead jobs; send nothing.")
@click.option("--retry-dead", is_flag=True, help="Requeue dead jobs (all, or --portal / --kind), then exit.")
@click.option("--portal", "portal_id", type=click.IntRange(1), help="With --retry-dead: only this portal's jobs.")
@click.option("--kind", help="With --retry-dead: only jobs of this kind (e.g. event.played).")
@click.option("--batch-size", default=50, show_default=True, type=click.IntRange(1, 1000),
              help="Jobs claimed per turn of the loop.")
@click.option("--senders", default=4, show_default=True, type=click.IntRange(1, 32),
              help="Requests in flight at once per portal.")
@click.option("--lease-seconds", default=60.0, show_default=True, type=click.FloatRange(1),
              help="How long a killed worker's claimed jobs wait before another worker takes them.")
@click.option("--grace", default=20.0, show_default=True, type=click.FloatRange(0),
              help="On SIGTERM: seconds to finish the jobs in flight before giving them back and exiting.")
@click.option("--json", "as_json", is_flag=True, help="With --status: one JSON document.")
def worker_command(once: bool, show_status: bool, retry_dead: bool, portal_id: int | None, kind: str | None,
                   batch_size: int, senders: int, lease_seconds: float, grace: float, as_json: bool) -> None:
    """Send queued jobs (engagement events, portal provisioning) to HubSpot; runs until stopped (SIGTERM/Ctrl-C)."""
    from oembed_server.jobs.worker import WorkerOptions, build_worker
    from oembed_server.jobs.worker_stop import stop_on_signals
    from oembed_server.storage import job_queue

    catalog = current_catalog()
    if as_json and not show_status:
        raise click.UsageError("--json goes with --status")
    if show_status:
        _print_worker_status(catalog.engine, as_json)
        return
    if retry_dead:
        with catalog.engine.begin() as conn:
            count = job_queue.requeue_dead(conn, portal_id=portal_id, kind=kind)
        click.echo(f"Requeued {count} dead job(s).")
        return
    if portal_id is not None or kind is not None:
        raise click.UsageError("--portal and --kind go with --retry-dead")
    settings = current_settings()
    worker = build_worker(catalog, settings, options=WorkerOptions(batch_size=batch_size, senders_per_portal=senders,
                                                                  lease_s=lease_seconds))
    if catalog.engine.dialect.name == "sqlite":
        click.echo("SQLite: run a single worker (use PostgreSQL for several).", err=True)
    from oembed_server.usecases.app_uninstalls import journal_enabled
    from oembed_server.usecases.provisioning import (
        app_fingerprint,
        modules_dir,
        modules_fingerprint,
        queue_app_update,
        queue_module_update,
    )
    with catalog.engine.begin() as conn:
        pushed = queue_module_update(conn, worker.portals.store, modules_fingerprint(modules_dir(settings)))
        if worker.portals.store.connected_in(conn):
            # A new media type, public URL or URL scheme since the last app setup: do it again.
            queue_app_update(conn, app_fingerprint(catalog.media_types(), settings.public_url,
                                                   settings.effective_url_schemes,
                                                   journal=journal_enabled(settings)))
    if pushed:
        click.echo(f"New module version: queued a push for {len(pushed)} portal(s).")
    with stop_on_signals(worker, grace):
        report = worker.run(once=once)
    click.echo(f"Sent {report.sent}, retried {report.retried}, held {report.held}, dead {report.dead}; "
               f"closed {report.sessions_closed} play session(s); pruned {report.pruned} delivered job(s)"
               + (f"; shed {report.shed} intermediate quartile event(s) from a backlog too long" if report.shed
                  else "")
               + (f"; dropped {report.dropped} event(s) about private, removed or moved media" if report.dropped
                  else "") + ".")


def _print_worker_status(engine: Engine, as_json: bool) -> None:
    import json
    import time

    from oembed_server.jobs.status_report import status_lines
    from oembed_server.jobs.worker_status import journal_lines, journal_status, status_document, worker_lines
    from oembed_server.storage import app_lifecycle, job_queue, worker_heartbeats

    now = time.time()
    with engine.connect() as conn:
        rows, dead = job_queue.status(conn), job_queue.dead_jobs(conn, limit=10)
        heartbeats = worker_heartbeats.all_heartbeats(conn)
        journal = journal_status(app_lifecycle.cursor(conn), app_lifecycle.dead_letter_count(conn),
                                 app_lifecycle.dead_letters(conn, limit=5))
    if as_json:
        click.echo(json.dumps(status_document(rows, dead, heartbeats, now) | {"journal": journal}, indent=2))
        return
    settings = current_settings()
    budget = (settings.hubspot.rate_limit, settings.hubspot.rate_interval_s)
    table = status_lines(rows, dead, budget=budget, max_backlog_hours=settings.events_max_backlog_hours)
    for line in [*table, "", *worker_lines(heartbeats, now), "", *journal_lines(journal)]:
        click.echo(line)


def _create_or_exit(factory: Callable[[dict[str, Any]], Flask], overrides: dict[str, Any]) -> Flask:
    try:
        return factory(overrides)
    except START_FAILURES as exc:
        raise click.ClickException(describe_start_failure(exc)) from None


def load_settings_or_exit() -> Settings:
    """The settings of a command that needs no app (the app refuses an old schema)."""
    try:
        return load_settings(os.environ, default_instance_path())
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None


def _app_factory() -> Flask:
    # Commands other than serve neither serve nor sign anything with a per-process key. The
    # quick start stays one command: on the embedded SQLite default (no OEMBED_DATABASE_URL)
    # they bring their own file to the newest schema.
    return _create_or_exit(create_app, {"WARN_EPHEMERAL_SECRET": False, "UPGRADE_EMBEDDED_SCHEMA": True})


cli = FlaskGroup(create_app=_app_factory, add_version_option=False,
                 help="oEmbed provider for Media Bridge: serve the API, manage the catalog.")
# `serve` builds its own app (with the right public URL); the others run in the app's context.
for _command in (serve_command, import_catalog_command, db_group, init_db_command, worker_command, portals_group,
                 insights_group, operators_group):
    cli.add_command(_command)
cli.add_command(hubspot_project_command)
cli.add_command(privacy_group)


def main() -> None:
    cli(prog_name="oembed-server")


if __name__ == "__main__":
    main()
