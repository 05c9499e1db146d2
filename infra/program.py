"""The Pulumi program: read the stack config, build the chosen target, export its outputs."""

from __future__ import annotations

import pulumi

from infra.config import StackConfig


def main():
    config = StackConfig.load()
    if config.target == "docker":
        from infra.local import stack as target
    else:
        from infra.k8s import stack as target  # type: ignore[no-redef]
    built = target.build(config)
    for key, value in built.outputs.items():
        pulumi.export(key, value)
    return built
