"""Accessors for what create_app attaches to the Flask app, so views never build their own."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

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


_T = TypeVar("_T")


def app_owned(name: str, make: Callable[[], _T]) -> _T:
    """The app's one ``name`` (a rate limiter, a cache), made by ``make`` on first use; not
    with ``extensions.setdefault``, which builds a new one on every call to throw away."""
    extensions = current_app.extensions
    if name not in extensions:
        extensions[name] = make()
    return extensions[name]


def current_catalog() -> CatalogStore:
    return current_app.extensions["catalog"]


def current_url_matcher() -> UrlMatcher:
    return current_app.extensions["url_matcher"]
