"""Accessors for what create_app attaches to the Flask app, so views never build their own."""
from __future__ import annotations

from flask import current_app

from oembed_server.domain.url_schemes import UrlMatcher
from oembed_server.settings import Settings
from oembed_server.storage.catalog_store import CatalogStore


def current_settings() -> Settings:
    return current_app.extensions["oembed_settings"]


def current_catalog() -> CatalogStore:
    return current_app.extensions["catalog"]


def current_url_matcher() -> UrlMatcher:
    return current_app.extensions["url_matcher"]
