"""oEmbed provider for a media library connected to HubSpot through Media Bridge."""
from __future__ import annotations

import logging
import os
from typing import Any, Mapping

from flask import Flask
from sqlalchemy.exc import OperationalError, ProgrammingError

from .catalog_store import CatalogStore
from .config import ConfigError, Settings, load_settings
from .url_schemes import UrlMatcher, compile_url_schemes

__all__ = ["create_app"]


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``test_config`` keys starting with ``OEMBED_`` override the
    environment variables of the same name; the others go into ``app.config``."""
    app = Flask(__name__, instance_relative_config=True)
    overrides = dict(test_config or {})
    environ = dict(os.environ) | {k: str(v) for k, v in overrides.items() if k.startswith("OEMBED_")}
    os.makedirs(app.instance_path, exist_ok=True)
    settings = load_settings(environ, app.instance_path)

    app.config.update(
        SECRET_KEY=settings.secret_key,
        # The local HubL preview is a development aid: `oembed-server serve` switches it on.
        PREVIEW_ENABLED=False,
        JSON_SORT_KEYS=False,
    )
    app.config.update({k: v for k, v in overrides.items() if not k.startswith("OEMBED_")})
    app.extensions["oembed_settings"] = settings
    app.extensions["url_matcher"] = _compile_url_schemes(settings)

    catalog = CatalogStore.from_url(settings.database_url)
    _create_schema(catalog)
    app.extensions["catalog"] = catalog

    _register_blueprints(app)

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
    from . import events_api, insights_pages, oembed_api, pages

    app.register_blueprint(oembed_api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(events_api.bp)
    app.register_blueprint(insights_pages.bp)
    from .preview import bp as preview_bp  # the local HubL preview (404 unless PREVIEW_ENABLED)
    app.register_blueprint(preview_bp)
