"""Run the Pulumi program under Pulumi's mocks (preview=False) and record every resource.

Each run happens in its own subprocess: Pulumi's runtime settings are process-global, so two
stacks in one process would share state. The config passed is what the Pulumi CLI passes: the
stack file's values plus the defaults Pulumi.yaml declares (tests/infra/pulumi_rules.py mirrors
the CLI's check of them).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
PROJECT = "mlflow-registry"
# What a mocked RandomPassword returns: recognisable, so tests can find where secrets went.
SECRET_MARKER = "MOCKSECRET"

RUNNER = r"""
import hashlib, json, os, sys
sys.path.insert(0, sys.argv[1])
import pulumi
from pulumi.runtime import mocks as pulumi_mocks

MARKER = sys.argv[4]
EXIT_CODES = json.loads(os.environ.get("MOCK_EXIT_CODES", "{}"))
SALT = os.environ.get("MOCK_SECRET_SALT", "")  # another "generation" of every random password
BUILD = os.environ.get("MOCK_IMAGE_BUILD", "")  # another build of every docker.Image
OPTIONS = {}

class Mocks(pulumi.runtime.Mocks):
    def __init__(self):
        self.resources = []

    def new_resource(self, args):
        outputs = dict(args.inputs)
        if args.typ == "random:index/randomPassword:RandomPassword":
            outputs["result"] = f"{MARKER}{args.name.replace('-', '')}{SALT}{MARKER}"
        if args.typ == "random:index/randomString:RandomString":
            outputs["result"] = hashlib.sha256((args.name + SALT).encode()).hexdigest()[: int(args.inputs["length"])]
        if args.typ == "docker:index/image:Image":
            outputs["imageName"] = args.inputs.get("imageName")
            # A local (unpushed) image's repoDigest is its image ID (pulumi_docker Image.repo_digest):
            # a new build, a new ID, even under the same tag.
            built = hashlib.sha256((json.dumps(args.inputs, sort_keys=True) + BUILD).encode()).hexdigest()
            outputs["repoDigest"] = "sha256:" + built
        if args.typ == "docker:index/remoteImage:RemoteImage":
            outputs["imageId"] = "sha256:" + "0" * 64
        if args.typ == "docker:index/container:Container":
            outputs["exitCode"] = EXIT_CODES.get(args.inputs.get("name"), 0)
        self.resources.append({"type": args.typ, "name": args.name, "inputs": args.inputs})
        return [args.name + "_id", outputs]

    def call(self, args):
        return {}

# Resource options reach the engine, not the mocks: record them from the mocked monitor.
_register = pulumi_mocks.MockMonitor.RegisterResource

def _recording_register(self, request):
    timeouts = request.customTimeouts
    OPTIONS[request.name] = {
        "deleteBeforeReplace": bool(request.deleteBeforeReplace),
        "dependencies": sorted(request.dependencies),
        "parent": request.parent,
        "protect": bool(request.protect),
        "customTimeouts": {"create": timeouts.create, "update": timeouts.update, "delete": timeouts.delete},
    }
    return _register(self, request)

pulumi_mocks.MockMonitor.RegisterResource = _recording_register

mocks = Mocks()
pulumi.runtime.set_mocks(mocks, project=sys.argv[2], stack=sys.argv[3], preview=False)
config = json.loads(sys.stdin.read())
pulumi.runtime.set_all_config(config["values"], config["secret_keys"])

from infra.program import main

exported = {}

@pulumi.runtime.test
def run():
    built = main()
    keys = sorted(built.outputs)
    return pulumi.Output.all(*[built.outputs[k] for k in keys]).apply(
        lambda values: exported.update(dict(zip(keys, values))))

try:
    run()
finally:
    for r in mocks.resources:
        r["options"] = OPTIONS.get(r["name"], {})
    print(json.dumps({"resources": mocks.resources, "outputs": exported}, default=str))
"""


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker for a secret value on the wire


def plain(value: Any) -> Any:
    """Wire values -> manifest values: unwrap secrets, and whole floats back to ints."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return plain(value["value"])
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def secret_wrapped(value: Any) -> bool:
    return isinstance(value, dict) and SECRET_SIG in value


@dataclass(frozen=True)
class Run:
    resources: list[dict[str, Any]]
    outputs: dict[str, Any]
    error: str = ""  # the program's stderr when it failed (run_stack(..., expect_failure=True))

    def of_type(self, typ: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == typ]

    def k8s_objects(self) -> list[dict[str, Any]]:
        return [plain(r["inputs"]) for r in self.resources if r["type"].startswith("kubernetes:")]

    def k8s(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.k8s_objects() if o.get("kind") == kind]

    def containers(self) -> dict[str, dict[str, Any]]:
        """Docker containers by container name, with their resource options under `_options`."""
        return {
            r["inputs"]["name"]: {**plain(r["inputs"]), "_options": r.get("options", {})}
            for r in self.of_type("docker:index/container:Container")
        }


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def _wire(value: Any) -> str:
    """A stack file's value as the CLI hands it to the program: text, objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def stack_config(stack: str, extra: dict[str, Any] | None = None, secret: dict[str, str] | None = None) -> dict:
    """The config `pulumi up` passes: the stack file, then Pulumi.yaml's defaults for keys it lacks
    (as the CLI's config merge does), plus test overrides."""
    data = load_yaml(REPO / f"Pulumi.{stack}.yaml")
    values = {k: _wire(v) for k, v in (data.get("config") or {}).items()}
    for key, decl in (load_yaml(REPO / "Pulumi.yaml").get("config") or {}).items():
        if "default" in decl:
            values.setdefault(f"{PROJECT}:{key}", _wire(decl["default"]))
    values.update({f"{PROJECT}:{k}": _wire(v) for k, v in (extra or {}).items()})
    values.update({f"{PROJECT}:{k}": v for k, v in (secret or {}).items()})
    return {"values": values, "secret_keys": [f"{PROJECT}:{k}" for k in (secret or {})]}


def run_stack(
    stack: str,
    extra: dict[str, Any] | None = None,
    secret: dict[str, str] | None = None,
    exit_codes: dict[str, int] | None = None,
    expect_failure: bool = False,
    secret_salt: str = "",
    image_build: str = "",
    fresh: bool = False,
) -> Run:
    """`exit_codes`: what mocked one-shot Docker containers (by container name) exit with.
    `secret_salt`: generated passwords of another generation (as after `pulumi up --replace`).
    `image_build`: another build of the Docker images (same tags, new image IDs).
    `fresh`: a new process even when this input ran before (a test of what a second run gives)."""
    config = json.dumps(stack_config(stack, extra, secret), sort_keys=True)
    mocks = (("MOCK_EXIT_CODES", json.dumps(exit_codes or {}, sort_keys=True)),)
    mocks += (("MOCK_SECRET_SALT", secret_salt), ("MOCK_IMAGE_BUILD", image_build))
    done = (_run_program.__wrapped__ if fresh else _run_program)(stack, config, mocks)
    lines = done.stdout.strip().splitlines()
    data = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {"resources": [], "outputs": {}}
    if expect_failure:
        if done.returncode == 0:
            raise AssertionError("the Pulumi program was expected to fail under mocks, and it succeeded")
        return Run(data["resources"], data["outputs"], done.stderr)
    if done.returncode != 0:
        raise AssertionError(f"the Pulumi program failed under mocks:\n{done.stderr[-5000:]}")
    return Run(data["resources"], data["outputs"])


@functools.cache
def _run_program(stack: str, config: str, mocks: tuple[tuple[str, str], ...]) -> subprocess.CompletedProcess:
    """One subprocess per distinct program input in a test process: the program is deterministic
    under the mocks, so a second test asking for the same stack reads the same run (each caller
    parses its own copy of the output, so no test sees another's edits)."""
    return subprocess.run(
        [sys.executable, "-c", RUNNER, str(REPO), PROJECT, stack, SECRET_MARKER],
        input=config,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **dict(mocks)},
    )
