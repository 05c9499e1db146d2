"""Fuzz the loader and validator: at least 10,000 generated inputs a run (Hypothesis).

    .venv/bin/python bench/fuzz_loader.py [--examples 10000] [--seed N] [--max-seconds 2] [--max-mib 256]

Inputs (tests/yamlfuzz.py): files in every YAML style, mutated realistic files (bytes, characters,
lines, tags, anchors, indentation, confusables, odd whitespace, other encodings), every scalar in
every position, alias bombs and deep nesting, random bytes. For each input (tests/yamlcheck.py):
only DesiredStateError escapes, as one line naming the file; only plain data comes out; no YAML tag
makes Python call anything; the fast and the reference readers agree. Time per input and memory
are bounded: the run fails if one input takes more than --max-seconds or its Python allocations
peak above --max-mib. Prints the outcomes, the slowest inputs and the largest peaks.
"""

from __future__ import annotations

import argparse
import collections
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, seed, settings

from tests.yamlcheck import check_input
from tests.yamlfuzz import any_input


class Run:
    def __init__(self, max_seconds: float, max_mib: float):
        self.max_seconds, self.max_mib = max_seconds, max_mib
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.slowest: list[tuple[float, int, bytes | str]] = []
        self.peaks: list[tuple[float, int, bytes | str]] = []
        self.count = 0

    def one(self, content: str | bytes) -> None:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        outcome = check_input(content)
        seconds = time.perf_counter() - started
        mib = (tracemalloc.get_traced_memory()[1] - before) / 2**20
        self.count += 1
        self.outcomes[outcome] += 1
        self.slowest = sorted([*self.slowest, (seconds, self.count, content)], key=lambda t: -t[0])[:3]
        self.peaks = sorted([*self.peaks, (mib, self.count, content)], key=lambda t: -t[0])[:3]
        assert seconds <= self.max_seconds, f"{seconds:.2f} s for one input of {len(content)} chars/bytes"
        assert mib <= self.max_mib, f"{mib:.0f} MiB of Python allocations for one input of {len(content)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None, help="reproduce a run")
    parser.add_argument("--max-seconds", type=float, default=2.0)
    parser.add_argument("--max-mib", type=float, default=256.0)
    args = parser.parse_args()
    run = Run(args.max_seconds, args.max_mib)
    config = settings(max_examples=args.examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    test = given(any_input())(run.one)
    test = config(test if args.seed is None else seed(args.seed)(test))
    for warm_up in ("name: m\n", "name: m\nbogus: 1\n", "name: m\ntags: !!set {a}\n"):  # imports, compiling
        check_input(warm_up)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        test()
    finally:
        report(run, time.perf_counter() - started)


def report(run: Run, seconds: float) -> None:
    print(f"{run.count} inputs in {seconds:.0f} s")
    for outcome, n in run.outcomes.most_common(25):
        print(f"{n:7d}  {outcome}")
    if len(run.outcomes) > 25:
        print(f"         ... and {len(run.outcomes) - 25} more kinds of outcome")
    for label, rows, unit in (("slowest", run.slowest, "s"), ("largest Python peak", run.peaks, "MiB")):
        for value, number, content in rows:
            print(f"{label}: {value:.3f} {unit} (input #{number}, {len(content)} chars/bytes: {content[:60]!r})")
    print(f"max RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
