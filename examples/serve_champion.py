"""Serve the version a model file pins with MLflow's scoring server on loopback, score one request
(the input example logged with that version) and print the answer: the demo's serving step.

    python examples/serve_champion.py models/diabetes-regressor.yaml

The file's `serving:` section names the alias; the version is resolved from the file, as the
Pulumi programs resolve it (reconciler.serving), and the server is started with the same two
commands the serving containers run (reconciler/serving/local.py). The registry is
MLFLOW_TRACKING_URI, else ./mlflow.db.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from reconciler.registry.target import resolve_target
from reconciler.serving import load_served
from reconciler.serving.local import start_scoring_server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        raise SystemExit("usage: serve_champion.py models/<name>.yaml")
    served = load_served(Path(argv[0]))
    if served is None:
        raise SystemExit(f"error: {argv[0]} has no serving: section; add one (see README, Serving)")
    target = resolve_target()
    env = {**os.environ, "MLFLOW_TRACKING_URI": target.tracking_uri, "MLFLOW_REGISTRY_URI": target.registry_uri}
    mlflow = str(Path(sys.executable).parent / "mlflow")
    print(f"{served.model}: {served.follows} pins v{served.version} ({served.source}); serving {served.model_uri}")
    with start_scoring_server(served.model, served.version, _free_port(), env=env, mlflow=mlflow) as server:
        payload = (server.model_dir / "serving_input_example.json").read_bytes()
        request = urllib.request.Request(
            f"{server.url}/invocations", data=payload, headers={"Content-Type": "application/json"}
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as answer:
            body = json.loads(answer.read())
        took = (time.perf_counter() - started) * 1000
        print(f"POST {server.url}/invocations ({len(payload)} bytes, the logged input example): {took:.0f} ms")
        print(f"answer: {json.dumps(body)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
