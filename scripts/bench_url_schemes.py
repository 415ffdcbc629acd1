"""Benchmark URL scheme matching: microseconds per match with 1 and with 201 registered schemes,
and their ratio. --check fails (exit 1) when a match against 201 schemes costs more than
--max-us microseconds (the old test's bound: 2,000 matches in 2 s).

Matching is one precompiled regular expression that never looks anything up, so neither the
catalog nor the number of schemes should move it much."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oembed_server.domain.url_schemes import compile_url_schemes

PUBLIC = "http://media.test"
URL = "http://media.test/media/clip?x=1"


def microseconds_per_match(scheme_count: int, rounds: int) -> float:
    schemes = [f"https://site{n}.example/media/*" for n in range(scheme_count - 1)] + [f"{PUBLIC}/media/*"]
    matcher = compile_url_schemes(schemes, PUBLIC)
    assert matcher.external_id(URL) == "clip"
    start = time.perf_counter()
    for _ in range(rounds):
        matcher.external_id(URL)
    return (time.perf_counter() - start) / rounds * 1e6


@click.command()
@click.option("--rounds", default=20_000, show_default=True, help="Matches timed per scheme count.")
@click.option("--check", is_flag=True, help="Exit 1 when a target is missed.")
@click.option("--max-us", default=1000.0, show_default=True, help="Target: microseconds per match (2,000 in 2 s).")
def main(rounds: int, check: bool, max_us: float):
    one = microseconds_per_match(1, rounds)
    many = microseconds_per_match(201, rounds)
    ratio = many / one
    click.echo(f"1 scheme: {one:.2f} us/match; 201 schemes: {many:.2f} us/match; ratio {ratio:.2f} "
               f"(target: <= {max_us:g} us/match with 201 schemes)")
    if check and many > max_us:
        click.echo("targets missed", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
