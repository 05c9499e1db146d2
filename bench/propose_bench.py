"""Benchmark: `reconciler propose --open-pr` in a repository of 1,000 model files.

    .venv/bin/python bench/propose_bench.py [--models 1000 --versions 30 --open-prs 50]

The config repository holds --models files (each with a `propose:` rule); the registry (a SQLite
file) holds the proposed model with --versions versions, each with a training run; the fake GitHub
API (tests/github/) holds --open-prs other open pull requests. Measured per run of the whole process
(`python -m reconciler propose MODEL VERSION --open-pr`, a new process as the workflow step runs it):
wall time, the process's CPU time, and the GitHub calls it made, by operation. Then the same with 10x
the open pull requests: the calls must not grow. What propose reads of the registry is one model's
versions (one search) and the runs of the candidate and holders; it edits one file.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.github.fake import FakeGitHub  # noqa: E402

POLICY = "owners: [platform-lead]\nprotected: {aliases: [champion], approvals: 1, from: [model-owners]}\n"


def model_file(name: str) -> str:
    return (
        f"name: {name}\nowners: [olivia]\naliases:\n  champion: 1\n"
        "review:\n  protected:\n    gates:\n      - {metric: accuracy, at_least: 0.5}\n"
        "propose:\n  alias: challenger\n  tags: [dataset]\n"
    )


def registry(path: Path, model: str, versions: int) -> None:
    from mlflow import MlflowClient

    uri = f"sqlite:///{path}"
    c = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = c.create_experiment("train")
    c.create_registered_model(model)
    for i in range(versions):
        run = c.create_run(exp, tags={"dataset": "d1"})
        c.log_metric(run.info.run_id, "accuracy", 0.6 + i / (versions * 3))
        c.set_terminated(run.info.run_id)
        c.create_model_version(model, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    c.set_registered_model_alias(model, "champion", "1")


def run(ws: Path, gh: FakeGitHub, token: str, model: str, version: int) -> tuple[float, float, dict[str, int]]:
    gh.reset_calls()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "GITHUB_"))}
    env.update(MLFLOW_TRACKING_URI=f"sqlite:///{ws / 'mlflow.db'}", GITHUB_API_URL=gh.url)
    env.update(GITHUB_REPOSITORY="acme/registry", GITHUB_TOKEN=token)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "reconciler", "propose", model, str(version), "--open-pr", "--base", "main"]
    done = subprocess.run(cmd, cwd=ws, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, dict(sorted(gh.call_counts().items()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--versions", type=int, default=30)
    ap.add_argument("--open-prs", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ws = root / "ws"
        (ws / "models").mkdir(parents=True)
        names = [f"model-{i:04d}" for i in range(args.models)]
        files = {f"models/{n}.yaml": model_file(n) for n in names} | {"models/_policy.yaml": POLICY}
        for path, text in files.items():
            (ws / path).write_text(text)
        target = names[len(names) // 2]
        registry(ws / "mlflow.db", target, args.versions)
        with FakeGitHub(root / "github") as gh:
            gh.commit("main", files, author="platform")
            token = gh.actions_token({"contents": "write", "pull-requests": "write"})
            for i in range(args.open_prs * 11):
                gh.commit(f"other-{i}", {f"notes/{i}.txt": "x\n"}, author="alice")
            for i in range(args.open_prs):
                gh.open_pull_request(f"other-{i}", author="alice")
            base = (ws / "models" / f"{target}.yaml").read_text()
            rows = []
            for label, version in (
                ("open", args.versions - 1),
                ("re-run", args.versions - 1),
                ("supersede", args.versions),
            ):
                (ws / "models" / f"{target}.yaml").write_text(base)  # each run checks out the base branch
                rows.append((label, *run(ws, gh, token, target, version)))
            for i in range(args.open_prs, args.open_prs * 11):
                gh.open_pull_request(f"other-{i}", author="alice")
            (ws / "models" / f"{target}.yaml").write_text(base)
            rows.append((f"re-run, {args.open_prs * 11} open PRs", *run(ws, gh, token, target, args.versions)))
            gh.assert_clean()
    print(f"propose --open-pr: {args.models} model files, {args.versions} versions, {args.open_prs} open PRs")
    for label, wall, cpu, calls in rows:
        print(f"  {label:<24} wall {wall:5.2f} s  cpu {cpu:5.2f} s  GitHub calls {sum(calls.values())}: {calls}")


if __name__ == "__main__":
    main()
