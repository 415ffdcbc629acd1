"""The app factory: settings read once, the catalog opened (never migrated: see
``storage.schema_version``), the blueprints registered."""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from oembed_server.observability import metrics
from oembed_server.observability.log_format import configure_logging
from oembed_server.package_data import WEB_STATIC_DIR, WEB_TEMPLATES_DIR
from oembed_server.settings import EPHEMERAL_SECRET_WARNING, ConfigError, load_settings
from oembed_server.storage import schema_version
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.storage.engine import describe_database_error
from oembed_server.storage.schema_version import SchemaNotCurrent
from oembed_server.web import request_observer, security_headers

__all__ = ["create_app"]
log = logging.getLogger(__name__)
# test_config keys that stand for environment variables, i.e. settings.
SETTING_PREFIXES = ("OEMBED_", "HUBSPOT_")


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``test_config`` keys starting with ``OEMBED_`` or ``HUBSPOT_`` override
    the environment variables of the same name; the others go into ``app.config``.

    Called with nothing, as a WSGI server does (``gunicorn "oembed_server:create_app()"``),
    a bad setting or an unreachable database ends the process with one line on stderr
    instead of a traceback; callers that pass a mapping get the exception.
    """
    if test_config is None:
        try:
            return _build_app({})
        except START_FAILURES as exc:
            print(f"oembed_server: {describe_start_failure(exc)}", file=sys.stderr, flush=True)
            # gunicorn's APP_LOAD_ERROR: its arbiter stops instead of booting worker after worker.
            raise SystemExit(4) from None
    return _build_app(test_config)


class DatabaseUnavailable(RuntimeError):
    """The database could not be opened or read at start; the message says why, without
    the SQL or the password."""


# What stops the app from starting, each said in one line by describe_start_failure.
START_FAILURES = (ConfigError, SchemaNotCurrent, DatabaseUnavailable)


def describe_start_failure(exc: Exception) -> str:
    """One line for a configuration or database error at start (no password, no SQL)."""
    if isinstance(exc, ConfigError):
        return f"configuration error: {exc}"
    if isinstance(exc, DatabaseUnavailable):
        return f"database unavailable: {exc}"
    return str(exc)


def _build_app(test_config: Mapping[str, Any]) -> Flask:
    # Named after the package, as before the layers: Flask derives the instance folder (the
    # embedded database's home) from this name.
    app = Flask("oembed_server", instance_relative_config=True,
                template_folder=str(WEB_TEMPLATES_DIR), static_folder=str(WEB_STATIC_DIR))
    # /media//x would otherwise be answered with a redirect built from the request's Host
    # header; with merging off it is simply not found.
    app.url_map.merge_slashes = False
    overrides = dict(test_config or {})
    environ = dict(os.environ) | {k: str(v) for k, v in overrides.items() if k.startswith(SETTING_PREFIXES)}
    os.makedirs(app.instance_path, exist_ok=True)
    # The one read of the settings: everything below, the views, the worker and the commands
    # take them from app.extensions["oembed_settings"] (web.app_state.current_settings).
    settings = load_settings(environ, app.instance_path, local_server_url=overrides.get("LOCAL_SERVER_URL"))

    app.config.update(
        SECRET_KEY=settings.secret_key,
        # The local HubL preview is a development aid: `oembed-server serve` switches it on.
        PREVIEW_ENABLED=False,
        JSON_SORT_KEYS=False,
    )
    # app.config keeps Flask's own keys (TESTING, SECRET_KEY...) and what a command or a
    # test decides for this one app rather than what a deployment sets: PREVIEW_ENABLED
    # (`serve` only), WARN_EPHEMERAL_SECRET (commands that do not serve), UPGRADE_EMBEDDED_SCHEMA
    # (the CLI), LOCAL_SERVER_URL (where `serve` listens), and test hooks for constants
    # (PREVIEW_PROVIDER_ID, CMS_MODULE_DIR, EVENTS_SESSION_REPORT_LIMIT). Anything an
    # OEMBED_*/HUBSPOT_* variable sets lives in Settings alone, never twice.
    app.config.update({k: v for k, v in overrides.items() if not k.startswith(SETTING_PREFIXES)})
    if settings.ephemeral_secret and app.config.get("WARN_EPHEMERAL_SECRET", True) and not app.testing:
        log.warning(EPHEMERAL_SECRET_WARNING)
    app.extensions["oembed_settings"] = settings
    app.extensions["url_matcher"] = settings.url_matcher

    catalog = CatalogStore.from_url(settings.database_url)
    try:
        if app.config.get("UPGRADE_EMBEDDED_SCHEMA") and settings.embedded_database:
            # `serve` on the embedded default: one command, so it brings its own file up to date.
            # A named database changes only through `db upgrade`, run by whoever deploys.
            schema_version.upgrade(catalog.engine)
        else:
            schema_version.require_current(catalog.engine)
    except SQLAlchemyError as exc:
        catalog.dispose()
        raise DatabaseUnavailable(describe_database_error(exc, settings.database_url)) from exc
    except BaseException:
        catalog.dispose()
        raise
    app.extensions["catalog"] = catalog

    _register_blueprints(app)
    security_headers.init_app(app, settings.public_url, settings.timeline_frame_ancestors)
    request_observer.init_app(app)
    if settings.trusted_proxies:
        # Only then are X-Forwarded-For/-Proto believed, and only as many hops as were named:
        # the rate limit and the request log then see the client, not the proxy.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)

    if not app.debug and not app.testing:
        configure_logging(settings.log_format)
        if "gunicorn" in sys.modules and not metrics.multiprocess_dir():
            log.warning("PROMETHEUS_MULTIPROC_DIR is not set: each gunicorn worker's /metrics shows only its own "
                        "counts; start gunicorn with -c python:oembed_server.gunicorn_config")
    return app


def _register_blueprints(app: Flask) -> None:
    from oembed_server.web import (
        chapters_ctas_routes,
        console_routes,
        gate_routes,
        health_routes,
        insights_pages,
        install_routes,
        intake_routes,
        log_redaction,
        media_pages,
        oembed_routes,
        preview_routes,
        sitemap_routes,
        webhook_routes,
    )

    app.register_blueprint(health_routes.bp)
    app.register_blueprint(oembed_routes.bp)
    app.register_blueprint(media_pages.bp)
    app.register_blueprint(intake_routes.bp)
    app.register_blueprint(gate_routes.bp)
    app.register_blueprint(insights_pages.bp)
    app.register_blueprint(install_routes.bp)
    app.register_blueprint(webhook_routes.bp)
    app.register_blueprint(sitemap_routes.bp)
    app.register_blueprint(chapters_ctas_routes.bp)
    install_routes.install_log_filter()
    log_redaction.install_access_log_redaction()
    console_routes.init_app(app)
    # The local HubL preview: 404 unless PREVIEW_ENABLED.
    app.register_blueprint(preview_routes.bp)
