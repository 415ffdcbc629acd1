"""Loopback sites for the player-feature browser tests: a "CDN" on its own origin serving an
HLS stream made with ffmpeg and caption files (with CORS, as real CDNs send), and the app
with catalog items that use them."""
from __future__ import annotations

import mimetypes
import shutil
import subprocess
from pathlib import Path

import pytest

from oembed_server import create_app
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.catalog_rows import validate_rows
from tests.support.databases import migrated_sqlite_url
from tests.support.environment import SECRET_KEY, service_missing
from tests.support.live_server import serve_in_thread

# Two renditions (320x180 and 160x90) of VP9 video with Opus audio in fragmented MP4: what
# hls.js can hand to Chromium's Media Source Extensions without proprietary codecs.
FFMPEG_HLS = [
    "-hide_banner", "-loglevel", "error",
    "-f", "lavfi", "-i", "testsrc=size=320x180:rate=24:duration=6",
    "-f", "lavfi", "-i", "sine=frequency=440:duration=6",
    "-filter_complex", "[0:v]split=2[hi][lo0];[lo0]scale=160:90[lo]",
    "-map", "[hi]", "-map", "[lo]", "-map", "1:a", "-map", "1:a",
    "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", "24", "-keyint_min", "24",
    "-b:v:0", "200k", "-b:v:1", "60k", "-c:a", "libopus", "-b:a", "32k",
    "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4",
    "-var_stream_map", "v:0,a:0 v:1,a:1", "-master_pl_name", "master.m3u8",
    "-hls_segment_filename", "v%v/seg%d.m4s", "v%v/index.m3u8",
]
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:30.000\nCaptions from another origin\n"
mimetypes.add_type("application/vnd.apple.mpegurl", ".m3u8")
mimetypes.add_type("video/iso.segment", ".m4s")
mimetypes.add_type("text/vtt", ".vtt")


def make_hls_stream(directory: Path) -> Path:
    """Write a small two-rendition HLS stream into ``directory``; the master playlist's path."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        service_missing("ffmpeg is not installed (Debian package `ffmpeg`; tests/run_all.sh installs it)")
    subprocess.run([ffmpeg, *FFMPEG_HLS], cwd=directory, check=True, timeout=120)
    return directory / "master.m3u8"


def static_files_app(root: Path, requests: list[str]):
    """Serve ``root`` read-only, with CORS for any origin, recording each path asked for."""
    def app(environ, start_response):
        path = environ["PATH_INFO"]
        requests.append(path)
        target = (root / path.lstrip("/")).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            start_response("404 Not Found", [("Content-Type", "text/plain"), ("Access-Control-Allow-Origin", "*")])
            return [b"not found"]
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        start_response("200 OK", [("Content-Type", kind), ("Access-Control-Allow-Origin", "*")])
        return [target.read_bytes()]
    return app


@pytest.fixture(scope="session")
def cdn_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cdn")
    (root / "captions.en.vtt").write_text(VTT)
    return root


@pytest.fixture(scope="session")
def cdn(cdn_root):
    """(base URL, requested paths) of a second origin serving a caption file (and the stream)."""
    requests: list[str] = []
    with serve_in_thread(lambda _url: static_files_app(cdn_root, requests)) as base_url:
        yield base_url, requests


@pytest.fixture(scope="session")
def hls_stream(cdn, cdn_root):
    """The CDN with the HLS stream in place (made once per session; skips without ffmpeg)."""
    (cdn_root / "stream").mkdir()
    make_hls_stream(cdn_root / "stream")
    return cdn


@pytest.fixture(scope="session")
def player_site(tmp_path_factory, cdn):
    """Base URL of the app with the samples plus a streamed, a broken-stream and a
    cross-origin-captioned video."""
    cdn_url, _ = cdn
    database = tmp_path_factory.mktemp("player-site") / "catalog.sqlite3"
    apps = []

    def build(base_url):
        app = create_app({"OEMBED_DATABASE_URL": migrated_sqlite_url(database), "OEMBED_PUBLIC_URL": base_url,
                          "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_URL_SCHEMES": "", "OEMBED_ENV": "development"})
        catalog = app.extensions["catalog"]
        load_sample_media(catalog, base_url)
        video = {"media_type": "VIDEO", "title": "Streamed talk", "file_url": f"{base_url}/static/sample/video.webm"}
        items, problems = validate_rows([
            video | {"external_id": "streamed", "stream_url": f"{cdn_url}/stream/master.m3u8"},
            video | {"external_id": "broken-stream", "stream_url": f"{cdn_url}/stream/missing.m3u8"},
            video | {"external_id": "remote-captions", "captions": [
                {"src": f"{cdn_url}/captions.en.vtt", "srclang": "en", "label": "English", "default": True}]},
        ])
        assert not problems, problems
        catalog.upsert(items)
        apps.append(app)
        return app

    with serve_in_thread(build) as base_url:
        yield base_url
    apps[0].extensions["catalog"].dispose()
