"""Settings from the environment, checked once at start so a bad value fails loudly and early."""
from __future__ import annotations

import dataclasses
import logging
import math
import os
import secrets
from typing import Mapping
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .public_url import DEFAULT_PUBLIC_URL

log = logging.getLogger(__name__)

DEFAULT_PROVIDER_NAME = "Example Media"
DEFAULT_CACHE_AGE = 3600
SECRET_KEY_MIN_LENGTH = 32


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


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
    if secret_key is None:
        if production:
            raise ConfigError("OEMBED_SECRET_KEY is required when OEMBED_ENV=production "
                              f"(at least {SECRET_KEY_MIN_LENGTH} random characters)")
        # Development only: a per-process key keeps the quick start one command long.
        log.warning("OEMBED_SECRET_KEY is not set; using a random key for this process only")
        secret_key = secrets.token_urlsafe(48)
    elif len(secret_key) < SECRET_KEY_MIN_LENGTH:
        raise ConfigError(f"OEMBED_SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} characters long")

    raw_schemes = environ.get("OEMBED_URL_SCHEMES", "")
    url_schemes = tuple(s for s in raw_schemes.replace(",", " ").split() if s)

    cache_age = parse_non_negative_number(environ.get("OEMBED_CACHE_AGE", str(DEFAULT_CACHE_AGE)), "OEMBED_CACHE_AGE")

    return Settings(
        public_url=public_url,
        database_url=database_url,
        provider_name=provider_name,
        secret_key=secret_key,
        url_schemes=url_schemes,
        cache_age=cache_age,
        production=production,
        embedded_database=embedded,
    )


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


def parse_non_negative_number(value: str, name: str, kind: type = int, error: type = ConfigError):
    """A setting that is a count (``kind=int``) or a duration (``kind=float``), never negative."""
    try:
        number = kind(value.strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise error(f"{name} must be {what}, got {value!r}") from None
    if not math.isfinite(number):
        # float() reads "nan" and "inf": a nan limit compares false with everything and
        # silently switches the check it feeds off.
        raise error(f"{name} must be a finite number, got {value.strip()!r}")
    if number < 0:
        raise error(f"{name} must not be negative, got {value.strip()}")
    return number


def _parse_env_name(value: str) -> str:
    value = value.strip().lower()
    if value not in ("development", "production"):
        raise ConfigError(f"OEMBED_ENV must be 'development' or 'production', got {value!r}")
    return value
