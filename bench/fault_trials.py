"""Benchmark: fault trials. The MLflow server or PostgreSQL is killed with SIGKILL at a random point
of an apply of 300+ changes (by how many of its writes have reached the database: before any, during
the changes, during the audit records), started again, and the apply re-run. tests/support/faults.py says
what each trial checks.

    .venv/bin/python bench/fault_trials.py [--trials 100] [--seed 1]

Prints one line per trial and a summary: trials, survived, by victim, and every problem found.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.faults import VERSIONS, Trials, populate
from tests.support.services import mlflow_server, postgres, s3_server


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    # stopped early (kill PID): the services stop with it, and the lines printed so far stand as the result
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="fault-trials-") as tmp:
        workdir = Path(tmp)
        with postgres() as pg, s3_server(workdir) as s3, mlflow_server(workdir, pg, s3) as server:
            populate(server.env["MLFLOW_BACKEND_STORE_URI"])
            base = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECONCILER_"))}
            env = {
                **base,
                "MLFLOW_TRACKING_URI": server.uri,
                "MLFLOW_TRACKING_USERNAME": "admin",
                "MLFLOW_TRACKING_PASSWORD": server.admin_password,
            }
            trials = Trials(workdir, server.process, pg, env)
            for n in range(1, args.trials + 1):
                victim = "postgres" if rng.random() < 0.3 else "server"
                at = rng.randint(0, 2 * VERSIONS + 2)  # its changes, then its audit records
                o = trials.run(n, victim, at, rng)
                outcomes.append(o)
                print(
                    f"trial {n}: {victim} killed at {o.killed_at} writes (asked {at}), first apply exit "
                    f"{o.first_exit}, reported {o.reported}, {o.seconds:.0f} s, "
                    f"{f'{o.reruns} extra re-run(s) after a lost lock, ' if o.reruns else ''}"
                    f"{'OK' if not o.problems else 'PROBLEMS: ' + '; '.join(o.problems)}"
                    f" [{sum(1 for x in outcomes if not x.problems)}/{n} survived so far]",
                    flush=True,
                )
    survived = [o for o in outcomes if not o.problems]
    summary = {
        "trials": len(outcomes),
        "survived": len(survived),
        "by_victim": dict(collections.Counter(o.victim for o in outcomes)),
        "killed_mid_apply": sum(1 for o in outcomes if o.killed_at is not None),
        "extra_reruns_after_a_lost_lock": sum(o.reruns for o in outcomes),
        "first_apply_exits": dict(collections.Counter(o.first_exit for o in outcomes)),
        "problems": [f"trial {o.trial}: {p}" for o in outcomes for p in o.problems],
        "minutes": round((time.perf_counter() - started) / 60, 1),
    }
    print(json.dumps(summary, indent=2))
    return 0 if len(survived) == len(outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
