"""The tests' fixed settings, the outside services they may need, and free ports."""
from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest

from oembed_server.settings import parse_database_url

PUBLIC_URL = "http://media.test"
SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
# As an operator gives it (postgresql://...), and as SQLAlchemy is given it (psycopg 3).
POSTGRES_URL_AS_GIVEN = os.environ.get("OEMBED_TEST_POSTGRES_URL")
POSTGRES_URL = (parse_database_url(POSTGRES_URL_AS_GIVEN, "OEMBED_TEST_POSTGRES_URL") if POSTGRES_URL_AS_GIVEN
                else None)
POSTGRES_MISSING = "OEMBED_TEST_POSTGRES_URL is not set (tests/run_all.sh starts PostgreSQL)"
# In CI (CI=true) a missing browser, database or Node is a broken setup, not a pass: those
# tests must have run. OEMBED_TEST_REQUIRE_SERVICES=1 asks the same of a local run.
REQUIRE_SERVICES = (os.environ.get("CI", "").lower() == "true"
                    or os.environ.get("OEMBED_TEST_REQUIRE_SERVICES") == "1")


def free_port() -> int:
    """A loopback port nothing listens on, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_missing(reason: str) -> NoReturn:
    """Skip a test whose outside service is missing, or fail it where every test must run."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason}; required here (CI=true or OEMBED_TEST_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)
