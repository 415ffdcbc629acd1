"""Every setting (the OEMBED_* and HUBSPOT_* variables), read and checked once at start into
one frozen ``Settings`` that the app, the worker, the command line and the scripts share.

``load_settings`` parses every variable before it checks one setting against another, so a
malformed value is always named first: before the secret key production requires, and
before what callers check later with the settings in hand (a public URL HubSpot cannot
reach, the credentials an install or a script needs). Settings only some features need are
optional here and checked where they are used, so a server that only answers oEmbed starts
without any HUBSPOT_* variable."""
from __future__ import annotations

import dataclasses
import logging
import math
import os
import secrets
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from oembed_server.domain import public_url as public_url_rule
from oembed_server.domain.public_url import DEFAULT_PUBLIC_URL
from oembed_server.domain.setting_values import ConfigError, parse_non_negative_number
from oembed_server.domain.structured_data import twitter_handle_problem
from oembed_server.domain.timeline_frames import CSP_ORIGIN as _CSP_ORIGIN
from oembed_server.domain.timeline_frames import TIMELINE_FRAME_ANCESTORS
from oembed_server.domain.url_schemes import UrlMatcher, compile_url_schemes
from oembed_server.hubspot.client_config import HubSpotConfig, load_hubspot_config
from oembed_server.hubspot.forms_api import DEFAULT_FORMS_API_BASE
from oembed_server.hubspot.oauth_api import DEFAULT_AUTHORIZE_URL, DEFAULT_SCOPES
from oembed_server.package_data import CMS_MODULES_DIR

log = logging.getLogger(__name__)

DEFAULT_PROVIDER_NAME = "Example Media"
DEFAULT_CACHE_AGE = 3600
SECRET_KEY_MIN_LENGTH = 32
# Shannon estimate over the key's own characters: a 32-character hex key scores about 115,
# a token_urlsafe(48) about 340; "abab..." or "password" typed four times score far less.
SECRET_KEY_MIN_BITS = 80
EPHEMERAL_SECRET_WARNING = ("OEMBED_SECRET_KEY is not set; using a random key for this process only "
                            "(signed links stop working when it restarts)")
# A play session with no report for this long is over: its attention data goes out.
DEFAULT_EVENTS_IDLE_SECONDS = 1800.0
# Reports one client address may make per minute (each gunicorn worker counts its own).
DEFAULT_EVENTS_CLIENT_RATE = 600
# Delivered events (and closed play sessions) are kept this long, then pruned.
DEFAULT_EVENTS_RETENTION_DAYS = 30.0
# On SQLite, an accepted report is on disk at most this long after its 202 (0: before it).
DEFAULT_EVENTS_FLUSH_MS = 50.0
# A portal's event backlog may take this long at its HubSpot budget before intermediate
# quartiles are shed (domain.backlog_plan).
DEFAULT_EVENTS_MAX_BACKLOG_HOURS = 24.0
WEBHOOK_SIGNATURES = ("v3", "v1")


@dataclasses.dataclass(frozen=True)
class Settings:
    public_url: str
    database_url: str
    provider_name: str
    secret_key: str = dataclasses.field(repr=False)
    url_schemes: tuple[str, ...]
    cache_age: int
    production: bool
    # True when OEMBED_DATABASE_URL was not given and the embedded SQLite file is used.
    embedded_database: bool
    # The effective URL schemes compiled against the public URL: compiling is how
    # OEMBED_URL_SCHEMES is checked, so the app keeps the result rather than compiling again.
    url_matcher: UrlMatcher = dataclasses.field(compare=False, repr=False)
    # False when OEMBED_PUBLIC_URL was not given and public_url is a fallback (commands that
    # take it say so, and the scripts refuse to send the loopback default to HubSpot).
    public_url_explicit: bool = True
    # True when OEMBED_SECRET_KEY was not given and secret_key is random for this process.
    ephemeral_secret: bool = False
    events_idle_seconds: float = DEFAULT_EVENTS_IDLE_SECONDS
    events_client_rate: int = DEFAULT_EVENTS_CLIENT_RATE
    events_retention_days: float = DEFAULT_EVENTS_RETENTION_DAYS
    events_flush_ms: float = DEFAULT_EVENTS_FLUSH_MS
    events_max_backlog_hours: float = DEFAULT_EVENTS_MAX_BACKLOG_HOURS
    # OEMBED_MODULES_DIR: the module sources the worker pushes into installed portals.
    modules_dir: str = str(CMS_MODULES_DIR)
    # The HubSpot client's settings (HUBSPOT_API_BASE, credentials, ids, budget, timeouts);
    # the hubspot package takes this dataclass and never reads the environment itself.
    hubspot: HubSpotConfig = dataclasses.field(default_factory=HubSpotConfig)
    # HUBSPOT_AUTHORIZE_URL and HUBSPOT_SCOPES: where /hubspot/connect sends the admin, and
    # what it asks for.
    hubspot_authorize_url: str = DEFAULT_AUTHORIZE_URL
    hubspot_scopes: tuple[str, ...] = DEFAULT_SCOPES
    # OEMBED_TRUSTED_PROXIES: how many reverse proxies in front of the app append to
    # X-Forwarded-For (0: the headers are ignored, the socket's peer is the client).
    trusted_proxies: int = 0
    # OEMBED_TIMELINE_FRAME_ANCESTORS: who may frame the session insights page (HubSpot's app).
    timeline_frame_ancestors: tuple[str, ...] = TIMELINE_FRAME_ANCESTORS
    # OEMBED_INSIGHTS_LINK_DAYS: how long an insights link works (0: as long as the event).
    insights_link_days: float = 0.0
    # HUBSPOT_PUSH_RECORD: where push_module.py remembers what it uploaded (default: in the
    # instance folder, beside the embedded database).
    push_record_path: str = ""
    # HUBSPOT_FORMS_API_BASE: HubSpot's form submission host (its own, not HUBSPOT_API_BASE's).
    hubspot_forms_api_base: str = DEFAULT_FORMS_API_BASE
    # HUBSPOT_WEBHOOK_SIGNATURE: which signature POST /hubspot/webhooks checks: v3 (apps on
    # the developer platform), or v1 for an app made the older way whose webhooks carry no v3.
    webhook_signature: str = "v3"
    # OEMBED_LOG_FORMAT: "json" (one object per line; production's default) or "text".
    log_format: str = "text"
    # OEMBED_METRICS_TOKEN: the Bearer token /metrics asks for (None: open in development,
    # switched off in production).
    metrics_token: str | None = dataclasses.field(default=None, repr=False)
    # OEMBED_TWITTER_SITE: the @username an X (Twitter) card names as the site's; None for none.
    twitter_site: str | None = None
    # OEMBED_INSTALL_REQUIRES_INVITE: /hubspot/connect installs only through an invite
    # (default on in production, off in development).
    install_requires_invite: bool = False

    @property
    def stable_secret_key(self) -> str | None:
        """The secret key when later processes share it (it came from the environment), else
        None: only such a key can encrypt tokens or sign links that outlive this process."""
        return None if self.ephemeral_secret else self.secret_key

    @property
    def effective_url_schemes(self) -> tuple[str, ...]:
        """The media URL schemes this provider answers for, in HubSpot's registration syntax."""
        return self.url_schemes or _default_url_schemes(self.public_url)

    def with_hubspot(self, **changes: Any) -> Settings:
        """These settings with some HubSpot ones replaced (a script's --app-id, say);
        ``changes`` that are None leave the loaded value."""
        changes = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, hubspot=dataclasses.replace(self.hubspot, **changes)) if changes else self


def load_settings(environ: Mapping[str, str], instance_path: str, *,
                  local_server_url: str | None = None) -> Settings:
    """Every OEMBED_* and HUBSPOT_* variable of ``environ``, checked. ``instance_path`` is
    where the embedded database lives; ``local_server_url`` is where `serve` listens, the
    public URL when OEMBED_PUBLIC_URL is not given (else the scripts' default)."""
    # First every variable on its own, so the first error names a malformed value...
    production = _parse_env_name(environ.get("OEMBED_ENV", "development")) == "production"
    public_url_explicit = public_url_rule.is_explicit(environ)
    raw_public_url = environ.get("OEMBED_PUBLIC_URL", DEFAULT_PUBLIC_URL)
    if local_server_url is not None and not public_url_explicit:
        raw_public_url = local_server_url
    public_url = parse_public_url(raw_public_url, "OEMBED_PUBLIC_URL")

    database_url = environ.get("OEMBED_DATABASE_URL", "").strip()
    embedded = not database_url
    if embedded:
        database_url = "sqlite:///" + os.path.join(instance_path, "catalog.sqlite3")
    database_url = parse_database_url(database_url, "OEMBED_DATABASE_URL")

    provider_name = environ.get("OEMBED_PROVIDER_NAME", DEFAULT_PROVIDER_NAME).strip()
    if not provider_name or len(provider_name) > 200:
        raise ConfigError("OEMBED_PROVIDER_NAME must be 1 to 200 characters")

    given_secret_key = environ.get("OEMBED_SECRET_KEY")
    if given_secret_key is not None and (problem := secret_key_problem(given_secret_key)):
        raise ConfigError(f"OEMBED_SECRET_KEY {problem}")

    raw_schemes = environ.get("OEMBED_URL_SCHEMES", "")
    url_schemes = tuple(s for s in raw_schemes.replace(",", " ").split() if s)
    url_matcher = _compile_url_schemes(url_schemes or _default_url_schemes(public_url), public_url)

    cache_age = parse_non_negative_number(environ.get("OEMBED_CACHE_AGE", str(DEFAULT_CACHE_AGE)), "OEMBED_CACHE_AGE")

    events_idle_seconds = parse_non_negative_number(
        environ.get("OEMBED_EVENTS_IDLE_SECONDS", str(DEFAULT_EVENTS_IDLE_SECONDS)), "OEMBED_EVENTS_IDLE_SECONDS",
        float)
    events_client_rate = parse_non_negative_number(
        environ.get("OEMBED_EVENTS_CLIENT_RATE", str(DEFAULT_EVENTS_CLIENT_RATE)), "OEMBED_EVENTS_CLIENT_RATE")
    events_retention_days = parse_non_negative_number(
        environ.get("OEMBED_EVENTS_RETENTION_DAYS", str(DEFAULT_EVENTS_RETENTION_DAYS)),
        "OEMBED_EVENTS_RETENTION_DAYS", float)
    events_flush_ms = parse_non_negative_number(
        environ.get("OEMBED_EVENTS_FLUSH_MS", str(DEFAULT_EVENTS_FLUSH_MS)), "OEMBED_EVENTS_FLUSH_MS", float)
    if events_flush_ms > 1000:
        raise ConfigError("OEMBED_EVENTS_FLUSH_MS must be at most 1000 (a second of reports at risk on a power loss)")
    events_max_backlog_hours = parse_non_negative_number(
        environ.get("OEMBED_EVENTS_MAX_BACKLOG_HOURS", str(DEFAULT_EVENTS_MAX_BACKLOG_HOURS)),
        "OEMBED_EVENTS_MAX_BACKLOG_HOURS", float)
    if events_max_backlog_hours == 0:
        raise ConfigError("OEMBED_EVENTS_MAX_BACKLOG_HOURS must be more than 0 (0 would shed every quartile 25/50/75)")
    modules_dir = environ.get("OEMBED_MODULES_DIR") or str(CMS_MODULES_DIR)
    twitter_site = _twitter_site(environ.get("OEMBED_TWITTER_SITE", "").strip())
    trusted_proxies = parse_non_negative_number(environ.get("OEMBED_TRUSTED_PROXIES", "0"), "OEMBED_TRUSTED_PROXIES")
    if trusted_proxies > 10:
        raise ConfigError("OEMBED_TRUSTED_PROXIES must be at most 10 (the reverse proxies in front of the app)")
    timeline_frame_ancestors = parse_frame_ancestors(environ.get("OEMBED_TIMELINE_FRAME_ANCESTORS"))
    insights_link_days = parse_non_negative_number(
        environ.get("OEMBED_INSIGHTS_LINK_DAYS", "0"), "OEMBED_INSIGHTS_LINK_DAYS", float)
    if insights_link_days > 36500:
        raise ConfigError("OEMBED_INSIGHTS_LINK_DAYS must be at most 36500 (0 keeps links working)")

    hubspot = load_hubspot_config(environ)
    authorize_url = parse_authorize_url(environ.get("HUBSPOT_AUTHORIZE_URL") or DEFAULT_AUTHORIZE_URL)
    scopes = tuple((environ.get("HUBSPOT_SCOPES") or " ".join(DEFAULT_SCOPES)).replace(",", " ").split())
    push_record_path = environ.get("HUBSPOT_PUSH_RECORD") or os.path.join(instance_path, "hubspot-push-record.json")
    forms_api_base = parse_forms_api_base(environ.get("HUBSPOT_FORMS_API_BASE") or DEFAULT_FORMS_API_BASE)
    webhook_signature = (environ.get("HUBSPOT_WEBHOOK_SIGNATURE") or "v3").strip().lower()
    if webhook_signature not in WEBHOOK_SIGNATURES:
        raise ConfigError(f"HUBSPOT_WEBHOOK_SIGNATURE must be one of {', '.join(WEBHOOK_SIGNATURES)}, "
                          f"got {webhook_signature!r}")
    log_format = parse_log_format(environ.get("OEMBED_LOG_FORMAT"), production)
    metrics_token = parse_metrics_token(environ.get("OEMBED_METRICS_TOKEN"))

    install_requires_invite = parse_flag(environ.get("OEMBED_INSTALL_REQUIRES_INVITE"),
                                         "OEMBED_INSTALL_REQUIRES_INVITE", default=production)

    # ...then what one setting requires of another.
    if given_secret_key is None and production:
        raise ConfigError("OEMBED_SECRET_KEY is required when OEMBED_ENV=production "
                          f"(at least {SECRET_KEY_MIN_LENGTH} random characters)")
    # Development only: a per-process key keeps the quick start one command long.
    # Whoever serves with it says so (see EPHEMERAL_SECRET_WARNING); other commands need not.
    secret_key = secrets.token_urlsafe(48) if given_secret_key is None else given_secret_key

    return Settings(
        public_url=public_url,
        database_url=database_url,
        provider_name=provider_name,
        secret_key=secret_key,
        url_schemes=url_schemes,
        cache_age=cache_age,
        production=production,
        embedded_database=embedded,
        url_matcher=url_matcher,
        public_url_explicit=public_url_explicit,
        ephemeral_secret=given_secret_key is None,
        events_idle_seconds=events_idle_seconds,
        events_client_rate=events_client_rate,
        events_retention_days=events_retention_days,
        events_flush_ms=events_flush_ms,
        events_max_backlog_hours=events_max_backlog_hours,
        modules_dir=modules_dir,
        hubspot=hubspot,
        hubspot_authorize_url=authorize_url,
        hubspot_scopes=scopes,
        push_record_path=push_record_path,
        hubspot_forms_api_base=forms_api_base,
        webhook_signature=webhook_signature,
        log_format=log_format,
        metrics_token=metrics_token,
        twitter_site=twitter_site,
        trusted_proxies=trusted_proxies,
        timeline_frame_ancestors=timeline_frame_ancestors,
        insights_link_days=insights_link_days,
        install_requires_invite=install_requires_invite,
    )


def _twitter_site(raw: str) -> str | None:
    if not raw:
        return None
    if (problem := twitter_handle_problem(raw)) is not None:
        raise ConfigError(f"OEMBED_TWITTER_SITE {problem}")
    return raw


def _default_url_schemes(public_url: str) -> tuple[str, ...]:
    return (f"{public_url}/media/*",)


def _compile_url_schemes(schemes: tuple[str, ...], public_url: str) -> UrlMatcher:
    try:
        return compile_url_schemes(schemes, public_url)
    except ValueError as exc:
        raise ConfigError(f"OEMBED_URL_SCHEMES: {exc}") from None


def parse_authorize_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"HUBSPOT_AUTHORIZE_URL must be an absolute http(s) URL, got {value!r}")
    return value


def parse_forms_api_base(value: str) -> str:
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"HUBSPOT_FORMS_API_BASE must be an http(s) URL without a query, got {value!r}")
    return value


def secret_key_problem(value: str) -> str | None:
    """Why ``value`` is no secret key, or None. Length alone lets through 32 spaces or one
    character repeated; an estimate of the characters' entropy and a look for a repeated
    pattern catch those (and typed phrases), while any key from a random generator passes."""
    if len(value.strip()) < SECRET_KEY_MIN_LENGTH:
        return f"must be at least {SECRET_KEY_MIN_LENGTH} characters long, not counting spaces"
    counts = Counter(value)
    bits = -sum(n * math.log2(n / len(value)) for n in counts.values())
    # A pattern of at most half the key's length, repeated, is as guessable as the pattern.
    repeated = any(value[size:] == value[:-size] for size in range(1, len(value) // 2 + 1))
    if bits < SECRET_KEY_MIN_BITS or repeated:
        return ("looks easy to guess (repeated characters or a repeated pattern); use a random key, "
                "e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    return None


def parse_public_url(value: str, name: str) -> str:
    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigError(f"{name} is not a valid URL: {value!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an absolute http(s) URL such as https://media.example.com, got {value!r}")
    if parts.query or parts.fragment:
        raise ConfigError(f"{name} must not carry a query string or fragment, got {value!r}")
    return value.rstrip("/")


def parse_database_url(value: str, name: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(f"{name} is not a SQLAlchemy database URL: {value.split('@')[-1]!r}") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"{name} must point at SQLite or PostgreSQL, got {url.get_backend_name()!r}")
    if url.get_backend_name() == "postgresql":
        # psycopg (3) is the only PostgreSQL driver the project installs.
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def parse_log_format(value: str | None, production: bool) -> str:
    if value is None or not value.strip():
        return "json" if production else "text"
    value = value.strip().lower()
    if value not in ("json", "text"):
        raise ConfigError(f"OEMBED_LOG_FORMAT must be 'json' or 'text', got {value!r}")
    return value


METRICS_TOKEN_MIN_LENGTH = 16


def parse_metrics_token(value: str | None) -> str | None:
    """The /metrics Bearer token: printable, no spaces (it goes in a header), long enough
    not to be guessed. Never echoed in the error."""
    if value is None or value == "":
        return None
    if len(value) < METRICS_TOKEN_MIN_LENGTH or not value.isprintable() or any(c.isspace() for c in value) \
            or not value.isascii():
        raise ConfigError(f"OEMBED_METRICS_TOKEN must be at least {METRICS_TOKEN_MIN_LENGTH} printable ASCII "
                          "characters without spaces "
                          "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return value


def parse_frame_ancestors(value: str | None) -> tuple[str, ...]:
    """OEMBED_TIMELINE_FRAME_ANCESTORS: origins (``https://app.hubspot.com``, wildcards as CSP
    writes them: ``https://*.hubspot.com``), space- or comma-separated; unset or blank:
    HubSpot's app hosts."""
    if value is None or not value.strip():
        return TIMELINE_FRAME_ANCESTORS
    origins = tuple(value.replace(",", " ").split())
    for origin in origins:
        if not _CSP_ORIGIN.fullmatch(origin):
            raise ConfigError("OEMBED_TIMELINE_FRAME_ANCESTORS must list origins such as https://app.hubspot.com "
                              f"(scheme, host, optional port; no path), got {origin!r}")
    return origins


_TRUE_WORDS, _FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_flag(value: str | None, name: str, *, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    word = value.strip().lower()
    if word not in _TRUE_WORDS + _FALSE_WORDS:
        raise ConfigError(f"{name} must be one of {', '.join(_TRUE_WORDS + _FALSE_WORDS)}, got {value!r}")
    return word in _TRUE_WORDS


def _parse_env_name(value: str) -> str:
    value = value.strip().lower()
    if value not in ("development", "production"):
        raise ConfigError(f"OEMBED_ENV must be 'development' or 'production', got {value!r}")
    return value
