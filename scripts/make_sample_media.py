#!/usr/bin/env python3
"""Regenerate the sample media in oembed_server/web/static/sample/ (the files are committed;
run this only to change them). Needs ffmpeg and ImageMagick 6 (`apt-get install -y ffmpeg
imagemagick`).

Usage: python scripts/make_sample_media.py [--out DIR]

Everything is drawn here, so the samples carry no third-party rights: a dusk landscape
(the image, and in parallax layers the video), artwork for the audio track, a chord
progression, and a three-page vector PDF brochure. Formats are ones Chromium plays
without proprietary codecs: WebM (VP9 + Opus), MP3, PNG, PDF.
"""
from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "oembed_server" / "web" / "static" / "sample"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
# /usr/bin/convert explicitly: another `convert` may come first on PATH.
CONVERT = shutil.which("convert-im6.q16") or "/usr/bin/convert"
VIDEO_SECONDS = 8
FPS = 25


def run(*args: str) -> None:
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def ridge(width: int, height: int, base: float, amplitude: float, seed: float) -> str:
    """A closed polygon: a mountain ridge (sum of sines) down to the bottom edge."""
    points = []
    for x in range(0, width + 1, 8):
        y = base - amplitude * (0.55 * math.sin(x / 97 + seed) + 0.3 * math.sin(x / 41 + 2 * seed)
                                + 0.15 * math.sin(x / 17 + 3 * seed))
        points.append(f"{x},{y:.1f}")
    return "polygon " + " ".join(points + [f"{width},{height}", f"0,{height}"])


def sky(path: Path, width: int, height: int) -> None:
    sun_x, sun_y, r = width * 0.68, height * 0.52, height * 0.09
    run(CONVERT, "-size", f"{width}x{height}", "gradient:#14213d-#f3a65a",
        "-fill", "#ffe6a7", "-draw", f"circle {sun_x:.0f},{sun_y:.0f} {sun_x + r:.0f},{sun_y:.0f}",
        str(path))


def layer(path: Path, width: int, height: int, colour: str, base: float, amplitude: float, seed: float) -> None:
    run(CONVERT, "-size", f"{width}x{height}", "xc:none", "-fill", colour,
        "-draw", ridge(width, height, base, amplitude, seed), str(path))


def landscape(path: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        sky(t / "sky.png", width, height)
        layer(t / "far.png", width, height, "#3d5a80", height * 0.62, height * 0.14, 0.3)
        layer(t / "near.png", width, height, "#293241", height * 0.78, height * 0.10, 1.7)
        # The lake: a darker band with the sun's reflection.
        lake_top = height * 0.86
        run(CONVERT, str(t / "sky.png"), str(t / "far.png"), "-composite", str(t / "near.png"), "-composite",
            "-fill", "#1d2d44", "-draw", f"rectangle 0,{lake_top:.0f} {width},{height}",
            "-fill", "#f3a65a80", "-draw",
            f"roundrectangle {width * 0.62:.0f},{lake_top + 6:.0f} {width * 0.74:.0f},{lake_top + 10:.0f} 2,2",
            "-fill", "#f3a65a50", "-draw",
            f"roundrectangle {width * 0.64:.0f},{lake_top + 18:.0f} {width * 0.72:.0f},{lake_top + 21:.0f} 2,2",
            "-strip", "-define", "png:compression-level=9", str(path))


def video(path: Path, thumbnail: Path) -> None:
    width, height, travel = 640, 360, VIDEO_SECONDS * FPS
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        sky(t / "sky.png", width, height)
        layer(t / "far.png", width + travel, height, "#3d5a80", height * 0.62, height * 0.14, 0.3)
        layer(t / "near.png", width + 2 * travel, height, "#293241", height * 0.80, height * 0.10, 1.7)
        run(CONVERT, "-size", f"{width}x{height}", "xc:none", "-font", FONT_BOLD, "-pointsize", "40",
            "-fill", "#00000060", "-annotate", "+62+132", "Spring product tour",
            "-fill", "#ffffff", "-annotate", "+60+130", "Spring product tour",
            "-font", FONT, "-pointsize", "20", "-fill", "#ffe6a7", "-annotate", "+62+166", "Example Media · 2026",
            str(t / "title.png"))
        chord = "+".join(f"0.12*sin({f}*2*PI*t)" for f in (261.63, 329.63, 392.0))
        run("ffmpeg", "-y", "-loop", "1", "-framerate", str(FPS), "-i", str(t / "sky.png"),
            "-loop", "1", "-framerate", str(FPS), "-i", str(t / "far.png"),
            "-loop", "1", "-framerate", str(FPS), "-i", str(t / "near.png"),
            "-loop", "1", "-framerate", str(FPS), "-i", str(t / "title.png"),
            "-f", "lavfi", "-i", f"aevalsrc={chord}:s=48000:d={VIDEO_SECONDS}",
            "-filter_complex",
            # Parallax: the far ridge moves one pixel a frame, the near one two.
            "[0][1]overlay=x=-n:y=0[a];[a][2]overlay=x=-2*n:y=0[b];"
            "[3]format=yuva420p,fade=t=in:st=0.6:d=1:alpha=1,fade=t=out:st=6.2:d=1:alpha=1[title];"
            "[b][title]overlay=0:0,format=yuv420p,fade=t=in:d=0.5,fade=t=out:st=7.4:d=0.6[v];"
            "[4]afade=t=in:d=0.8,afade=t=out:st=6.5:d=1.5[aout]",
            "-map", "[v]", "-map", "[aout]", "-t", str(VIDEO_SECONDS),
            "-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "34", "-row-mt", "1", "-deadline", "good", "-cpu-used", "2",
            "-c:a", "libopus", "-b:a", "48k", str(path))
        run("ffmpeg", "-y", "-ss", "3", "-i", str(path), "-frames:v", "1", str(t / "frame.png"))
        run(CONVERT, str(t / "frame.png"), "-strip", "-define", "png:compression-level=9", str(thumbnail))


def audio(path: Path, artwork: Path) -> None:
    # I - vi - IV - V in C major, two seconds each, soft attack and release per chord.
    chords = [(261.63, 329.63, 392.0), (220.0, 261.63, 329.63), (174.61, 220.0, 261.63), (196.0, 246.94, 293.66)]
    terms = []
    for i, chord in enumerate(chords):
        envelope = f"between(t,{2 * i},{2 * i + 2})*min(1,(t-{2 * i})*6)*min(1,({2 * i + 2}-t)*3)"
        tone = "+".join(f"sin({f}*2*PI*t)+0.3*sin({2 * f}*2*PI*t)" for f in chord)
        terms.append(f"{envelope}*({tone})")
    expression = "0.09*(" + "+".join(terms) + ")"
    run("ffmpeg", "-y", "-f", "lavfi", "-i", f"aevalsrc='{expression}':s=44100:d=8",
        "-c:a", "libmp3lame", "-b:a", "64k", "-ac", "1", str(path))
    width, height = 640, 360
    bars = []
    for i in range(28):
        level = 0.25 + 0.75 * abs(math.sin(i * 0.55) * math.cos(i * 0.23))
        x = 340 + i * 9
        bar = level * 110
        bars += ["-draw", f"roundrectangle {x},{180 - bar:.0f} {x + 5},{180 + bar:.0f} 2,2"]
    run(CONVERT, "-size", f"{width}x{height}", "gradient:#3a0ca3-#f72585", "-rotate", "0",
        "-fill", "#ffffff22", "-draw", "circle 170,180 170,40", "-fill", "#ffffff33", "-draw", "circle 170,180 170,80",
        "-fill", "#ffffff", "-draw", "circle 170,180 170,150",
        "-fill", "#3a0ca3", "-draw", "circle 170,180 170,170",
        "-fill", "#ffffffcc", *bars,
        "-font", FONT_BOLD, "-pointsize", "26", "-fill", "#ffffff", "-annotate", "+336+330", "Studio Sessions",
        "-strip", "-define", "png:compression-level=9", str(artwork))


def pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def document(path: Path) -> None:
    """A three-page A5-landscape brochure in plain PDF operators: vector, a few kilobytes."""
    w, h = 595, 420
    pages = [
        ("Example Media", "Media library brochure", [
            "Video, audio, images and documents,", "ready to embed in HubSpot pages and emails."]),
        ("What you get", "Players that fit every page", [
            "- A player page per item, sized by oEmbed", "- Media objects synced to your portal",
            "- Engagement events on contact timelines"]),
        ("Get started", "Three steps", [
            "1. Register the oEmbed domain", "2. Sync the catalog", "3. Drop the module on a page"]),
    ]
    streams = []
    for number, (heading, sub, lines) in enumerate(pages, start=1):
        ops = ["0.08 0.13 0.24 rg", f"0 0 {w} {h} re f",
               "0.95 0.65 0.35 rg", f"0 {h - 12} {w} 12 re f",
               "0.24 0.35 0.50 rg", f"0 0 {w} 90 re f",
               "BT /F2 34 Tf 1 1 1 rg 40 320 Td", f"({pdf_text(heading)}) Tj ET",
               "BT /F1 18 Tf 1 0.9 0.65 rg 40 288 Td", f"({pdf_text(sub)}) Tj ET"]
        for i, line in enumerate(lines):
            ops += [f"BT /F1 15 Tf 1 1 1 rg 40 {240 - 26 * i} Td", f"({pdf_text(line)}) Tj ET"]
        ops += [f"BT /F1 11 Tf 0.85 0.85 0.85 rg {w - 80} 40 Td", f"(Page {number} of {len(pages)}) Tj ET"]
        streams.append("\n".join(ops).encode("latin-1"))
    objects: list[bytes] = []
    n_pages = len(pages)
    page_ids = [5 + 2 * i for i in range(n_pages)]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    for i, stream in enumerate(streams):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] /Resources << /Font << /F1 3 0 R "
                       f"/F2 4 0 R >> >> /Contents {page_ids[i] + 1} 0 R >>".encode())
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    body = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    body += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info << /Title (Example Media brochure) >> >>\n"
             f"startxref\n{xref}\n%%EOF\n").encode()
    path.write_bytes(bytes(body))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT,
                        help="folder to write the files into (default: the package's, where the app serves them)")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    landscape(out / "image.png", 800, 600)
    run(CONVERT, str(out / "image.png"), "-resize", "320x240", "-strip", str(out / "image-thumbnail.png"))
    video(out / "video.webm", out / "video-thumbnail.png")
    audio(out / "audio.mp3", out / "audio-poster.png")
    document(out / "document.pdf")
    for file in sorted(out.iterdir()):
        print(f"{file.stat().st_size:>8} {file.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
