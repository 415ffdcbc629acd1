"""The insights-link keys an app uses (its secret, its database's stored salt, its link lifetime)."""
from __future__ import annotations

from flask import Flask

from oembed_server.domain.derived_keys import LINKS_PURPOSE
from oembed_server.domain.session_links import LinkKeys, link_keys
from oembed_server.storage.key_salts import salt_for


def app_link_keys(app: Flask) -> LinkKeys:
    settings = app.extensions["oembed_settings"]
    salt = salt_for(app.extensions["catalog"].engine, LINKS_PURPOSE)
    return link_keys(settings.secret_key, salt, settings.insights_link_days)
