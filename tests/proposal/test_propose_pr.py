"""`reconciler propose --open-pr` against the OpenAPI-checked fake GitHub: one pull request per
model, kept current; a newer version supersedes, an older one is left out; a branch or body edited
by hand is reported and never overwritten; a base that moved is refused; GitHub calls counted.
(The same with a real `mlflow server` and the training identity: tests/integration/test_train_pipeline.py.)"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from reconciler.github.proposals import branch_name
from reconciler.proposal.body import read_marker
from tests.github.fake import FakeGitHub
from tests.proposal.registry import IRIS_FILE, POLICY, env, seed, train

FILES = {"models/iris.yaml": IRIS_FILE, "models/_policy.yaml": POLICY}
BRANCH = branch_name("iris")


def checkout(gh: FakeGitHub, ws: Path) -> None:
    """What actions/checkout gives each run: the base branch's files."""
    tip = gh.git.tip("main")
    assert tip is not None
    for path in FILES:
        text = gh.git.read(tip, path)
        assert text is not None
        (ws / path).write_text(text)


def propose(gh: FakeGitHub, ws: Path, token: str, version: int) -> subprocess.CompletedProcess:
    checkout(gh, ws)
    return run_propose(ws, token, version, gh.url)


def run_propose(ws: Path, token: str, version: int, api_url: str) -> subprocess.CompletedProcess:
    """`propose --open-pr` in the checkout `ws` as it is, against the GitHub API at `api_url`."""
    extra = {"GITHUB_API_URL": api_url, "GITHUB_REPOSITORY": "acme/registry", "GITHUB_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "propose", "iris", str(version), "--open-pr", "--base", "main"],
        cwd=ws,
        env=env(ws, **extra),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def setup(fake_github: FakeGitHub, tmp_path: Path):
    ws = tmp_path / "ws"
    ws.mkdir()
    c = seed(ws)
    fake_github.commit("main", FILES, author="platform")
    token = fake_github.actions_token({"contents": "write", "pull-requests": "write"})
    return fake_github, ws, c, token


def _open(gh: FakeGitHub) -> list:
    return [p for p in gh.state.pulls.values() if p.state == "open"]


def test_one_pull_request_per_model_updated_and_superseded(setup):
    gh, ws, c, token = setup
    hostile = "<script>x</script> @acme/everyone | ![x](http://evil)"
    v2 = train(c, "iris", {"accuracy": 0.95, "f1_macro": 0.94}, params={"C": "10", "note": hostile})
    done = propose(gh, ws, token, v2)
    assert done.returncode == 0, done.stderr
    [pr] = _open(gh)
    assert done.stdout.splitlines()[-1].startswith(f"opened #{pr.number}: Propose iris v{v2} as alias challenger")
    assert pr.head_ref == BRANCH and pr.user.login == "github-actions[bot]"
    assert gh.git.read(pr.head_sha, "models/iris.yaml") == (ws / "models/iris.yaml").read_text()
    assert f"challenger: {v2}" in (ws / "models/iris.yaml").read_text()
    assert len(gh.git.commits_between(pr.base_sha, pr.head_sha)) == 1
    body = pr.body or ""
    assert "| v2 | candidate | **0.95** | **0.94** |" in body
    assert "| v1 | <code>alias challenger</code>, <code>alias champion</code>, <code>stage Production</code> |" in body
    assert "today the candidate passes every gate" in body
    assert "<script>" not in body and "@acme/everyone" not in body and "](http://evil)" not in body
    calls = gh.call_counts()
    assert sum(calls.values()) <= 7, calls

    # The same version again: the same pull request, no new commit.
    head = pr.head_sha
    gh.reset_calls()
    again = propose(gh, ws, token, v2)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1].startswith(f"updated #{pr.number}")
    assert _open(gh) == [pr] and pr.head_sha == head
    assert Counter(gh.call_counts()) == Counter({"git/get-ref": 2, "pulls/list": 1, "pulls/update": 1})

    # A newer version supersedes it: one pull request still, a comment names the replacing version.
    v3 = train(c, "iris", {"accuracy": 0.97, "f1_macro": 0.96})
    newer = propose(gh, ws, token, v3)
    assert newer.returncode == 0, newer.stderr
    assert newer.stdout.splitlines()[-1] == f"updated #{pr.number}: v{v3} replaces v{v2}"
    assert _open(gh) == [pr] and pr.title == f"Propose iris v{v3} as alias challenger"
    assert f"challenger: {v3}" in (gh.git.read(pr.head_sha, "models/iris.yaml") or "")
    assert [cm.body for cm in gh.comments_on(pr.number)] == [
        f"Superseded: training registered v{v3}, which replaces v{v2} in this proposal."
    ]
    assert len(gh.git.commits_between(pr.base_sha, pr.head_sha)) == 1
    # Two trainings finishing out of order: the older one does not replace the newer proposal.
    late = propose(gh, ws, token, v2)
    assert late.returncode == 0 and "newer than v2: left as it is" in late.stdout
    marker = read_marker(pr.body)
    assert marker is not None and marker[0].version == v3 and marker[1]


def test_a_branch_or_body_edited_by_hand_is_reported_never_overwritten(setup):
    gh, ws, c, token = setup
    v2 = train(c, "iris", {"accuracy": 0.95, "f1_macro": 0.94})
    assert propose(gh, ws, token, v2).returncode == 0
    [pr] = _open(gh)
    hand = gh.push(pr.number, {"models/iris.yaml": IRIS_FILE + "# reviewer's note\n"}, author="alice")
    refused = propose(gh, ws, token, v2)
    assert refused.returncode == 1
    assert "has commits `reconciler propose` did not make; left as it is" in refused.stdout
    assert pr.head_sha == hand
    gh.git.set_ref(f"refs/heads/{BRANCH}", gh.git.info(hand).parents[0])  # the reviewer takes it back
    pr.head_sha = gh.git.tip(BRANCH) or ""
    pr.body = (pr.body or "").replace("Training registered", "Training (checked by bob) registered")
    body = pr.body
    edited = propose(gh, ws, token, v2)
    assert edited.returncode == 1 and "its body was edited by hand" in edited.stdout
    assert pr.body == body


def test_a_hand_made_branch_and_a_moved_base_are_refused(setup):
    gh, ws, c, token = setup
    v2 = train(c, "iris", {"accuracy": 0.95, "f1_macro": 0.94})
    gh.commit(BRANCH, {"notes.txt": "mine\n"}, author="alice")
    refused = propose(gh, ws, token, v2)
    assert refused.returncode == 1 and "was not made by `reconciler propose`" in refused.stdout
    assert gh.git.read(gh.git.tip(BRANCH) or "", "notes.txt") == "mine\n"
    assert _open(gh) == []
    gh.git.set_ref(f"refs/heads/{BRANCH}", gh.git.tip("main") or "")
    gh.git.git("update-ref", "-d", f"refs/heads/{BRANCH}")
    # The base moved after the checkout: the file there is not the one propose edited.
    checkout(gh, ws)
    stale = (ws / "models/iris.yaml").read_text()
    gh.commit("main", {"models/iris.yaml": IRIS_FILE.replace("team: 'vision'", "team: 'eyes'")}, author="bob")
    done = run_propose(ws, token, v2, gh.url)
    assert stale and done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stdout + done.stderr
    line = lines[0]
    assert line == (
        "error: models/iris.yaml on 'main' is not the file this checkout has (changed since it was checked out); "
        "nothing was proposed: re-run the job on the newest base branch"
    )
    assert _open(gh) == []


def test_an_unreachable_github_is_one_line(setup, tmp_path):
    gh, ws, c, token = setup
    v2 = train(c, "iris", {"accuracy": 0.95, "f1_macro": 0.94})
    checkout(gh, ws)
    before = (ws / "models/iris.yaml").read_bytes()
    done = run_propose(ws, token, v2, "http://127.0.0.1:9")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stdout + done.stderr
    line = lines[0]
    assert line.startswith("error: cannot reach GitHub to read branch 'main'"), line
    # hostile6 #7: the checkout's file was edited before GitHub was asked; a failure leaves it as it was.
    assert (ws / "models/iris.yaml").read_bytes() == before
    assert "wrote" not in done.stdout, done.stdout


def test_two_trainings_finishing_at_once_leave_one_pull_request_naming_the_newer(setup, tmp_path):
    gh, ws, c, token = setup
    v2 = train(c, "iris", {"accuracy": 0.95, "f1_macro": 0.94})
    v3 = train(c, "iris", {"accuracy": 0.96, "f1_macro": 0.95})
    procs = []
    for version in (v3, v2):  # each run has its own checkout; both read the same registry
        checkout_dir = tmp_path / f"ws-{version}"
        (checkout_dir / "models").mkdir(parents=True)
        checkout(gh, checkout_dir)
        extra = {"GITHUB_API_URL": gh.url, "GITHUB_REPOSITORY": "acme/registry", "GITHUB_TOKEN": token}
        e = env(ws, **extra)
        cmd = [sys.executable, "-m", "reconciler", "propose", "iris", str(version), "--open-pr", "--base", "main"]
        procs.append(
            subprocess.Popen(cmd, cwd=checkout_dir, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    results = [(p.wait(300), *p.communicate()) for p in procs]
    assert all(code == 0 for code, _, _ in results), results
    [pr] = _open(gh)
    assert pr.title == f"Propose iris v{v3} as alias challenger", results
    assert f"challenger: {v3}" in (gh.git.read(pr.head_sha, "models/iris.yaml") or "")
    marker = read_marker(pr.body)
    assert marker is not None and marker[0].version == v3 and marker[1]


def test_a_run_between_its_commit_and_its_pull_request_is_never_reset_under(setup, monkeypatch):
    """The interleaving the two-process test above hits only on a loaded machine, made certain with
    hooks: run A (v2) has created the branch at the base tip and is about to commit; run B (v3) reads
    the branch then (at the base tip, no pull request), and commits after A did; A opens its pull
    request after B's commit. B must not have reset the branch under A's commit (A's pull request
    would then show B's file under A's title, and B would report A's branch as edited by hand)."""
    import threading

    from reconciler.github import proposals
    from reconciler.proposal.local import prepare
    from reconciler.proposal.registry import open_client
    from reconciler.registry.target import resolve_target

    gh, ws, c, token = setup
    v2 = train(c, "iris", {"accuracy": 0.95, "f1_macro": 0.94})
    v3 = train(c, "iris", {"accuracy": 0.96, "f1_macro": 0.95})
    checkout(gh, ws)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{ws / 'mlflow.db'}")
    monkeypatch.chdir(ws)  # as the command runs: from the checkout's root
    target = resolve_target(ws)
    p2, p3 = (prepare(Path("models"), "iris", v, target, open_client(target)) for v in (v2, v3))
    monkeypatch.setattr(proposals, "RETRY_PAUSE", 0.05)
    created, read, committed, tried = (threading.Event() for _ in range(4))

    def hooked(before: dict, after: dict) -> proposals.ProposalClient:
        client = proposals.ProposalClient(gh.url, token, "acme/registry")
        for name in {*before, *after}:
            original = getattr(client, name)

            def call(*args, _original=original, _name=name, **kwargs):
                if _name in before:
                    assert before[_name].wait(30), f"{_name} waited 30 s"
                try:
                    return _original(*args, **kwargs)
                finally:
                    if _name in after:
                        after[_name].set()

            setattr(client, name, call)
        return client

    a = hooked(
        before={"commit_file": read, "open_pull": tried}, after={"set_branch": created, "commit_file": committed}
    )
    b = hooked(
        before={"set_branch": committed, "commit_file": committed}, after={"proposal_pulls": read, "commit_file": tried}
    )
    outcomes: dict[str, proposals.Outcome] = {}
    run_a = threading.Thread(target=lambda: outcomes.setdefault("a", proposals.publish(a, p2, Path("models"), "main")))
    run_a.start()
    assert created.wait(30)
    outcomes["b"] = proposals.publish(b, p3, Path("models"), "main")
    run_a.join(60)
    assert outcomes["a"].ok and outcomes["b"].ok, outcomes
    [pr] = _open(gh)
    assert pr.title == f"Propose iris v{v3} as alias challenger", outcomes
    assert f"challenger: {v3}" in (gh.git.read(pr.head_sha, "models/iris.yaml") or "")
    marker = read_marker(pr.body)
    assert marker is not None and marker[0].version == v3 and marker[0].head == pr.head_sha
