#!/usr/bin/env python3
"""Lighthouse accessibility of a player with its lead capture gate open (issue 18: 100).

It runs the HubSpot emulator (holding a form with every field type a gate draws, and one
with GDPR consent checkboxes) and the app on loopback ports, with a gated copy of the
sample video per form, and points Lighthouse 12.2.3 (npx, as scripts/bench_pages.py
does) at each gated player with autoplay=1&muted=1: the muted autoplay fires ``play``, the
gate pauses the video and opens, so the accessibility audits run on the open dialog. The
dialog's audits must have applied, or the run counts as a failure (an audit of a page
without its dialog would prove nothing).

Usage: python scripts/bench_gate_a11y.py [--only every-field,consent] [--check] [--reports DIR]
Needs node/npx (network on the first run, to fetch Lighthouse) and /usr/bin/chromium.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from oembed_server import create_app  # noqa: E402
from oembed_server.domain.lead_gates import Gate  # noqa: E402
from oembed_server.usecases.sample_media import load_sample_media  # noqa: E402
from tests.hubspot_emulator import LiveEmulator  # noqa: E402
from tests.support.databases import migrated_sqlite_url  # noqa: E402
from tests.support.gate_forms import CONSENT_FORM_ID, FORM_ID, add_forms  # noqa: E402
from tests.support.live_server import serve_in_thread  # noqa: E402

LIGHTHOUSE = "lighthouse@12.2.3"
CHROME = "/usr/bin/chromium"
GATES = {"every-field": FORM_ID, "consent": CONSENT_FORM_ID}
GOAL = 100


def lighthouse(url: str, report: Path) -> tuple[int, list[str], bool]:
    """The accessibility score, the failed audits, and whether the gate was open."""
    command = ["npx", "--yes", LIGHTHOUSE, url, "--output=json", f"--output-path={report}", "--quiet",
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu", "--only-categories=accessibility"]
    subprocess.run(command, check=True, env=os.environ | {"CHROME_PATH": CHROME}, cwd=tempfile.gettempdir(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    data = json.loads(report.read_text("utf-8"))
    category = data["categories"]["accessibility"]
    failed = sorted(ref["id"] for ref in category["auditRefs"]
                    if ref["weight"] and data["audits"][ref["id"]].get("score") is not None
                    and data["audits"][ref["id"]]["score"] < 1)
    # The gate is the player page's only dialog and holds its only form labels: audits of
    # them apply only when it was open (otherwise Lighthouse marks them notApplicable).
    gate_open = all(data["audits"][audit]["scoreDisplayMode"] != "notApplicable"
                    for audit in ("aria-dialog-name", "label"))
    return round(100 * (category["score"] or 0)), failed, gate_open


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated gates to run (default: all of {', '.join(GATES)})")
    parser.add_argument("--check", action="store_true", help="exit 1 when a gate scores below 100")
    parser.add_argument("--reports", type=Path, default=REPO / "test-artifacts" / "lighthouse",
                        help="where the JSON reports go")
    args = parser.parse_args()
    wanted = [n.strip() for n in args.only.split(",")] if args.only else list(GATES)
    unknown = [n for n in wanted if n not in GATES]
    if unknown:
        parser.error(f"--only: unknown gate(s) {', '.join(map(repr, unknown))} (gates: {', '.join(GATES)})")
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
            catalog = app.extensions["catalog"]
            load_sample_media(catalog, base_url)
            video = catalog.get("sample-video")
            catalog.upsert([dataclasses.replace(video, external_id=f"gated-{name}", title=f"Gated: {name}",
                                                gate=Gate(form_id, "before", name == "consent", None, None))
                            for name, form_id in GATES.items()])
            apps.append(app)
            return app

        with serve_in_thread(build) as base_url:
            portal = emulator.state.portal_id
            for name in wanted:
                url = f"{base_url}/embed/gated-{name}?autoplay=1&muted=1&hs_portal_id={portal}"
                results[name] = lighthouse(url, args.reports / f"gate-a11y-{name}.json")
        apps[0].extensions["catalog"].dispose()

    print(f"Lighthouse {LIGHTHOUSE.split('@')[1]}, accessibility of the player with its gate open, "
          f"reports in {args.reports}")
    missed = 0
    for name, (score, failed, gate_open) in results.items():
        problems = ([] if gate_open else ["the gate was not open"]) + ([f"audits: {', '.join(failed)}"]
                                                                       if score < GOAL else [])
        missed += bool(problems)
        print(f"gate {name:<12} a11y {score:>3}" + (f"  MISSED: {'; '.join(problems)}" if problems else ""))
    print(f"goal: a11y {GOAL} with the gate open")
    if args.check and missed:
        print(f"{missed} gate(s) missed the goal", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
