"""`deploy/local-stack.sh smoke`: proves a running local stack works end to end.

1. an oEmbed answer through nginx, and a cache HIT for the same request again;
2. /readyz 200 through nginx (the database answers, the schema is at the newest revision);
3. a play in Chromium on the player page, through nginx's /events, delivered by the workers
   to the HubSpot emulator;
4. Prometheus reporting the app's target `up`.

Prints one line per check; exits 1 naming the first that failed. Standard library only,
except the play, which drives Debian's Chromium with Playwright (the test dependencies).
"""
from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
UTK = "5moke0hubspotutk000000000000001"


class SmokeFailure(Exception):
    pass


def read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def until(what: str, seconds: float, probe):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.25)
    raise SmokeFailure(f"{what} (waited {seconds:.0f}s)")


def check_oembed(site: str) -> str:
    media_url = f"{site}/media/sample-video"
    url = f"{site}/oembed?" + urllib.parse.urlencode({"url": media_url, "format": "json"})
    statuses = []
    for _ in range(2):
        status, headers, body = get(url)
        if status != 200:
            raise SmokeFailure(f"GET /oembed through nginx answered {status}: {body[:200]!r}")
        answer = json.loads(body)
        if answer.get("type") != "video" or "<iframe" not in answer.get("html", ""):
            raise SmokeFailure(f"GET /oembed answered an unexpected body: {answer}")
        statuses.append(headers.get("X-Cache-Status"))
    if statuses != ["MISS", "HIT"]:
        raise SmokeFailure(f"nginx's cache answered {statuses} for two identical oEmbed requests, not MISS then HIT")
    return "oEmbed through nginx: 200, X-Cache-Status MISS then HIT"


def check_ready(site: str) -> str:
    status, _, body = get(f"{site}/readyz")
    if status != 200:
        raise SmokeFailure(f"GET /readyz through nginx answered {status}: {body[:300]!r}")
    return "readiness through nginx: 200"


def check_play(site: str, emulator: str, portal_id: str) -> str:
    from playwright.sync_api import sync_playwright

    before = json.loads(get(f"{emulator}/_emulator/state")[2])["events"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            query = urllib.parse.urlencode({"hs_portal_id": portal_id, "hs_utk": UTK})
            with page.expect_response(lambda r: r.url.endswith("/events") and r.request.method == "POST",
                                      timeout=20_000) as report:
                page.goto(f"{site}/embed/sample-video?{query}")
                page.evaluate("() => { const m = document.querySelector('video'); m.muted = true; return m.play(); }")
            if report.value.status != 202:
                raise SmokeFailure(f"POST /events through nginx answered {report.value.status}: {report.value.text()}")
        finally:
            browser.close()

    def delivered():
        return json.loads(get(f"{emulator}/_emulator/state")[2])["events"] > before

    until("the workers delivered no media event to the HubSpot emulator", 30, delivered)
    return "a play in Chromium: POST /events 202 through nginx, delivered by the workers to the emulator"


def check_prometheus(prometheus: str) -> str:
    query = urllib.parse.urlencode({"query": 'up{job="media_bridge"}'})

    def target_up():
        status, _, body = get(f"{prometheus}/api/v1/query?{query}")
        results = json.loads(body)["data"]["result"] if status == 200 else []
        return results and all(r["value"][1] == "1" for r in results)

    until("Prometheus does not report the media_bridge target up (is /metrics answering its token?)", 20,
          target_up)
    return "Prometheus: target media_bridge up"


def main(stack_dir: str) -> int:
    stack = read_env(Path(stack_dir) / "stack.env")
    portal_id = read_env(Path(stack_dir) / "hubspot.env")["HUBSPOT_PORTAL_ID"]
    checks = [lambda: check_oembed(stack["NGINX_URL"]),
              lambda: check_ready(stack["NGINX_URL"]),
              lambda: check_play(stack["NGINX_URL"], stack["EMULATOR_URL"], portal_id),
              lambda: check_prometheus(stack["PROMETHEUS_URL"])]
    for check in checks:
        try:
            print("ok:", check(), flush=True)
        except SmokeFailure as exc:
            print(f"!! smoke failed: {exc}", file=sys.stderr)
            return 1
    print("smoke: the stack works")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
