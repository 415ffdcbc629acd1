"""The keys of insights links for the app's requests: OEMBED_SECRET_KEY, the links' stored
salt (``storage.key_salts``) and OEMBED_INSIGHTS_LINK_DAYS."""
from __future__ import annotations

from oembed_server.domain.derived_keys import LINKS_PURPOSE
from oembed_server.domain.session_links import LinkKeys, link_keys
from oembed_server.storage.key_salts import salt_for
from oembed_server.web.app_state import current_catalog, current_settings


def current_link_keys() -> LinkKeys:
    settings = current_settings()
    # Read per request, not cached: a revocation by another process applies at once.
    salt = salt_for(current_catalog().engine, LINKS_PURPOSE)
    return link_keys(settings.secret_key, salt, settings.insights_link_days)
