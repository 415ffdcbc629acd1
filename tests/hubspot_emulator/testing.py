"""Pytest fixtures and helpers shared by the HubSpot tests; tests/conftest.py loads the
`emulator` fixture for every test, test modules import the helpers by name."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from oembed_server.domain.media import MediaItem, MediaType
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.client_config import load_hubspot_config
from oembed_server.hubspot.rate_limiter import RateLimiter
from oembed_server.storage import schema_version
from oembed_server.storage.catalog_store import CatalogStore
from tests.hubspot_emulator.live import LiveEmulator

REPO = Path(__file__).resolve().parents[2]
PUBLIC_URL = "http://media.test"
SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
# Short waits so retries and rate-limit pauses cost milliseconds, not seconds.
FAST_CLIENT = {"HUBSPOT_BACKOFF_BASE_S": "0.01", "HUBSPOT_BACKOFF_CAP_S": "0.05", "HUBSPOT_MAX_RETRY_WAIT_S": "0.5",
               "HUBSPOT_CONNECT_TIMEOUT_S": "2", "HUBSPOT_READ_TIMEOUT_S": "5", "HUBSPOT_RATE_LIMIT_INTERVAL_S": "0.2"}


@pytest.fixture
def emulator():
    with LiveEmulator(rate_interval_ms=200) as live:
        yield live


def client_env(emulator: LiveEmulator, **extra: str) -> dict[str, str]:
    return emulator.env() | FAST_CLIENT | extra


def make_client(emulator: LiveEmulator, sleeps: list | None = None, **overrides) -> HubSpotClient:
    config = load_hubspot_config(client_env(emulator), **overrides)
    if sleeps is None:
        return HubSpotClient(config)
    # Recorded instead of slept, on a clock that the waits move forward: retry tests then
    # assert the waits without spending them, and the limiter still sees time pass.
    now = [0.0]

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(config.rate_limit, config.rate_interval_s, clock=lambda: now[0], sleep=sleep)
    return HubSpotClient(config, sleep=sleep, limiter=limiter)


def media_item(external_id: str, media_type: MediaType = MediaType.VIDEO, **fields) -> MediaItem:
    defaults = {"title": f"Title {external_id}", "file_url": f"{PUBLIC_URL}/files/{external_id}",
                "thumbnail_url": f"{PUBLIC_URL}/thumbs/{external_id}.png", "folder_path": "/Test",
                "duration_ms": 1000 if media_type in (MediaType.VIDEO, MediaType.AUDIO) else None}
    return MediaItem(external_id=external_id, media_type=media_type, **(defaults | fields))


def make_catalog(database_url: str, counts: dict[MediaType, int]) -> CatalogStore:
    catalog = CatalogStore.from_url(database_url)
    schema_version.upgrade(catalog.engine)
    items = [media_item(f"{t.value.lower()}-{i:05d}", t) for t, n in counts.items() for i in range(n)]
    if items:
        catalog.upsert(items)
    return catalog


def script_env(emulator: LiveEmulator | None, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "OEMBED_"))}
    env |= {"OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": PUBLIC_URL, "OEMBED_SECRET_KEY": SECRET_KEY}
    if emulator is not None:
        env |= client_env(emulator)
    return env | extra


def run_script(name: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "scripts" / f"{name}.py"), *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=60)


_COMMANDS: dict = {}


def invoke_script(name: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """run_script's result without a new interpreter (about 1 s saved a run): the script's
    click command runs in this process, with ``env`` as the only OEMBED_/HUBSPOT_ settings.
    An exception escaping the script lands in stderr as the traceback a process would print."""
    from click.testing import CliRunner
    if name not in _COMMANDS:
        spec = importlib.util.spec_from_file_location(f"scripts_{name}", REPO / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _COMMANDS[name] = module.main
    unset = {k: None for k in os.environ if k.startswith(("HUBSPOT_", "OEMBED_")) and k not in env}
    result = CliRunner().invoke(_COMMANDS[name], list(args), env=unset | env)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return subprocess.CompletedProcess([name, *args], result.exit_code, result.stdout, stderr)


def secrets_of(emulator: LiveEmulator) -> list[str]:
    s = emulator.state
    return [s.developer_api_key, *s.developer_tokens, s.client_secret, *s.access_tokens, *s.refresh_tokens]


def assert_no_secrets(text: str, emulator: LiveEmulator) -> None:
    for secret in secrets_of(emulator):
        assert secret not in text, "a credential leaked into output"
