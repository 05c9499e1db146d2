"""Helpers shared by the Docker components: env lists, health checks, and one-shot containers
whose exit code gates what depends on them."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

RESTART = "unless-stopped"


class OneShotFailed(Exception):
    """A one-shot container (bucket setup, migrations, password) exited non-zero."""


def built(image: docker.Image) -> pulumi.Output[str]:
    """What a container runs: the image's ID (a local image's repoDigest, pulumi_docker Image.repo_digest),
    not its tag. A rebuild under the same tag gives a new ID, and a container's `image` is ForceNew
    (terraform-provider-docker resource_docker_container.go), so the containers are replaced."""
    return image.repo_digest


def envs(values: dict[str, pulumi.Input[str]]) -> list[pulumi.Output[str]]:
    return [pulumi.Output.concat(k, "=", v) for k, v in sorted(values.items())]


def health(*test: str) -> dict:
    return {"tests": ["CMD", *test], "interval": "10s", "timeout": "5s", "retries": 6, "start_period": "20s"}


def one_shot(name: str, container_name: str, opts: pulumi.ResourceOptions, **args) -> docker.Container:
    """A container that runs once to completion; `pulumi up` waits for it (attach) and keeps its logs."""
    return docker.Container(
        name, name=container_name, must_run=False, restart="no", attach=True, logs=True, wait=False, opts=opts, **args
    )


def succeeded(container: docker.Container, container_name: str, what: str) -> pulumi.Output[str]:
    """An output that resolves only when `container` exited 0; otherwise `pulumi up` fails here.

    pulumi-docker waits for an attached container but does not fail on its exit code, so a failed
    migration would otherwise let the server start on an unmigrated database. Resources that take
    this output as an input are not created when it fails.
    """

    def check(args: list) -> str:
        code, urn = args
        if code != 0:
            raise OneShotFailed(
                f"{what} exited with code {code}: read `docker logs {container_name}`, fix the cause, "
                f"then run `pulumi up --replace '{urn}'`"
            )
        return "0"

    return pulumi.Output.all(container.exit_code, container.urn).apply(check)
