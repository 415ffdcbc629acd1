#!/usr/bin/env python3
"""Lighthouse on the pages of issue 18's features (its budget: performance >= 95,
accessibility 100, best practices 100, SEO 100): the public media page of an item with
chapters, and the player of an item with every feature (a lead capture gate, chapters and
calls to action).

It runs the HubSpot emulator (holding the gate's form) and the app on loopback ports, as
scripts/bench_gate_a11y.py does, with one public video that has a gate, chapters and CTAs,
and points Lighthouse 12.2.3 (npx, as scripts/bench_pages.py does) with Debian's Chromium
at its media page and at its player. Each page's four category scores are printed, and
the exit status is 1 when one is below its budget.

The player is meant to be framed by other sites' pages, and its audit is of the page as a
visitor's browser loads it, with no query parameters: the gate waits for play, the chapter
menu and the CTAs are drawn. Two SEO points about it, reasoned rather than assumed:
- The player of a public item is indexable (no robots noindex; only unlisted items carry
  one), with a meta description and a canonical link to its media page, so Google's video
  indexing can follow the media page's embedUrl to it and credit the media page. Were it ever made noindex, the
  'is-crawlable' audit would fail by design and this budget would have to be read for the
  media page alone; it is not, so SEO 100 is asked of both pages here.
- A gated player's security (its CSP, frame-ancestors, the form posted to our server) is
  the same for Lighthouse as for a viewer: nothing is relaxed for the audit.

Usage: python scripts/bench_feature_pages.py [--only "media page,player"] [--reports DIR]
Needs node/npx (network on the first run, to fetch Lighthouse) and /usr/bin/chromium.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from oembed_server import create_app  # noqa: E402
from oembed_server.usecases.catalog_import import validate_row  # noqa: E402
from tests.hubspot_emulator import LiveEmulator  # noqa: E402
from tests.support.databases import migrated_sqlite_url  # noqa: E402
from tests.support.gate_forms import FORM_ID, add_forms  # noqa: E402
from tests.support.live_server import serve_in_thread  # noqa: E402

LIGHTHOUSE = "lighthouse@12.2.3"
CHROME = "/usr/bin/chromium"
ITEM = "feature-tour"
PAGES = {"media page": f"/media/{ITEM}", "player": f"/embed/{ITEM}"}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
BUDGETS = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100}


def feature_row(base_url: str) -> dict:
    """The sample video (served by the app itself) with a gate, chapters and calls to action."""
    return {
        "external_id": ITEM, "media_type": "VIDEO", "title": "Spring product tour",
        "description": "A tour of the spring release: the new editor, pricing and how to start a trial.",
        "file_url": f"{base_url}/static/sample/video.webm",
        "poster_url": f"{base_url}/static/sample/video-thumbnail.png",
        "width": 640, "height": 360, "duration_ms": 8003, "visibility": "public",
        "gate": {"form_id": FORM_ID, "at": 3, "skippable": True, "heading": "Keep watching",
                 "text": "Tell us where to send the slides."},
        "chapters": [{"start": 0, "title": "Welcome"}, {"start": 2, "title": "The new editor"},
                     {"start": 5, "title": "Pricing"}],
        "ctas": [{"start": 0, "end": 4, "text": "Start a trial", "url": "https://example.com/trial"},
                 {"start": "end", "text": "Book a demo", "url": "https://example.com/demo"}],
    }


def lighthouse(url: str, report: Path) -> dict:
    """The four category scores, and the weighted audits that did not pass."""
    command = ["npx", "--yes", LIGHTHOUSE, url, "--output=json", f"--output-path={report}", "--quiet",
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
               f"--only-categories={','.join(CATEGORIES)}"]
    subprocess.run(command, check=True, env=os.environ | {"CHROME_PATH": CHROME}, cwd=tempfile.gettempdir(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    data = json.loads(report.read_text("utf-8"))
    scores: dict = {c: round(100 * (data["categories"][c]["score"] or 0)) for c in CATEGORIES}
    scores["failed"] = sorted({ref["id"] for c in CATEGORIES for ref in data["categories"][c]["auditRefs"]
                               if ref["weight"] and data["audits"][ref["id"]].get("score") is not None
                               and data["audits"][ref["id"]]["score"] < 1})
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated pages to run (default: all of {', '.join(PAGES)})")
    parser.add_argument("--reports", type=Path, default=REPO / "test-artifacts" / "lighthouse-features",
                        help="where the JSON reports go")
    args = parser.parse_args()
    wanted = [n.strip() for n in args.only.split(",")] if args.only else list(PAGES)
    unknown = [n for n in wanted if n not in PAGES]
    if unknown:
        parser.error(f"--only: unknown page(s) {', '.join(map(repr, unknown))} (pages: {', '.join(PAGES)})")
    args.reports.mkdir(parents=True, exist_ok=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp, LiveEmulator(rate_interval_ms=200) as emulator:
        add_forms(emulator.state)
        env = emulator.env() | {"HUBSPOT_FORMS_API_BASE": emulator.url}
        database_url = migrated_sqlite_url(Path(tmp) / "catalog.sqlite3")
        apps = []

        def build(base_url):
            app = create_app(env | {"OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": base_url,
                                    "OEMBED_SECRET_KEY": os.urandom(32).hex(), "OEMBED_URL_SCHEMES": ""})
            item, problems = validate_row(1, feature_row(base_url))
            if problems or item is None:
                raise SystemExit(f"the feature item does not validate: {problems}")
            app.extensions["catalog"].upsert([item])
            apps.append(app)
            return app

        with serve_in_thread(build) as base_url:
            for name in wanted:
                slug = name.replace(" ", "-")
                results[name] = lighthouse(base_url + PAGES[name], args.reports / f"features-{slug}.json")
        apps[0].extensions["catalog"].dispose()

    print(f"Lighthouse {LIGHTHOUSE.split('@')[1]}, pages of an item with a gate, chapters and CTAs, "
          f"reports in {args.reports}")
    print(f"{'page':<12} {'perf':>5} {'a11y':>5} {'best':>5} {'seo':>5}")
    missed = 0
    for name, s in results.items():
        below = [f"{c} {s[c]} < {goal}" for c, goal in BUDGETS.items() if s[c] < goal]
        missed += bool(below)
        print(f"{name:<12} {s['performance']:>5} {s['accessibility']:>5} {s['best-practices']:>5} {s['seo']:>5}"
              + (f"  MISSED: {'; '.join(below)} (audits: {', '.join(s['failed'])})" if below else ""))
    print("budgets: perf >= 95, a11y 100, best practices 100, SEO 100")
    if missed:
        print(f"{missed} page(s) missed a budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
