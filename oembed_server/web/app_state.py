"""Accessors for what create_app attaches to the Flask app, so views never build their own."""
from __future__ import annotations

from flask import Flask, current_app

from oembed_server.domain.url_schemes import UrlMatcher
from oembed_server.settings import Settings
from oembed_server.storage.catalog_store import CatalogStore


def current_settings() -> Settings:
    return settings_of(current_app)


def settings_of(app: Flask) -> Settings:
    """The one Settings the app was built with: views, the worker and the commands all take
    theirs from here, never from the environment."""
    return app.extensions["oembed_settings"]


def current_catalog() -> CatalogStore:
    return current_app.extensions["catalog"]


def current_url_matcher() -> UrlMatcher:
    return current_app.extensions["url_matcher"]
