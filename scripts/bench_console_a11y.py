#!/usr/bin/env python3
"""Lighthouse accessibility of every operator console page at 1280 and 390 px wide.

It makes a temporary SQLite database with something on every page (the sample media, an
installed portal with a backlog and a dead letter, an invite, plays, refused reports),
adds an operator, starts `oembed-server serve` on a free loopback port, signs in over HTTP
(the sign-in form with its CSRF token), and runs Lighthouse 12.2.3 (npx, not a project
dependency) with Debian's Chromium on each page, the session cookie sent as a header.
Prints the accessibility score per page and width, and the audits that failed. Goal: 100.

Usage: python scripts/bench_console_a11y.py [--only portals,events] [--widths 1280,390] [--check]
Needs node/npx (network on the first run, to fetch Lighthouse) and /usr/bin/chromium.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from bench_oembed import free_port  # scripts/ is on sys.path when this runs as a script

LIGHTHOUSE = "lighthouse@12.2.3"
CHROME = "/usr/bin/chromium"
PAGES = {
    "sign-in": "/console/sign-in",
    "portals": "/console/portals",
    "events": "/console/events",
    "catalog": "/console/catalog",
    "invites": "/console/invites",
    "media": "/console/media",
}
WIDTHS = {1280: (800, 1, False), 390: (844, 3, True)}
ROOT = Path(__file__).resolve().parent.parent
OPERATOR, PASSWORD = "bench", "a long enough bench passphrase"


def cli(env: dict, *args: str, stdin: str | None = None) -> None:
    result = subprocess.run([sys.executable, "-m", "oembed_server.cli", *args], env=env, cwd=ROOT, input=stdin,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"oembed-server {' '.join(args)} failed: {(result.stderr or result.stdout).strip()}")


def seed(env: dict) -> None:
    """Something on every page: a portal with a backlog and a dead letter, plays."""
    sys.path.insert(0, str(ROOT))
    import sqlalchemy as sa

    from oembed_server.domain.oauth_tokens import OAuthTokens
    from oembed_server.storage import job_queue
    from oembed_server.storage.portal_store import PortalStore
    from oembed_server.storage.refusal_tally import RefusalTally
    from oembed_server.storage.schema import play_sessions

    engine = sa.create_engine(env["OEMBED_DATABASE_URL"])
    store = PortalStore(engine, env["OEMBED_SECRET_KEY"])
    now = time.time()
    with engine.begin() as conn:
        store.install(conn, 123456, "default", OAuthTokens("access", "refresh", now + 3600))
        for n in range(5):
            job_queue.enqueue(conn, "event.played", {"n": n}, portal_id=123456)
        conn.execute(job_queue.jobs.update().where(job_queue.jobs.c.payload == '{"n":0}').values(
            state=job_queue.DEAD, last_error="HubSpot 400 VALIDATION_ERROR on POST /media-bridge/v1/events/"
                                             "media-played: unknown mediaBridgeId (correlationId 9a1b-4c2d)"))
        for n in range(3):
            conn.execute(play_sessions.insert().values(
                session_id=f"bench-{n}", external_id="sample-video", media_type="VIDEO", contact_utk=f"utk-{n % 2}",
                started_day=time.strftime("%Y-%m-%d", time.gmtime(now)), percent_played=30.0 * (n + 1),
                first_seen_at=now, last_seen_at=now))
    tally = RefusalTally(engine, flush_every_s=3600)
    for reason in ("token", "token", "body", "Content-Type"):
        tally.count(reason)
    tally.flush()
    engine.dispose()


def start_server(tmp: Path) -> tuple[subprocess.Popen, str, dict]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {"OEMBED_DATABASE_URL": f"sqlite:///{tmp / 'catalog.sqlite3'}", "OEMBED_PUBLIC_URL": base,
                        "OEMBED_SECRET_KEY": secrets.token_urlsafe(48), "PYTHONPATH": str(ROOT)}
    cli(env, "db", "upgrade")
    cli(env, "operators", "add", OPERATOR, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    cli(env, "portals", "invite", "default", "--uses", "3")
    seed(env)
    server = subprocess.Popen([sys.executable, "-m", "oembed_server.cli", "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--sample"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/console/sign-in", timeout=2):
                return server, base, env
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("oembed-server serve exited early") from None
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("oembed-server serve did not answer within 30 s")


def sign_in(base: str) -> str:
    """The console's cookies after signing in through its form, as one Cookie header."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(base + "/console/sign-in", timeout=10) as page:
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode()).group(1)
    body = urllib.parse.urlencode({"name": OPERATOR, "password": PASSWORD, "csrf_token": token}).encode()
    with opener.open(base + "/console/sign-in", data=body, timeout=10) as answer:
        if "/console/sign-in" in answer.url:
            raise RuntimeError("signing in to the console failed")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def lighthouse(url: str, width: int, cookie: str | None, report: Path) -> dict:
    height, scale, mobile = WIDTHS[width]
    command = ["npx", "--yes", LIGHTHOUSE, url, "--output=json", f"--output-path={report}", "--quiet",
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu", "--only-categories=accessibility",
               f"--form-factor={'mobile' if mobile else 'desktop'}", f"--screenEmulation.width={width}",
               f"--screenEmulation.height={height}", f"--screenEmulation.deviceScaleFactor={scale}",
               f"--screenEmulation.mobile={'true' if mobile else 'false'}", "--throttling-method=provided"]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    subprocess.run(command, check=True, env=os.environ | {"CHROME_PATH": CHROME}, cwd=tempfile.gettempdir(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    data = json.loads(report.read_text("utf-8"))
    final = data.get("finalDisplayedUrl") or data.get("finalUrl") or ""
    category = data["categories"]["accessibility"]
    return {"score": round(100 * (category["score"] or 0)), "final": final,
            "failed": sorted(ref["id"] for ref in category["auditRefs"]
                             if ref["weight"] and data["audits"][ref["id"]].get("score") is not None
                             and data["audits"][ref["id"]]["score"] < 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated page names (default: all)")
    parser.add_argument("--widths", default="1280,390", help="viewport widths, of 1280 and 390")
    parser.add_argument("--check", action="store_true", help="exit 1 when a page scores under 100")
    parser.add_argument("--reports", type=Path, default=ROOT / "test-artifacts" / "lighthouse-console")
    args = parser.parse_args()
    wanted = [n.strip() for n in args.only.split(",")] if args.only else list(PAGES)
    unknown = [n for n in wanted if n not in PAGES]
    if unknown:
        parser.error(f"--only: unknown page(s) {', '.join(map(repr, unknown))} (pages: {', '.join(PAGES)})")
    try:
        widths = [int(w) for w in args.widths.split(",")]
    except ValueError:
        parser.error("--widths: whole numbers, of 1280 and 390")
    if not set(widths) <= set(WIDTHS):
        parser.error("--widths: only 1280 and 390")
    args.reports.mkdir(parents=True, exist_ok=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        server, base, _env = start_server(Path(tmp))
        try:
            cookie = sign_in(base)
            for name in wanted:
                for width in widths:
                    report = args.reports / f"{name}-{width}.json"
                    result = lighthouse(base + PAGES[name], width, None if name == "sign-in" else cookie, report)
                    if name != "sign-in" and not result["final"].endswith(PAGES[name]):
                        raise RuntimeError(f"{name}: Lighthouse was sent to {result['final']} (not signed in?)")
                    results[name, width] = result
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"Lighthouse {LIGHTHOUSE.split('@')[1]} accessibility, reports in {args.reports}")
    print(f"{'page':<10} {'width':>5} {'a11y':>5}")
    below = 0
    for (name, width), r in results.items():
        below += r["score"] < 100
        print(f"{name:<10} {width:>5} {r['score']:>5}" + (f"  failed: {', '.join(r['failed'])}" if r["failed"] else ""))
    print("goal: accessibility 100 on every page at every width")
    if args.check and below:
        print(f"{below} page(s) scored under 100", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
