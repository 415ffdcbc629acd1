"""scripts/bench_oembed.py --check: the target verdicts it exits on."""
from __future__ import annotations

import importlib.util
from pathlib import Path

SPEC = importlib.util.spec_from_file_location("bench_oembed", Path(__file__).parents[2] / "scripts" / "bench_oembed.py")
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


def _run(rps, p50, errors=0):
    return {"rps": rps, "p50_ms": p50, "p99_ms": p50 * 2, "errors": errors}


def test_targets_met_and_missed():
    good = {100: {"oembed": _run(900, 2.0), "constant": _run(1000, 1.0)},
            10: {"oembed": _run(950, 1.9), "constant": _run(1000, 1.0)}}
    assert all(met for _, met in bench.target_lines(good, [100, 10]))
    slow = {100: {"oembed": _run(500, 3.0), "constant": _run(1000, 1.0)},
            10: {"oembed": _run(950, 2.0, errors=3), "constant": _run(1000, 1.0)}}
    verdicts = [met for _, met in bench.target_lines(slow, [100, 10])]
    assert verdicts == [False, False, False]
