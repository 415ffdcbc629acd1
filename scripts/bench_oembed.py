#!/usr/bin/env python3
"""Benchmark /oembed under gunicorn (2 workers) against a trivial endpoint of the same app.

For each catalog size (100,000 and 1,000 items by default) it builds a SQLite catalog,
starts gunicorn, and alternates load rounds between

  * /oembed?url=<random catalog item>   (the real work: parse, match, look up, size, serialise)
  * /_bench/constant                   (same app, constant JSON body of the same size)

then prints throughput and p50/p99 latency, and the two ratios the project tracks:
  throughput(/oembed) / throughput(constant)   target >= 0.8
  p50(/oembed @ 100k) / p50(/oembed @ 1k)      target <= 1.2

Usage: python scripts/bench_oembed.py [--sizes 100000,1000] [--seconds 5] [--rounds 3] [--clients 2]
                                      [--warmup-seconds 1] [--check]
With --check it exits 1 when a ratio misses its target (or a request failed), for CI.
The load comes from separate client processes on loopback, bounded in time.
"""
from __future__ import annotations

import argparse
import http.client
import json
import logging
import multiprocessing as mp
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PUBLIC_URL_TEMPLATE = "http://127.0.0.1:{port}"
SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"


# --- the app gunicorn serves -----------------------------------------------------------
def create_bench_app():
    """The production app plus one constant endpoint as the baseline (loaded by gunicorn)."""
    from flask import Response

    from oembed_server import create_app

    app = create_app()
    body = Path(os.environ["BENCH_CONSTANT_BODY"]).read_bytes()

    @app.get("/_bench/constant")
    def constant():
        return Response(body, content_type="application/json; charset=utf-8")

    return app


# --- catalog ---------------------------------------------------------------------------
def build_catalog(database_url: str, size: int, public_url: str) -> list[str]:
    from oembed_server.domain.media import MediaItem, MediaType
    from oembed_server.storage import schema_version
    from oembed_server.storage.catalog_store import CatalogStore

    store = CatalogStore.from_url(database_url)
    # The app built for the previous size set up INFO logging; the migration's steps are noise here.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    schema_version.upgrade(store.engine)
    ids = [f"item-{n:06d}" for n in range(size)]
    batch = []
    for n, external_id in enumerate(ids):
        batch.append(MediaItem(
            external_id=external_id, media_type=MediaType.VIDEO, title=f"Benchmark clip {n}",
            file_url=f"{public_url}/static/sample/video.webm",
            thumbnail_url=f"{public_url}/static/sample/video-thumbnail.png",
            thumbnail_width=640, thumbnail_height=360, duration_ms=8000 + n,
            width=1280, height=720, author_name="Bench Studio",
        ))
        if len(batch) == 10_000:
            store.upsert(batch)
            batch = []
    if batch:
        store.upsert(batch)
    store.dispose()
    return ids


def constant_body_like(database_url: str, public_url: str, sample_id: str) -> bytes:
    """A constant JSON body as large as a real /oembed answer for this catalog."""
    from oembed_server import create_app

    app = create_app({"OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": public_url,
                      "OEMBED_SECRET_KEY": SECRET})
    real = app.test_client().get("/oembed", query_string={"url": f"{public_url}/media/{sample_id}",
                                                          "maxwidth": "640"})
    assert real.status_code == 200, real.data
    size = len(real.data)
    skeleton = {"type": "video", "version": "1.0", "padding": ""}
    padding = size - len(json.dumps(skeleton, separators=(",", ":")).encode())
    skeleton["padding"] = "x" * max(padding, 0)
    app.extensions["catalog"].dispose()
    return json.dumps(skeleton, separators=(",", ":")).encode()


# --- load ------------------------------------------------------------------------------
def _client(port: int, paths: list[str], seconds: float, queue) -> None:
    latencies = []
    errors = 0
    deadline = time.perf_counter() + seconds
    rng = random.Random(os.getpid())
    while time.perf_counter() < deadline:
        path = rng.choice(paths)
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != 200:
                errors += 1
                continue
        except OSError:
            errors += 1
            continue
        latencies.append(time.perf_counter() - start)
    queue.put((latencies, errors))


def run_load(port: int, paths, seconds: float, clients: int, client=None) -> dict:
    """``clients`` processes run ``client(port, paths, seconds, queue)`` (default: GET a
    random one of ``paths``) and each puts (latencies, errors) on the queue."""
    queue = mp.Queue()
    procs = [mp.Process(target=client or _client, args=(port, paths, seconds, queue)) for _ in range(clients)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join(timeout=10)
    elapsed = time.perf_counter() - started
    latencies = sorted(one for lat, _ in results for one in lat)
    errors = sum(e for _, e in results)
    if not latencies:
        raise RuntimeError(f"no successful requests ({errors} errors)")
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited early")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/_bench/constant")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not come up")


def bench_size(size: int, seconds: float, rounds: int, clients: int, warmup: float = 1.0) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        public_url = PUBLIC_URL_TEMPLATE.format(port=port)
        database_url = f"sqlite:///{tmp}/catalog.sqlite3"
        t0 = time.perf_counter()
        ids = build_catalog(database_url, size, public_url)
        print(f"[{size:>7} items] catalog built in {time.perf_counter() - t0:.1f}s", flush=True)
        body_path = Path(tmp, "constant.json")
        body_path.write_bytes(constant_body_like(database_url, public_url, ids[0]))
        env = os.environ | {
            "OEMBED_ENV": "production", "OEMBED_SECRET_KEY": SECRET, "OEMBED_PUBLIC_URL": public_url,
            "OEMBED_DATABASE_URL": database_url, "BENCH_CONSTANT_BODY": str(body_path),
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "--chdir", str(ROOT / "scripts"), "--log-level", "warning",
             "bench_oembed:create_bench_app()"],
            env=env, cwd=ROOT,
        )
        try:
            wait_until_up(port, proc)
            # Every item is equally likely, so no cache anywhere can stand in for the look-up.
            rng = random.Random(size)
            oembed_paths = [f"/oembed?url={public_url}/media/{external_id}&maxwidth=640" for external_id in ids]
            rng.shuffle(oembed_paths)
            constant_paths = ["/_bench/constant"]
            run_load(port, oembed_paths, warmup, clients)  # warm-up: imports, connections, page cache
            run_load(port, constant_paths, warmup, clients)
            return alternate_rounds(rounds, constant=lambda: run_load(port, constant_paths, seconds, clients),
                                    oembed=lambda: run_load(port, oembed_paths, seconds, clients))
        finally:
            stop_server(proc)


def alternate_rounds(rounds: int, **loads) -> dict[str, dict]:
    """Runs each named load once per round, in turn, so drifts in machine load hit all
    alike; the median of each figure per load."""
    runs: dict[str, list[dict]] = {name: [] for name in loads}
    for _ in range(rounds):
        for name, load in loads.items():
            runs[name].append(load())
    return {name: {key: statistics.median(r[key] for r in results) for key in results[0]}
            for name, results in runs.items()}


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


THROUGHPUT_TARGET = 0.8
P50_GROWTH_TARGET = 1.2


def target_lines(results: dict[int, dict], sizes: list[int]) -> list[tuple[str, bool]]:
    """Each tracked ratio as a printable line, with whether it met its target."""
    lines = []
    for size in sizes:
        result = results[size]
        ratio = result["oembed"]["rps"] / result["constant"]["rps"]
        met = ratio >= THROUGHPUT_TARGET and not result["oembed"]["errors"]
        lines.append((f"throughput ratio /oembed : constant at {size} items = {ratio:.2f} "
                      f"(target >= {THROUGHPUT_TARGET:.2f}, errors {result['oembed']['errors']:.0f})", met))
    if len(sizes) >= 2:
        large, small = sizes[0], sizes[1]
        p50_ratio = results[large]["oembed"]["p50_ms"] / results[small]["oembed"]["p50_ms"]
        lines.append((f"p50 ratio /oembed at {large} : at {small} items = {p50_ratio:.2f} "
                      f"(target <= {P50_GROWTH_TARGET:.2f})", p50_ratio <= P50_GROWTH_TARGET))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000",
                        help="comma-separated catalog sizes; the first is the large one")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each load round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per endpoint (median kept)")
    parser.add_argument("--clients", type=int, default=2, help="client processes generating load")
    parser.add_argument("--warmup-seconds", type=float, default=1.0, help="unmeasured load per endpoint first")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {size: bench_size(size, args.seconds, args.rounds, args.clients, args.warmup_seconds)
               for size in sizes}

    print()
    print(f"{'items':>8} {'endpoint':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for size, result in results.items():
        for name in ("oembed", "constant"):
            r = result[name]
            print(f"{size:>8} {name:>9} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>7.0f}")
    print()
    lines = target_lines(results, sizes)
    for text, met in lines:
        print(("" if met else "MISSED ") + text)
    missed = sum(1 for _, met in lines if not met)
    if args.check and missed:
        print(f"{missed} target(s) missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
