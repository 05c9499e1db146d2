"""Run the Pulumi program under Pulumi's mocks (preview=False) and record every resource.

Each run happens in its own subprocess: Pulumi's runtime settings are process-global, so two
stacks in one process would share state.
"""

from __future__ import annotations

import json
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
import json, sys
sys.path.insert(0, sys.argv[1])
import pulumi

MARKER = sys.argv[4]

class Mocks(pulumi.runtime.Mocks):
    def __init__(self):
        self.resources = []

    def new_resource(self, args):
        outputs = dict(args.inputs)
        if args.typ == "random:index/randomPassword:RandomPassword":
            outputs["result"] = f"{MARKER}{args.name.replace('-', '')}{MARKER}"
        if args.typ == "docker:index/image:Image":
            outputs["imageName"] = args.inputs.get("imageName")
        if args.typ == "docker:index/remoteImage:RemoteImage":
            outputs["imageId"] = "sha256:" + "0" * 64
        self.resources.append({"type": args.typ, "name": args.name, "inputs": args.inputs})
        return [args.name + "_id", outputs]

    def call(self, args):
        return {}

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

run()
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

    def of_type(self, typ: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == typ]

    def k8s_objects(self) -> list[dict[str, Any]]:
        return [plain(r["inputs"]) for r in self.resources if r["type"].startswith("kubernetes:")]

    def k8s(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.k8s_objects() if o.get("kind") == kind]


def stack_config(stack: str, extra: dict[str, Any] | None = None, secret: dict[str, str] | None = None) -> dict:
    """The config a stack file holds, as `pulumi up` would pass it (plus test overrides)."""
    data = YAML(typ="safe").load((REPO / f"Pulumi.{stack}.yaml").read_text())
    values = {k: str(v) for k, v in (data.get("config") or {}).items()}
    values.update({f"{PROJECT}:{k}": str(v) for k, v in (extra or {}).items()})
    values.update({f"{PROJECT}:{k}": v for k, v in (secret or {}).items()})
    return {"values": values, "secret_keys": [f"{PROJECT}:{k}" for k in (secret or {})]}


def run_stack(stack: str, extra: dict[str, Any] | None = None, secret: dict[str, str] | None = None) -> Run:
    config = stack_config(stack, extra, secret)
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(REPO), PROJECT, stack, SECRET_MARKER],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise AssertionError(f"the Pulumi program failed under mocks:\n{done.stderr[-5000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(data["resources"], data["outputs"])
