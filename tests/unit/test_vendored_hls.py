"""The hls.js the player serves is exactly the npm package's build, with its licence."""
from __future__ import annotations

import json
from pathlib import Path

from tests.support.environment import service_missing

ROOT = Path(__file__).resolve().parents[2]
VENDORED = ROOT / "oembed_server" / "web" / "static" / "vendor"
PACKAGE = ROOT / "node_modules" / "hls.js"


def test_vendored_build_and_licence_match_the_pinned_npm_package():
    if not PACKAGE.is_dir():
        service_missing("node_modules/hls.js is not installed (npm ci; tests/run_all.sh runs it)")
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["hls.js"]
    assert json.loads((PACKAGE / "package.json").read_text())["version"] == pinned
    # After changing the pin: npm install, then npm run vendor:hls (README, "Updating hls.js").
    assert (VENDORED / "hls.light.min.js").read_bytes() == (PACKAGE / "dist" / "hls.light.min.js").read_bytes()
    assert (VENDORED / "hls.js.LICENSE").read_text() == (PACKAGE / "LICENSE").read_text()


def test_licence_ships_beside_the_build():
    assert "Apache License" in (VENDORED / "hls.js.LICENSE").read_text()
