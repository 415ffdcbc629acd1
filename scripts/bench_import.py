"""Catalog import at scale: rows per second and peak memory of `oembed-server import-catalog`.

Writes a JSON and a CSV catalog of each size, imports each into a fresh SQLite catalog in
a child process, and prints rows/s and the child's peak RSS (goal: >= 30,000 rows/s and
<= 200 MB at 1,000,000 rows, flat in the file's size). Then re-imports the same file
(every row unchanged) to show the update path.

    python scripts/bench_import.py [--sizes 100000,1000000] [--formats json,csv]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL_ROWS_PER_S = 30_000
GOAL_PEAK_MB = 200


def row(i: int) -> dict:
    kind = ("VIDEO", "AUDIO", "IMAGE", "DOCUMENT")[i % 4]
    return {
        "external_id": f"bench-{i:08d}",
        "media_type": kind,
        "title": f"Benchmark item number {i} with a realistic title",
        "file_url": f"https://cdn.example.com/media/{i:08d}.webm",
        "thumbnail_url": f"https://cdn.example.com/thumbs/{i:08d}.png",
        "thumbnail_width": 640,
        "thumbnail_height": 360,
        "duration_ms": 60_000 + i,
        "width": 1920,
        "height": 1080,
        "folder_path": f"/Bench/{i % 100}",
        "details_page_link": f"https://admin.example.com/media/{i:08d}",
        "visibility": "public",
    }


def write_file(path: Path, count: int) -> None:
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=list(row(0)))
            writer.writeheader()
            for i in range(count):
                writer.writerow(row(i))
        return
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for i in range(count):
            out.write((",\n" if i else "") + json.dumps(row(i)))
        out.write("\n]\n")


def create_database(database: Path) -> None:
    """A fresh catalog at the newest schema, as `oembed-server db upgrade` leaves it
    (import-catalog refuses any other); made before the clock starts."""
    from oembed_server.storage import schema_version
    from oembed_server.storage.engine import create_catalog_engine

    engine = create_catalog_engine(f"sqlite:///{database}")
    try:
        schema_version.upgrade(engine)
    finally:
        engine.dispose()


def run_import(path: Path, database: Path) -> tuple[float, float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OEMBED_")}
    env |= {"OEMBED_DATABASE_URL": f"sqlite:///{database}", "OEMBED_SECRET_KEY": secrets.token_urlsafe(48)}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as output:
        child = subprocess.Popen([sys.executable, "-m", "oembed_server.cli", "import-catalog", str(path)],
                                 env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        # wait4 gives this one child's peak RSS (ru_maxrss, in KiB on Linux).
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        if child.returncode != 0:
            output.seek(0)
            sys.exit(f"import failed: {output.read().decode(errors='replace').strip()}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--formats", default="json,csv")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            for count in sorted(sizes):
                path = Path(tmp) / f"catalog-{count}.{fmt}"
                write_file(path, count)
                database = Path(tmp) / f"catalog-{fmt}-{count}.sqlite3"
                create_database(database)
                for label in ("first import", "re-import"):
                    seconds, cpu_seconds, peak_mb = run_import(path, database)
                    rate = count / seconds
                    # Rows per CPU second too: on a shared machine wall time says more about the neighbours.
                    print(f"{fmt:4} {count:>9,} rows {label:12}: {seconds:6.1f} s  {rate:>8,.0f} rows/s "
                          f"(goal ratio {rate / GOAL_ROWS_PER_S:.2f}; {count / cpu_seconds:,.0f} rows per CPU s)  "
                          f"peak RSS {peak_mb:6.0f} MB "
                          f"(goal ratio {peak_mb / GOAL_PEAK_MB:.2f})  file {path.stat().st_size / 2**20:.0f} MB",
                          flush=True)
                path.unlink()


if __name__ == "__main__":
    main()
