"""deploy/: the files a team runs the service with, run for real by deploy/local-stack.sh
(PostgreSQL, gunicorn with 2 workers, two workers, nginx, Prometheus, on loopback) and
proven by its smoke: oEmbed through nginx with a cache HIT, a Chromium play delivered to
the HubSpot emulator, /readyz 200, Prometheus's target up."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.environment import service_missing

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "deploy" / "local-stack.sh"

pytestmark = pytest.mark.browser  # the smoke plays in Chromium


def run_stack(command: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(STACK), command], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_up_smoke_down():
    for tool in ("nginx", "prometheus", "gunicorn", "oembed-server"):
        if shutil.which(tool) is None:
            service_missing(f"{tool} is not installed")
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        service_missing("PostgreSQL's server binaries are not installed")
    if not Path("/usr/bin/chromium").exists():
        service_missing("Debian's chromium is not installed")
    # Not under pytest's tmp_path: as root, PostgreSQL runs as the postgres user, which must
    # reach the state directory, and pytest's directories are private to root.
    parent = Path(tempfile.mkdtemp(prefix="media-bridge-stack-"))
    parent.chmod(0o755)
    stack_dir = parent / "stack"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OEMBED_", "HUBSPOT_"))}
    env |= {"MEDIA_BRIDGE_STACK_DIR": str(stack_dir), "PYTHONPATH": str(ROOT)}
    try:
        up = run_stack("up", env, 120)
        assert up.returncode == 0, up.stdout + up.stderr
        smoke = run_stack("smoke", env, 120)
        assert smoke.returncode == 0, smoke.stdout + smoke.stderr
        assert "X-Cache-Status MISS then HIT" in smoke.stdout
        assert "delivered by the workers to the emulator" in smoke.stdout
        assert "target media_bridge up" in smoke.stdout
    finally:
        down = run_stack("down", env, 120)
        shutil.rmtree(parent, ignore_errors=True)
    assert down.returncode == 0, down.stdout + down.stderr
    assert not stack_dir.exists()
    # Nothing the stack started is left running.
    left = subprocess.run(["pgrep", "-f", str(stack_dir)], capture_output=True, text=True)
    assert left.stdout == "", left.stdout


def test_a_second_up_is_refused_and_down_without_a_stack_is_harmless(tmp_path):
    env = dict(os.environ, MEDIA_BRIDGE_STACK_DIR=str(tmp_path / "none"))
    down = run_stack("down", env, 30)
    assert down.returncode == 0 and "nothing to stop" in down.stdout
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "stack.env").write_text("NGINX_URL=http://127.0.0.1:1\n")
    up = run_stack("up", dict(env, MEDIA_BRIDGE_STACK_DIR=str(tmp_path / "busy")), 30)
    assert up.returncode == 1 and "already up" in up.stderr
    usage = run_stack("restart", env, 30)
    assert usage.returncode == 2 and "usage" in usage.stderr
