"""oEmbed provider for a media library connected to HubSpot through Media Bridge."""
from __future__ import annotations

import logging
import os
import sys
from typing import Any, Mapping

from flask import Flask
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from . import security_headers
from .catalog_store import CatalogStore, describe_database_error
from .config import EPHEMERAL_SECRET_WARNING, ConfigError, Settings, load_settings
from .url_schemes import UrlMatcher, compile_url_schemes

__all__ = ["create_app"]
log = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``test_config`` keys starting with ``OEMBED_`` override the
    environment variables of the same name; the others go into ``app.config``.

    Called with nothing, as a WSGI server does (``gunicorn "oembed_server:create_app()"``),
    a bad setting or an unreachable database ends the process with one line on stderr
    instead of a traceback; callers that pass a mapping get the exception.
    """
    if test_config is None:
        try:
            return _build_app({})
        except (ConfigError, SQLAlchemyError) as exc:
            print(f"oembed_server: {describe_start_failure(exc)}", file=sys.stderr, flush=True)
            # gunicorn's APP_LOAD_ERROR: its arbiter stops instead of booting worker after worker.
            raise SystemExit(4) from None
    return _build_app(test_config)


def describe_start_failure(exc: Exception) -> str:
    """One line for a configuration or database error at start (no password, no SQL)."""
    if isinstance(exc, ConfigError):
        return f"configuration error: {exc}"
    return f"database unavailable: {describe_database_error(exc, os.environ.get('OEMBED_DATABASE_URL', ''))}"


def _build_app(test_config: Mapping[str, Any]) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    # /media//x would otherwise be answered with a redirect built from the request's Host
    # header; with merging off it is simply not found.
    app.url_map.merge_slashes = False
    overrides = dict(test_config or {})
    environ = dict(os.environ) | {k: str(v) for k, v in overrides.items() if k.startswith(("OEMBED_", "HUBSPOT_"))}
    os.makedirs(app.instance_path, exist_ok=True)
    settings = load_settings(environ, app.instance_path)

    app.config.update(
        SECRET_KEY=settings.secret_key,
        # The local HubL preview is a development aid: `oembed-server serve` switches it on.
        PREVIEW_ENABLED=False,
        JSON_SORT_KEYS=False,
    )
    app.config.update({k: v for k, v in overrides.items() if not k.startswith(("OEMBED_", "HUBSPOT_"))})
    if settings.ephemeral_secret and app.config.get("WARN_EPHEMERAL_SECRET", True) and not app.testing:
        log.warning(EPHEMERAL_SECRET_WARNING)
    app.extensions["oembed_settings"] = settings
    # Read when an install needs them, so a server that only answers oEmbed needs none.
    app.extensions["hubspot_environ"] = {k: v for k, v in environ.items() if k.startswith("HUBSPOT_")}
    app.extensions["url_matcher"] = _compile_url_schemes(settings)

    catalog = CatalogStore.from_url(settings.database_url)
    _create_schema(catalog)
    app.extensions["catalog"] = catalog

    _register_blueprints(app)
    security_headers.init_app(app, settings.public_url)

    from .cli import register_commands
    register_commands(app)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    return app


def _create_schema(catalog: CatalogStore) -> None:
    try:
        catalog.create_schema()
    except (OperationalError, ProgrammingError):
        # Several workers starting at once may race on CREATE TABLE; the loser checks again.
        catalog.create_schema()


def _compile_url_schemes(settings: Settings) -> UrlMatcher:
    try:
        return compile_url_schemes(settings.effective_url_schemes, settings.public_url)
    except ValueError as exc:
        raise ConfigError(f"OEMBED_URL_SCHEMES: {exc}") from None


def _register_blueprints(app: Flask) -> None:
    from . import events_api, insights_pages, install, oembed_api, pages

    app.register_blueprint(oembed_api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(events_api.bp)
    app.register_blueprint(insights_pages.bp)
    app.register_blueprint(install.bp)
    install.install_log_filter()
    from .preview import bp as preview_bp  # the local HubL preview (404 unless PREVIEW_ENABLED)
    app.register_blueprint(preview_bp)
