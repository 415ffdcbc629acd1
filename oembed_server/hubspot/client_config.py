"""HubSpot client settings from the environment, checked once so a bad value fails early."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from oembed_server.domain.setting_values import ConfigError, parse_non_negative_number

DEFAULT_API_BASE = "https://api.hubapi.com"
# Today's paths: app settings under /media-bridge/v1/{appId}, events under the guide's
# asynchronous /media-bridge/v2/events (the published specs list v1 and dated versions).
DEFAULT_MEDIA_BRIDGE_VERSION = "v1"
DEFAULT_MEDIA_EVENTS_VERSION = "v2"
MEDIA_BRIDGE_VERSIONS = ("v1",)
MEDIA_EVENTS_VERSIONS = ("v1", "v2")
# HubSpot's date-based API versions, e.g. 2026-03.
DEFAULT_JOURNAL_SCOPES = ("developer.webhooks_journal.read", "developer.webhooks_journal.subscriptions.read",
                          "developer.webhooks_journal.subscriptions.write")
_DATED_VERSION = re.compile(r"^20\d\d-(0[1-9]|1[0-2])$")


class HubSpotConfigError(ConfigError):
    """A HUBSPOT_* setting is missing or malformed; the message names the variable."""


@dataclasses.dataclass(frozen=True)
class HubSpotConfig:
    api_base: str = DEFAULT_API_BASE
    developer_api_key: str | None = dataclasses.field(default=None, repr=False)
    # A developer-account OAuth token (scopes developers-read / developers-write): what the
    # published specs name for app-level calls; the API key is the long-standing fallback.
    developer_access_token: str | None = dataclasses.field(default=None, repr=False)
    access_token: str | None = dataclasses.field(default=None, repr=False)
    refresh_token: str | None = dataclasses.field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = dataclasses.field(default=None, repr=False)
    app_id: int | None = None
    portal_id: int | None = None
    media_bridge_version: str = DEFAULT_MEDIA_BRIDGE_VERSION
    media_events_version: str = DEFAULT_MEDIA_EVENTS_VERSION
    # HubSpot's per-app-per-portal budget: 100 per 10 s on Free/Starter, 190 above.
    rate_limit: int = 100
    rate_interval_s: float = 10.0
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_retries: int = 5
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    # Longest single wait a Retry-After or rate-limit header may impose before giving up.
    max_retry_wait_s: float = 60.0
    # Refresh this long before the access token's announced expiry.
    token_refresh_margin_s: float = 300.0
    # The Webhooks Journal (app uninstalls): read every this many seconds by the worker (0:
    # never, and app setup subscribes to nothing), with a client-credentials token of these
    # scopes. HubSpot's guide and its spec name the scopes differently; the guide's are the
    # default, HUBSPOT_JOURNAL_SCOPES changes them.
    journal_poll_s: float = 60.0
    journal_scopes: tuple[str, ...] = DEFAULT_JOURNAL_SCOPES

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.developer_api_key, self.developer_access_token, self.access_token,
                                 self.refresh_token, self.client_secret) if s)

    @property
    def developer_credential(self) -> str | None:
        """The variable whose value authenticates app-level calls: the one rule for which wins."""
        if self.developer_access_token:
            return "HUBSPOT_DEVELOPER_ACCESS_TOKEN"
        if self.developer_api_key:
            return "HUBSPOT_DEVELOPER_API_KEY"
        return None

    def require_app_id(self) -> int:
        if self.app_id is None:
            raise HubSpotConfigError("the app id is required: pass --app-id or set HUBSPOT_APP_ID")
        return self.app_id


_INT_VARS = {"HUBSPOT_APP_ID": "app_id", "HUBSPOT_PORTAL_ID": "portal_id", "HUBSPOT_RATE_LIMIT": "rate_limit",
             "HUBSPOT_MAX_RETRIES": "max_retries"}
_FLOAT_VARS = {"HUBSPOT_RATE_LIMIT_INTERVAL_S": "rate_interval_s", "HUBSPOT_CONNECT_TIMEOUT_S": "connect_timeout_s",
               "HUBSPOT_READ_TIMEOUT_S": "read_timeout_s", "HUBSPOT_BACKOFF_BASE_S": "backoff_base_s",
               "HUBSPOT_BACKOFF_CAP_S": "backoff_cap_s", "HUBSPOT_MAX_RETRY_WAIT_S": "max_retry_wait_s",
               "HUBSPOT_TOKEN_REFRESH_MARGIN_S": "token_refresh_margin_s", "HUBSPOT_JOURNAL_POLL_S": "journal_poll_s"}
_STR_VARS = {"HUBSPOT_DEVELOPER_API_KEY": "developer_api_key",
             "HUBSPOT_DEVELOPER_ACCESS_TOKEN": "developer_access_token", "HUBSPOT_ACCESS_TOKEN": "access_token",
             "HUBSPOT_REFRESH_TOKEN": "refresh_token", "HUBSPOT_CLIENT_ID": "client_id",
             "HUBSPOT_CLIENT_SECRET": "client_secret"}


def load_hubspot_config(environ: Mapping[str, str], **overrides) -> HubSpotConfig:
    """Read HUBSPOT_* variables; ``overrides`` (e.g. from command-line flags) win when not None."""
    values: dict = {"api_base": parse_api_base(environ.get("HUBSPOT_API_BASE") or DEFAULT_API_BASE)}
    for var, field in _STR_VARS.items():
        value = (environ.get(var) or "").strip()
        if value:
            values[field] = value
    for var, field in _INT_VARS.items():
        if (environ.get(var) or "").strip():
            values[field] = parse_non_negative_number(environ[var], var, int, HubSpotConfigError)
    for var in ("HUBSPOT_APP_ID", "HUBSPOT_PORTAL_ID"):
        # Named here, while the value is still the variable's: an override below is a flag's.
        if values.get(_INT_VARS[var]) == 0:
            raise HubSpotConfigError(f"{var} must be a positive number, got 0")
    for var, field in _FLOAT_VARS.items():
        if (environ.get(var) or "").strip():
            values[field] = parse_non_negative_number(environ[var], var, float, HubSpotConfigError)
    for var, field, fixed in (("HUBSPOT_MEDIA_BRIDGE_VERSION", "media_bridge_version", MEDIA_BRIDGE_VERSIONS),
                              ("HUBSPOT_MEDIA_EVENTS_VERSION", "media_events_version", MEDIA_EVENTS_VERSIONS)):
        if (environ.get(var) or "").strip():
            values[field] = parse_api_version(environ[var], var, fixed)
    if (environ.get("HUBSPOT_JOURNAL_SCOPES") or "").strip():
        scopes = tuple(environ["HUBSPOT_JOURNAL_SCOPES"].replace(",", " ").split())
        if any(not re.fullmatch(r"[a-z][a-z0-9._-]*", s) for s in scopes):
            raise HubSpotConfigError("HUBSPOT_JOURNAL_SCOPES must be scope names separated by spaces, got "
                                     f"{environ['HUBSPOT_JOURNAL_SCOPES']!r}")
        values["journal_scopes"] = scopes
    values.update({k: v for k, v in overrides.items() if v is not None})
    config = HubSpotConfig(**values)
    if config.rate_limit < 1:
        raise HubSpotConfigError(f"HUBSPOT_RATE_LIMIT must be at least 1, got {config.rate_limit}")
    for name in ("app_id", "portal_id"):
        value = getattr(config, name)
        if value is not None and value <= 0:
            raise HubSpotConfigError(f"the {name.replace('_', ' ')} must be a positive number, got {value}")
    return config


def parse_api_base(value: str) -> str:
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise HubSpotConfigError(f"HUBSPOT_API_BASE must be an http(s) URL without a query, got {value!r}")
    return value


def parse_api_version(value: str, name: str, fixed: tuple[str, ...]) -> str:
    """One of the fixed versions (``v1``...) or a dated one (``2026-03``)."""
    value = value.strip()
    if value in fixed or _DATED_VERSION.match(value):
        return value
    raise HubSpotConfigError(f"{name} must be {' or '.join(fixed)} or a dated version such as 2026-03, got {value!r}")
