"""scripts/bench_console_a11y.py at toy size: one signed-in console page at one width,
so the script (its seeding, its sign-in through the form, its Lighthouse run) cannot rot
unnoticed. The score is the script's own business; here only its shape is checked, and
that Lighthouse saw the page itself, not the sign-in it would be sent to without a session."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.environment import service_missing

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OEMBED_", "HUBSPOT_"))} | {"PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, str(REPO / "scripts" / "bench_console_a11y.py"), *args], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def test_bench_console_a11y_signs_in_and_scores_one_page(tmp_path):
    if not shutil.which("npx") or not Path("/usr/bin/chromium").exists():
        service_missing("bench_console_a11y needs npx (Node) and /usr/bin/chromium")
    result = run("--only", "events", "--widths", "390", "--reports", str(tmp_path))
    if result.returncode != 0:
        fetch = subprocess.run(["npx", "--yes", "lighthouse@12.2.3", "--version"], capture_output=True, text=True,
                               timeout=300, cwd=tmp_path)
        if fetch.returncode != 0:
            service_missing(f"npx could not fetch Lighthouse 12.2.3: {fetch.stderr.strip()[-300:]}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^events\s+390\s+\d+", result.stdout, re.MULTILINE), result.stdout
    report = json.loads((tmp_path / "events-390.json").read_text("utf-8"))
    assert report["finalDisplayedUrl"].endswith("/console/events")
    assert report["configSettings"]["screenEmulation"]["width"] == 390


def test_bench_console_a11y_refuses_an_unknown_page_or_width():
    assert "unknown page(s) 'nope'" in run("--only", "nope").stderr
    assert "only 1280 and 390" in run("--widths", "1024").stderr
