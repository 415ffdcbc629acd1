#!/usr/bin/env python3
"""Player page weight: the bytes of HTML, CSS and JS a browser fetches for each kind of
player page, raw and gzipped, so a change can be held to the budget (issue 18: the player
of an item without gate, chapters or CTAs loads no more bytes than before; earlier, the
plain video player within 10% of its weight before captions, streaming and the control API).

Each page is rendered by the app in-process (a temporary SQLite catalog); its stylesheets
and scripts are the files the page references. Modules fetched later only on some paths
are listed on their own lines: hls.js (only where HLS is not native) and the control API
(only once the embedding page speaks player.js).

Usage: python scripts/bench_player_weight.py [--tree PATH] [--budget-tree PATH]
  --tree         measure another checkout of this project (e.g. main's) for a before/after figure
  --budget-tree  also measure that checkout, and exit 1 when a plain player (video, audio,
                 image, document) is heavier here than there, raw or gzipped
"""
from __future__ import annotations

import argparse
import dataclasses
import gzip
import random
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_URL = "http://media.test"
SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
VIDEO = {"media_type": "VIDEO", "title": "Spring product webinar", "file_url": f"{PUBLIC_URL}/static/sample/video.webm",
         "poster_url": f"{PUBLIC_URL}/static/sample/video-thumbnail.png", "width": 640, "height": 360,
         "duration_ms": 8003}
ROWS = {
    "plain video": VIDEO | {"external_id": "plain"},
    "plain audio": VIDEO | {"external_id": "audio", "media_type": "AUDIO", "file_url": f"{PUBLIC_URL}/a.mp3"},
    "plain image": VIDEO | {"external_id": "image", "media_type": "IMAGE",
                            "file_url": f"{PUBLIC_URL}/static/sample/image.png", "duration_ms": None},
    "plain document": VIDEO | {"external_id": "document", "media_type": "DOCUMENT",
                               "file_url": f"{PUBLIC_URL}/static/sample/document.pdf", "duration_ms": None},
    "video + 2 caption tracks": VIDEO | {"external_id": "captions", "captions": [
        {"src": f"{PUBLIC_URL}/static/sample/video.en.vtt", "srclang": "en", "label": "English", "default": True},
        {"src": f"{PUBLIC_URL}/static/sample/video.fr.vtt", "srclang": "fr", "label": "Français"}]},
    "video + HLS stream": VIDEO | {"external_id": "stream", "stream_url": "https://cdn.example.com/s/master.m3u8"},
    "video + chapters + CTAs": VIDEO | {"external_id": "extras", "chapters": [
        {"start": 0, "title": "Welcome"}, {"start": 3, "title": "The new editor"}], "ctas": [
        {"start": 1, "end": 4, "text": "Start a trial", "url": "https://example.com/trial"},
        {"start": "end", "text": "Book a demo", "url": "https://example.com/demo"}]},
}


# The kinds the budget holds: players of items without gate, chapters or CTAs.
PLAIN = tuple(name for name in ROWS if name.startswith("plain "))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--budget-tree", type=Path, help="exit 1 when a plain player is heavier than that tree's")
    args = parser.parse_args()
    figures = measure(args.tree.resolve())
    if args.budget_tree is None:
        return 0
    # One checkout's package per process: the other tree is measured by this script run on it.
    other = subprocess.run([sys.executable, __file__, "--tree", str(args.budget_tree.resolve())],
                           capture_output=True, text=True, check=True).stdout
    print(other, end="")
    before = {name: (int(raw), int(zipped)) for name, raw, zipped in
              re.findall(r"^(\S.*?)\s+\d+\s+\d+\s+\d+\s+(\d+)\s+(\d+)$", other, re.MULTILINE)}
    print(f"budget: plain players no heavier than in {args.budget_tree.resolve()}, raw and gzip")
    heavier = 0
    for name in PLAIN:
        if name not in before:
            print(f"{name:<28}not in that tree")
            continue
        (raw, zipped), (raw_then, zipped_then) = figures[name], before[name]
        over = raw > raw_then or zipped > zipped_then
        heavier += over
        print(f"{name:<28}raw {raw_then} -> {raw} ({raw - raw_then:+d}), gzip {zipped_then} -> {zipped} "
              f"({zipped - zipped_then:+d})" + ("  HEAVIER" if over else ""))
    if heavier:
        print(f"{heavier} plain player(s) heavier than the budget tree's", file=sys.stderr)
        return 1
    return 0


def measure(tree: Path) -> dict[str, tuple[int, int]]:
    """Prints the table of the tree's player pages; returns each page's (raw, gzip) bytes."""
    sys.path.insert(0, str(tree))
    from bs4 import BeautifulSoup

    from oembed_server import create_app
    project = _project_in(tree)
    figures = {}

    with tempfile.TemporaryDirectory() as scratch:
        database_url = f"sqlite:///{scratch}/catalog.sqlite3"
        project.upgrade(database_url)
        app = create_app({"OEMBED_DATABASE_URL": database_url,
                          "OEMBED_PUBLIC_URL": PUBLIC_URL, "OEMBED_SECRET_KEY": SECRET, "TESTING": True})
        # An older tree has no captions or stream fields: those pages are left out of its figures.
        supported = {name: row for name, row in ROWS.items() if set(row) <= set(project.import_fields)}
        problems: list = []
        outcome = project.import_catalog(app.extensions["catalog"], list(supported.values()), problems.append)
        if problems or outcome.report is None:
            raise SystemExit("; ".join(map(str, problems)) or "the rows were not imported")
        client = app.test_client()
        print(f"player page weight, {tree}")
        print(f"{'page':<28}{'HTML':>7}{'CSS':>7}{'JS':>7}{'total':>8}{'gzip':>8}")
        for name, row in supported.items():
            html = _steady_token(client.get(f"/embed/{row['external_id']}").data)
            page = BeautifulSoup(html, "html.parser")
            css = [_static(client, link["href"]) for link in page.find_all("link", rel="stylesheet")]
            scripts = page.find_all("script", src=True)
            js = [_static(client, script["src"]) for script in scripts]
            figures[name] = _row(name, html, css, js)
            for script in scripts:
                if script.get("data-hls"):
                    _row("  + hls.js, where not native", b"", [], [_static(client, script["data-hls"])])
        api = project.static_dir / "player-api.js"
        if api.exists():
            _row("  + control API, once used", b"", [], [api.read_bytes()])
        app.extensions["catalog"].dispose()
    return figures


@dataclasses.dataclass(frozen=True)
class _Project:
    import_fields: tuple
    import_catalog: Callable
    upgrade: Callable[[str], None]
    static_dir: Path


def _project_in(tree: Path) -> _Project:
    """What the benchmark needs of the checkout on sys.path: this layout, or the flat one
    before the layered package, so --tree can give the figure of an older checkout."""
    # Told by the tree's files, not by trying imports: an editable install of another
    # checkout would answer the names the tree lacks.
    if not (tree / "oembed_server" / "storage" / "schema_version.py").exists():
        from oembed_server.catalog_import import import_catalog
        from oembed_server.media import IMPORT_FIELDS

        # The flat layout's create_app made its own tables.
        return _Project(tuple(IMPORT_FIELDS), import_catalog, lambda _url: None, tree / "oembed_server" / "static")

    from oembed_server.domain.media import IMPORT_FIELDS
    from oembed_server.storage import schema_version
    from oembed_server.storage.engine import create_catalog_engine
    from oembed_server.usecases.catalog_import import import_catalog

    def upgrade(database_url: str) -> None:
        # create_app runs no DDL: a fresh database is brought to the newest schema first.
        engine = create_catalog_engine(database_url)
        try:
            schema_version.upgrade(engine)
        finally:
            engine.dispose()

    return _Project(tuple(IMPORT_FIELDS), import_catalog, upgrade, tree / "oembed_server" / "web" / "static")


def _steady_token(html: bytes) -> bytes:
    """The page with its signed player token's characters replaced by fixed pseudo-random
    ones of the same alphabet and length: the token changes every second, and with it the
    page's gzip size by a few bytes, which would make two runs (or two trees) differ."""
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    chance = random.Random(0)

    def steady(match: re.Match) -> bytes:
        token = bytes(c if c == ord(".") else chance.choice(alphabet) for c in match[1])
        return b'"token": "' + token + b'"'

    return re.sub(rb'"token": "([A-Za-z0-9_.-]+)"', steady, html)


def _static(client, href: str) -> bytes:
    response = client.get(href)
    body = response.data
    response.close()
    return body


def _row(name: str, html: bytes, css: list[bytes], js: list[bytes]) -> tuple[int, int]:
    total = html + b"".join(css) + b"".join(js)
    # Each resource travels compressed on its own, so each is gzipped on its own.
    zipped = sum(len(gzip.compress(part, 9)) for part in [html, *css, *js] if part)
    print(f"{name:<28}{len(html):>7}{sum(map(len, css)):>7}{sum(map(len, js)):>7}{len(total):>8}{zipped:>8}")
    return len(total), zipped


if __name__ == "__main__":
    sys.exit(main())
