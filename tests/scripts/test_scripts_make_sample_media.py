"""make_sample_media: draws the sample media the app serves, into the package's static
folder by default or into --out."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

from oembed_server.package_data import WEB_STATIC_DIR
from tests.support.environment import service_missing

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "make_sample_media.py"
MADE = {"image.png": (800, 600), "image-thumbnail.png": (320, 240), "video-thumbnail.png": (640, 360),
        "audio-poster.png": (640, 360), "video.webm": None, "audio.mp3": None, "document.pdf": None}


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    return struct.unpack(">II", data[16:24])


def streams(path: Path) -> tuple[list[dict], float]:
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                            "stream=codec_type,codec_name,width,height:format=duration", "-of", "json", str(path)],
                           capture_output=True, text=True, check=True, timeout=30)
    answer = json.loads(probe.stdout)
    return answer["streams"], float(answer["format"]["duration"])


def test_by_default_it_writes_where_the_app_serves_the_samples():
    spec = importlib.util.spec_from_file_location("make_sample_media", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.OUT == WEB_STATIC_DIR / "sample"
    # The committed samples are the script's output, file for file.
    assert set(MADE) <= {p.name for p in module.OUT.iterdir()}


def test_the_script_draws_every_sample_into_the_folder_given(tmp_path):
    if not shutil.which("ffmpeg") or not shutil.which("ffprobe"):
        service_missing("make_sample_media needs ffmpeg (Debian's package)")
    if not (shutil.which("convert-im6.q16") or Path("/usr/bin/convert").exists()):
        service_missing("make_sample_media needs ImageMagick 6 (Debian's imagemagick)")
    shipped = {p.name: p.read_bytes() for p in (WEB_STATIC_DIR / "sample").iterdir()}
    out = tmp_path / "drawn" / "sample"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OEMBED_", "HUBSPOT_"))}
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr

    assert {p.name for p in out.iterdir()} == set(MADE)
    # One line per file: its size in bytes, then its name.
    assert result.stdout.splitlines() == [f"{(out / name).stat().st_size:>8} {name}" for name in sorted(MADE)]
    for name, size in MADE.items():
        if size:
            assert png_size(out / name) == size == png_size(WEB_STATIC_DIR / "sample" / name), name
    video, seconds = streams(out / "video.webm")
    assert [(s["codec_type"], s["codec_name"]) for s in video] == [("video", "vp9"), ("audio", "opus")]
    assert (video[0]["width"], video[0]["height"]) == (640, 360) and 7.5 < seconds < 8.5
    audio, seconds = streams(out / "audio.mp3")
    assert [(s["codec_type"], s["codec_name"]) for s in audio] == [("audio", "mp3")] and 7.5 < seconds < 8.5
    pdf = (out / "document.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-1.4\n") and b"/Count 3" in pdf and pdf.rstrip().endswith(b"%%EOF")
    # The vector brochure is drawn without any outside tool: the same bytes as the shipped one.
    assert pdf == shipped["document.pdf"]
    assert {p.name: p.read_bytes() for p in (WEB_STATIC_DIR / "sample").iterdir()} == shipped
