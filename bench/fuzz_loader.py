"""Fuzz the loader and validator: at least 10,000 generated inputs a run (Hypothesis).

    .venv/bin/python bench/fuzz_loader.py [--examples 10000] [--seed N] [--max-seconds 5] [--max-mib 256]
                                          [--tracemalloc]

Inputs (tests/support/yamlfuzz.py): files in every YAML style, mutated realistic files (bytes, characters,
lines, tags, anchors, indentation, confusables, odd whitespace, other encodings), every scalar in
every position, alias bombs and deep nesting, random bytes. For each input (tests/support/yamlcheck.py):
only DesiredStateError escapes, as one line naming the file; only plain data comes out; no YAML tag
makes Python call anything; the fast and the reference readers agree. Time and memory per input
are bounded: the run fails if one input takes more than --max-seconds, or if the process's peak
resident memory while it runs (Python, libyaml and the Rust reader alike; Linux resets the peak
through /proc/self/clear_refs before each input) exceeds its resident memory before it by more
than --max-mib. --tracemalloc also records each input's peak of Python allocations (about 5 times
slower). Prints the outcomes, the slowest inputs and the largest memory peaks. (The process grows
over a run: Hypothesis keeps what it generated; that is not the loader's memory.)
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

from tests.support.yamlcheck import check_input
from tests.support.yamlfuzz import any_input

WARM_UP = ("name: m\n", "name: m\nbogus: 1\n", "name: m\ntags: !!set {a}\n")  # imports, compiled schemas


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field)) / 1024


def reset_peak() -> float | None:
    """Reset the peak resident memory (Linux) and return the current one, or None if we cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_mib("VmRSS:")
    except OSError:
        return None


def peak_since(before: float | None, max_rss_before: float) -> float:
    return _status_mib("VmHWM:") - before if before is not None else max_rss_mib() - max_rss_before


class Run:
    def __init__(self, max_seconds: float, max_mib: float, traced: bool):
        self.max_seconds, self.max_mib, self.traced = max_seconds, max_mib, traced
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.slowest: list[tuple[float, int, bytes | str]] = []
        self.steps: list[tuple[float, int, bytes | str]] = []  # peak memory of one input
        self.count = 0
        self.baseline = max_rss_mib()
        self.exact = reset_peak() is not None
        self.python_peak = 0.0

    def one(self, content: str | bytes) -> None:
        python = 0
        if self.traced:
            tracemalloc.reset_peak()
            python = tracemalloc.get_traced_memory()[0]
        max_rss, rss = max_rss_mib(), reset_peak()
        started = time.perf_counter()
        outcome = check_input(content)
        seconds = time.perf_counter() - started
        peak = peak_since(rss, max_rss)
        self.count += 1
        self.outcomes[outcome] += 1
        self.slowest = sorted([*self.slowest, (seconds, self.count, content)], key=lambda t: -t[0])[:3]
        self.steps = sorted([*self.steps, (peak, self.count, content)], key=lambda t: -t[0])[:3]
        if self.traced:
            self.python_peak = max(self.python_peak, (tracemalloc.get_traced_memory()[1] - python) / 2**20)
        assert seconds <= self.max_seconds, f"{seconds:.2f} s for one input of {len(content)} chars/bytes"
        assert peak <= self.max_mib, f"{peak:.0f} MiB for one input of {len(content)} chars/bytes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None, help="reproduce a run")
    parser.add_argument("--max-seconds", type=float, default=5.0)
    parser.add_argument("--max-mib", type=float, default=256.0)
    parser.add_argument("--tracemalloc", action="store_true", help="record each input's peak of Python allocations")
    args = parser.parse_args()
    for content in WARM_UP:
        check_input(content)
    run = Run(args.max_seconds, args.max_mib, args.tracemalloc)
    config = settings(max_examples=args.examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    test = given(any_input())(run.one)
    test = config(test if args.seed is None else seed(args.seed)(test))
    if args.tracemalloc:
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
    memory = "largest memory peak" if run.exact else "largest max-RSS step (no /proc/self/clear_refs)"
    for label, rows, unit in (("slowest", run.slowest, "s"), (memory, run.steps, "MiB")):
        for value, number, content in rows:
            print(f"{label}: {value:.3f} {unit} (input #{number}, {len(content)} chars/bytes: {content[:60]!r})")
    if run.traced:
        print(f"largest peak of Python allocations for one input: {run.python_peak:.1f} MiB")
    print(f"max RSS of this process: {max_rss_mib():.0f} MiB ({run.baseline:.0f} MiB before the first input)")


if __name__ == "__main__":
    main()
