#!/usr/bin/env python3
"""Lighthouse scores of the pages a newcomer sees: the index, a media page, the player of
each media type and both module previews, on a fresh catalog of the sample media.

It starts `oembed-server serve` on a free loopback port with a temporary SQLite catalog,
runs Lighthouse 12.2.3 (npx, not a project dependency: CI does not install it) with
Debian's Chromium on each page, and prints the four category scores and the cumulative
layout shift per page. Goals: performance >= 95, accessibility 100, best practices 100,
SEO >= 95, CLS 0.00.

Usage: python scripts/bench_pages.py [--preset mobile|desktop] [--check] [--reports DIR]
Needs node/npx (network on the first run, to fetch Lighthouse) and /usr/bin/chromium.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench_oembed import free_port  # scripts/ is on sys.path when this runs as a script

LIGHTHOUSE = "lighthouse@12.2.3"
CHROME = "/usr/bin/chromium"
PAGES = {
    "index": "/",
    "media page": "/media/sample-video",
    "player: video": "/embed/sample-video",
    "player: video (captions on)": "/embed/sample-video?cc=1",
    "transcript": "/media/sample-video/transcript/en",
    "player: audio": "/embed/sample-audio",
    "player: image": "/embed/sample-image",
    "player: document": "/embed/sample-document",
    "module preview (page)": "/_preview/media_embed?media=sample-video&media=sample-audio&media=sample-image",
    "module preview (email)": "/_preview/media_email?media=sample-video",
}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
GOALS = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 95}
ROOT = Path(__file__).resolve().parent.parent


def start_server(tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {"OEMBED_DATABASE_URL": f"sqlite:///{tmp / 'catalog.sqlite3'}", "OEMBED_PUBLIC_URL": base,
                        "OEMBED_SECRET_KEY": secrets.token_urlsafe(48), "PYTHONPATH": str(ROOT)}
    # serve upgrades only the embedded default's file; a named database is upgraded first.
    upgrade = subprocess.run([sys.executable, "-m", "oembed_server.cli", "db", "upgrade"], env=env, cwd=ROOT,
                             capture_output=True, text=True)
    if upgrade.returncode != 0:
        raise RuntimeError(f"oembed-server db upgrade failed: {(upgrade.stderr or upgrade.stdout).strip()}")
    server = subprocess.Popen([sys.executable, "-m", "oembed_server.cli", "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--sample"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/", timeout=2):
                return server, base
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("oembed-server serve exited early") from None
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("oembed-server serve did not answer within 30 s")


def lighthouse(url: str, preset: str, report: Path) -> dict:
    command = ["npx", "--yes", LIGHTHOUSE, url, "--output=json", f"--output-path={report}", "--quiet",
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
               f"--only-categories={','.join(CATEGORIES)}"]
    if preset == "desktop":
        command.append("--preset=desktop")
    subprocess.run(command, check=True, env=os.environ | {"CHROME_PATH": CHROME}, cwd=tempfile.gettempdir(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    data = json.loads(report.read_text("utf-8"))
    scores = {c: round(100 * (data["categories"][c]["score"] or 0)) for c in CATEGORIES}
    scores["cls"] = data["audits"]["cumulative-layout-shift"]["numericValue"]
    scores["failed"] = sorted(audit_id for c in CATEGORIES for ref in data["categories"][c]["auditRefs"]
                              if ref["weight"] and (data["audits"][audit_id := ref["id"]].get("score") is not None)
                              and data["audits"][audit_id]["score"] < 0.9)
    return scores


def misses(scores: dict) -> list[str]:
    missed = [f"{c} {scores[c]} < {goal}" for c, goal in GOALS.items() if scores[c] < goal]
    if round(scores["cls"], 2) > 0:
        missed.append(f"CLS {scores['cls']:.3f}")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=("mobile", "desktop"), default="mobile",
                        help="Lighthouse's device and throttling preset (mobile is its default, the stricter)")
    parser.add_argument("--only", help="comma-separated page names to run (default: all)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a page misses a goal")
    parser.add_argument("--reports", type=Path, default=ROOT / "test-artifacts" / "lighthouse",
                        help="where the JSON reports go")
    args = parser.parse_args()
    wanted = [n.strip() for n in args.only.split(",")] if args.only else list(PAGES)
    unknown = [n for n in wanted if n not in PAGES]
    if unknown:
        parser.error(f"--only: unknown page(s) {', '.join(map(repr, unknown))} (pages: {', '.join(PAGES)})")
    args.reports.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server, base = start_server(Path(tmp))
        try:
            results = {}
            for name, path in PAGES.items():
                if name not in wanted:
                    continue
                slug = "".join(c if c.isalnum() else "-" for c in name).strip("-")
                report = args.reports / f"{args.preset}-{slug}.json"
                results[name] = lighthouse(base + path, args.preset, report)
        finally:
            server.terminate()
            server.wait(timeout=10)

    print(f"Lighthouse {LIGHTHOUSE.split('@')[1]}, preset {args.preset}, reports in {args.reports}")
    print(f"{'page':<24} {'perf':>5} {'a11y':>5} {'best':>5} {'seo':>5} {'CLS':>6}")
    missed_pages = 0
    for name, s in results.items():
        missed = misses(s)
        missed_pages += bool(missed)
        print(f"{name:<24} {s['performance']:>5} {s['accessibility']:>5} {s['best-practices']:>5} {s['seo']:>5} "
              f"{s['cls']:>6.2f}" + (f"  MISSED: {'; '.join(missed)} (audits: {', '.join(s['failed'])})"
                                     if missed else ""))
    print("goals: perf >= 95, a11y 100, best practices 100, SEO >= 95, CLS 0.00")
    if args.check and missed_pages:
        print(f"{missed_pages} page(s) missed a goal", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
