"""Settings from the environment, checked once at start so a bad value fails loudly and early."""
from __future__ import annotations

import dataclasses
import logging
import math
import os
import secrets
from collections import Counter
from collections.abc import Mapping
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from oembed_server.domain.public_url import DEFAULT_PUBLIC_URL
from oembed_server.domain.setting_values import ConfigError, parse_non_negative_number

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


@dataclasses.dataclass(frozen=True)
class Settings:
    public_url: str
    database_url: str
    provider_name: str
    secret_key: str
    url_schemes: tuple[str, ...]
    cache_age: int
    production: bool
    # True when OEMBED_DATABASE_URL was not given and the embedded SQLite file is used.
    embedded_database: bool
    # True when OEMBED_SECRET_KEY was not given and secret_key is random for this process.
    ephemeral_secret: bool = False
    events_idle_seconds: float = DEFAULT_EVENTS_IDLE_SECONDS
    events_client_rate: int = DEFAULT_EVENTS_CLIENT_RATE
    events_retention_days: float = DEFAULT_EVENTS_RETENTION_DAYS
    events_flush_ms: float = DEFAULT_EVENTS_FLUSH_MS

    @property
    def stable_secret_key(self) -> str | None:
        """The secret key when later processes share it (it came from the environment), else
        None: only such a key can encrypt tokens or sign links that outlive this process."""
        return None if self.ephemeral_secret else self.secret_key

    @property
    def effective_url_schemes(self) -> tuple[str, ...]:
        """The media URL schemes this provider answers for, in HubSpot's registration syntax."""
        return self.url_schemes or (f"{self.public_url}/media/*",)


def load_settings(environ: Mapping[str, str], instance_path: str) -> Settings:
    production = _parse_env_name(environ.get("OEMBED_ENV", "development")) == "production"
    public_url = parse_public_url(environ.get("OEMBED_PUBLIC_URL", DEFAULT_PUBLIC_URL), "OEMBED_PUBLIC_URL")

    database_url = environ.get("OEMBED_DATABASE_URL", "").strip()
    embedded = not database_url
    if embedded:
        database_url = "sqlite:///" + os.path.join(instance_path, "catalog.sqlite3")
    database_url = parse_database_url(database_url, "OEMBED_DATABASE_URL")

    provider_name = environ.get("OEMBED_PROVIDER_NAME", DEFAULT_PROVIDER_NAME).strip()
    if not provider_name or len(provider_name) > 200:
        raise ConfigError("OEMBED_PROVIDER_NAME must be 1 to 200 characters")

    secret_key = environ.get("OEMBED_SECRET_KEY")
    ephemeral_secret = secret_key is None
    if secret_key is None:
        if production:
            raise ConfigError("OEMBED_SECRET_KEY is required when OEMBED_ENV=production "
                              f"(at least {SECRET_KEY_MIN_LENGTH} random characters)")
        # Development only: a per-process key keeps the quick start one command long.
        # Whoever serves with it says so (see EPHEMERAL_SECRET_WARNING); other commands need not.
        secret_key = secrets.token_urlsafe(48)
    elif problem := secret_key_problem(secret_key):
        raise ConfigError(f"OEMBED_SECRET_KEY {problem}")

    raw_schemes = environ.get("OEMBED_URL_SCHEMES", "")
    url_schemes = tuple(s for s in raw_schemes.replace(",", " ").split() if s)

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

    return Settings(
        public_url=public_url,
        database_url=database_url,
        provider_name=provider_name,
        secret_key=secret_key,
        url_schemes=url_schemes,
        cache_age=cache_age,
        production=production,
        embedded_database=embedded,
        ephemeral_secret=ephemeral_secret,
        events_idle_seconds=events_idle_seconds,
        events_client_rate=events_client_rate,
        events_retention_days=events_retention_days,
        events_flush_ms=events_flush_ms,
    )


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


def _parse_env_name(value: str) -> str:
    value = value.strip().lower()
    if value not in ("development", "production"):
        raise ConfigError(f"OEMBED_ENV must be 'development' or 'production', got {value!r}")
    return value
