"""scripts/bench_feature_pages.py as a process: both its pages, so the script (its
emulator, its feature item, its Lighthouse runs, its exit status) cannot rot unnoticed.
Speed is not judged here (a busy machine lowers the performance score, which is the
script's own business at its budget); the other three categories are not speed, and the
player audited must really be the one with every feature."""
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
    return subprocess.run([sys.executable, str(REPO / "scripts" / "bench_feature_pages.py"), *args], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def test_bench_feature_pages_scores_the_media_page_and_the_player_with_every_feature(tmp_path):
    if not shutil.which("npx") or not Path("/usr/bin/chromium").exists():
        service_missing("bench_feature_pages needs npx (Node) and /usr/bin/chromium")
    result = run("--reports", str(tmp_path))
    assert "Traceback" not in result.stderr, result.stderr
    out = result.stdout
    assert re.search(rf"^Lighthouse 12\.2\.3, pages of an item with a gate, chapters and CTAs, reports in "
                     rf"{re.escape(str(tmp_path))}$", out, re.MULTILINE), out
    scores = {m["page"]: m for m in re.finditer(r"^(?P<page>media page|player)\s+(?P<perf>\d+)\s+(?P<a11y>\d+)"
                                                 r"\s+(?P<best>\d+)\s+(?P<seo>\d+)(?P<missed>  MISSED: .*)?$",
                                                 out, re.MULTILINE)}
    assert set(scores) == {"media page", "player"}, out
    for page, m in scores.items():
        assert (m["a11y"], m["best"], m["seo"]) == ("100", "100", "100"), f"{page}: {m.group(0)}"
        # The exit status follows the budgets: a page below one is named and fails the run.
        assert bool(m["missed"]) == (int(m["perf"]) < 95), m.group(0)
    assert result.returncode == (1 if any(m["missed"] for m in scores.values()) else 0), out

    player = json.loads((tmp_path / "features-player.json").read_text("utf-8"))
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/embed/feature-tour", player["requestedUrl"])
    requests = player["audits"]["network-requests"]["details"]["items"]
    fetched = {request["url"].rsplit("/", 1)[-1] for request in requests}
    # Every feature's files were loaded, so the scores are of the player with all of them.
    assert {"player-gate.js", "player-chapters.js", "player-cta.js", "chapters.vtt"} <= fetched, fetched
    media = json.loads((tmp_path / "features-media-page.json").read_text("utf-8"))
    assert media["requestedUrl"].endswith("/media/feature-tour")
    assert media["audits"]["is-crawlable"]["score"] == 1 and player["audits"]["is-crawlable"]["score"] == 1


def test_bench_feature_pages_refuses_an_unknown_page_by_name():
    result = run("--only", "player,plaeyr")
    assert result.returncode == 2 and "--only: unknown page(s) 'plaeyr'" in result.stderr
