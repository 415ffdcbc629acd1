"""The quick start: `oembed-server serve` loads the sample media and serves what it prints."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.databases import migrated_sqlite_url
from tests.support.environment import free_port
from tests.support.serve_banner import read_serve_banner

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OEMBED_", "HUBSPOT_"))}
    env["OEMBED_DATABASE_URL"] = migrated_sqlite_url(tmp_path / 'catalog.sqlite3')
    proc = subprocess.Popen(
        [sys.executable, "-m", "oembed_server.cli", "serve", "--port", str(port), "--sample"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        yield port, read_serve_banner(proc, 60)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def fetch(url: str):
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_serve_prints_working_urls_with_sample_media(served):
    port, output = served
    base = f"http://127.0.0.1:{port}"
    assert "Sample media: 4 added" in output
    assert output.count("OEMBED_SECRET_KEY is not set; using a random key") == 1  # serving: said once
    urls = dict(re.findall(r"^([A-Za-z ()]+):\s+(http\S+)$", output, re.M))
    assert urls["Index page"] == f"{base}/"

    status, _, body = fetch(urls["Index page"])
    assert status == 200 and b"sample-video" in body and b"Module preview" in body

    status, headers, body = fetch(urls["oEmbed (JSON)"])
    answer = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json; charset=utf-8"
    assert answer["type"] == "video" and f'src="{base}/embed/sample-video"' in answer["html"]

    status, headers, _ = fetch(urls["oEmbed (XML)"])
    assert status == 200 and headers["Content-Type"] == "text/xml; charset=utf-8"

    status, _, body = fetch(urls["Media page"])
    assert status == 200 and b"application/json+oembed" in body

    status, _, body = fetch(urls["Module preview"])
    assert status == 200 and b"media-embed" in body

    status, _, body = fetch(urls["Email preview"])
    assert status == 200 and b"media-email" in body

    status, headers, body = fetch(f"{base}/static/sample/video.webm")
    assert status == 200 and body[:4] == b"\x1a\x45\xdf\xa3"  # EBML magic: a WebM file


def test_serve_warns_when_it_falls_back_to_its_own_address(served):
    port, output = served
    warning = next(line for line in output.splitlines() if line.startswith("warning:"))
    assert f"OEMBED_PUBLIC_URL is not set; using http://127.0.0.1:{port}." in warning
    assert "Scripts run without it assume http://127.0.0.1:5000" in warning
