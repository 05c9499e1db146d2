"""Benchmark: the pull-request check on a 1,000 models x 20 versions registry, and offline validation.

    .venv/bin/python bench/pr_check_bench.py [--models 1000 --versions 20 --changed 1 --reviews 6 --repeat 3]

1. `reconciler github check`, from a checkout of the pull request's merge commit to the posted
   comment and status, as the workflow's step runs it (a new process; installing excluded):
   wall time and the process's own CPU time, its phases (RECONCILER_TIMINGS), and the GitHub API
   calls it made (counted by the fake GitHub API, tests/github/), per run. The registry is a
   PostgreSQL-backed `mlflow server` started as deployed (tests/support/services.py), populated as
   bench/registry_bench.py does; the config repository holds one file per model (written by
   `reconciler import`'s renderer) and a review policy with gates; the pull request moves the
   champion alias of --changed models to a new version trained with an accuracy metric.
2. The same with --changed x 10 models and more reviews: the API calls must not grow.
3. `reconciler validate --offline` on 100 of those files: median wall time of 5 runs, and whether
   the process imported MLflow (it must not).
Target: 1. at most 10 s of our own time; 3. at most 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.registry_bench import populate  # noqa: E402
from reconciler import engine  # noqa: E402
from reconciler.files.importer import render_file  # noqa: E402
from reconciler.registry.target import Target  # noqa: E402
from tests.github import events  # noqa: E402
from tests.github.actions import checkout  # noqa: E402
from tests.github.fake import FakeGitHub  # noqa: E402
from tests.github.runner import ActionCall  # noqa: E402
from tests.support.services import mlflow_server, postgres, s3_server  # noqa: E402

POLICY = """\
owners: [platform-lead]
changes: {approvals: 1, from: [model-owners]}
protected:
  aliases: [champion]
  approvals: 2
  from: [model-owners, "@acme/ml-leads"]
  gates:
    - {metric: accuracy, at_least: 0.9}
    - {metric: accuracy, no_worse_than_current_by: 0.05}
"""


def model_files(server_uri: str) -> dict[str, str]:
    live = engine.Session.open(Target(server_uri, server_uri, embedded=False)).read()
    files = {}
    for name, model in live.models.items():
        text = render_file(model, f"name: {name}\nowners: [olivia]\n", f"models/{name}.yaml")
        files[f"models/{name}.yaml"] = text
    return files


def candidates(server_uri: str, names: list[str]) -> dict[str, int]:
    """For each model the pull request promotes, two new versions with training runs: the champion
    (accuracy 0.93, so the relative gate has a run to compare with) and the candidate (0.95)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=server_uri, registry_uri=server_uri)
    experiment = client.create_experiment(f"bench-training-{time.time_ns()}")
    out = {}
    for name in names:
        for accuracy in (0.93, 0.95):
            run = client.create_run(experiment)
            client.log_metric(run.info.run_id, "accuracy", accuracy)
            client.set_terminated(run.info.run_id)
            version = client.create_model_version(name, f"s3://mlflow/bench/{name}", run_id=run.info.run_id).version
            out[name] = int(version)
        client.set_registered_model_alias(name, "champion", str(out[name] - 1))
    return out


def promote(text: str, version: int) -> str:
    lines = text.splitlines()
    at = lines.index("aliases:")
    assert lines[at + 1].startswith("  champion: "), lines[at : at + 2]
    lines[at + 1] = f"  champion: {version}"
    return "\n".join(lines) + "\n"


def run_check(gh: FakeGitHub, number: int, work: Path, env: dict[str, str]) -> dict:
    pr_event = events.pull_request(gh, number, "synchronize")
    token = gh.actions_token({"contents": "read", "pull-requests": "write", "statuses": "write"})
    workspace = work / f"checkout-{time.time_ns()}"
    done = checkout(gh.git)(
        ActionCall("actions/checkout", {"fetch-depth": "2"}, {}, workspace, {"sha": pr_event.sha, "token": token})
    )
    assert done.outcome == "success", done.log
    event_file = workspace.parent / f"{workspace.name}.event.json"
    event_file.write_text(json.dumps(pr_event.payload))
    step_env = {
        **env,
        "GITHUB_API_URL": gh.url,
        "GITHUB_REPOSITORY": gh.repo.full_name,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event_file),
        "GITHUB_SHA": pr_event.sha,
        "GITHUB_TOKEN": token,
        "GITHUB_RUN_ID": "1",
        "RECONCILER_TIMINGS": "1",
    }
    gh.reset_calls()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "reconciler"), "github", "check"],
        cwd=workspace,
        env=step_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert proc.returncode == 0, proc.stderr[-3000:]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    timings = next((line for line in proc.stderr.splitlines() if line.startswith("timings:")), "")
    return {"wall": wall, "cpu": cpu, "calls": dict(gh.call_counts()), "timings": timings, "out": proc.stdout.strip()}


def bench_check(server, args, work: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "GITHUB_"))}
    env.update(MLFLOW_TRACKING_URI=server.uri, MLFLOW_TRACKING_USERNAME="admin")
    env["MLFLOW_TRACKING_PASSWORD"] = server.admin_password
    os.environ.update(MLFLOW_TRACKING_USERNAME="admin", MLFLOW_TRACKING_PASSWORD=server.admin_password)
    names = [f"models/bench-model-{i:04d}.yaml" for i in range(args.changed * 10)]
    new = candidates(server.uri, [Path(n).stem for n in names])
    files = model_files(server.uri)
    with FakeGitHub(work / "github") as gh:
        gh.add_team_member("acme", "ml-leads", "lena")
        env["RECONCILER_MEMBERS_TOKEN"] = gh.add_token("governance[bot]", {"members": "read"})
        gh.commit("main", {**files, "models/_policy.yaml": POLICY}, "The registry, declared", "platform-lead")
        small, large = (
            _pull(gh, branch, {n: promote(files[n], new[Path(n).stem]) for n in names[:count]}, reviews)
            for branch, count, reviews in (("one", args.changed, args.reviews), ("ten", len(names), args.reviews * 5))
        )
        _warm_up(gh)
        for label, number in ((f"{args.changed} model(s)", small), (f"{len(names)} models", large)):
            runs = [run_check(gh, number, work, env) for _ in range(args.repeat)]
            _report(label, gh, number, runs, args)
        gh.assert_clean()


def _pull(gh: FakeGitHub, branch: str, changes: dict[str, str], reviews: int) -> int:
    gh.commit(branch, changes, f"Promote {len(changes)} champions", "alice")
    number = gh.open_pull_request(branch, author="alice").number
    for who in ["olivia", "lena", *[f"reviewer-{i}" for i in range(max(0, reviews - 2))]]:
        gh.add_review(number, who, "APPROVED")
    return number


def _warm_up(gh: FakeGitHub) -> None:
    """The fake loads GitHub's OpenAPI description on its first request: not the reconciler's time."""
    import httpx

    token = gh.actions_token({"contents": "read"})
    for version in ("2022-11-28", "2026-03-10"):
        httpx.get(
            f"{gh.url}/repos/{gh.repo.full_name}",
            headers={"Authorization": f"Bearer {token}", "X-GitHub-Api-Version": version},
            timeout=120,
        )
    gh.reset_calls()


def _report(label: str, gh: FakeGitHub, number: int, runs: list[dict], args) -> None:
    walls, cpus = [r["wall"] for r in runs], [r["cpu"] for r in runs]
    state = gh.statuses_for(gh.state.pulls[number].head_sha)[-1]
    reviews = sum(1 for r in gh.state.reviews if r.pull_number == number)
    print(
        f"\nPR check, {label} changed, {reviews} reviews, registry "
        f"{args.models} models x {args.versions}+ versions:\n"
        f"  wall median {statistics.median(walls):.2f} s ({', '.join(f'{w:.2f}' for w in walls)}); "
        f"reconciler CPU median {statistics.median(cpus):.2f} s ({', '.join(f'{c:.2f}' for c in cpus)})\n"
        f"  status {state.state}: {state.description}\n"
        f"  {runs[-1]['timings']}"
    )
    for i, r in enumerate(runs, 1):
        print(f"  run {i}: {sum(r['calls'].values())} GitHub API calls {r['calls']}")


def bench_validate(work: Path, files: dict[str, str]) -> None:
    repo = work / "validate"
    (repo / "models").mkdir(parents=True)
    for path, text in sorted(files.items())[:100]:
        (repo / path).write_text(text)
    binary = str(Path(sys.executable).parent / "reconciler")
    walls = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([binary, "validate", "--offline"], cwd=repo, check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
    probe = (
        "import sys; from reconciler.cli import main\n"
        "try:\n    main(['validate', '--offline'])\nexcept SystemExit:\n    pass\n"
        "print('mlflow imported' if 'mlflow' in sys.modules else 'mlflow not imported', file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, check=True)
    print(
        f"\nreconciler validate --offline, 100 files: median {statistics.median(walls):.2f} s "
        f"({', '.join(f'{w:.2f}' for w in walls)}); {done.stderr.strip().splitlines()[-1]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument(
        "--changed", type=int, default=1, help="models the small pull request promotes (x10 for the large)"
    )
    parser.add_argument("--reviews", type=int, default=6, help="reviews on the small pull request (x5 on the large)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pr-check-bench-"))
    with postgres() as pg, s3_server(work) as s3:
        print(f"populating {args.models} models x {args.versions} versions …", flush=True)
        print(f"  populated in {populate(pg.uri('mlflow'), args.models, args.versions):.1f} s (not timed below)")
        with mlflow_server(work / "server", pg, s3) as server:
            bench_check(server, args, work)
            os.environ.update(MLFLOW_TRACKING_USERNAME="admin", MLFLOW_TRACKING_PASSWORD=server.admin_password)
            bench_validate(work, model_files(server.uri))


if __name__ == "__main__":
    main()
