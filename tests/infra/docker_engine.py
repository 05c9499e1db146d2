"""What pulumi-docker and the Docker engine do with a `docker.Container` resource, mirrored so that
its command runs in a sandbox (tests/support/sandbox.py) exactly as the engine would run it.

Sources read (repository, file, function, commit):
- kreuzwerker/terraform-provider-docker (what pulumi-docker wraps),
  internal/provider/resource_docker_container_funcs.go, resourceDockerContainerCreate (83c00e0b):
  after creating the container and before starting it, each `upload` becomes a tar archive holding
  one entry named by the upload's full `file` path, mode `permissions` (else 0744 when executable,
  else 0644), no owner (so root), sent with `CopyToContainer(ctx, id, dstPath, ...)` where
  `dstPath := "/"` always.
- moby/moby, daemon/archive_unix.go, containerExtractToDir and checkWritablePath (b985e231): the
  extraction point is that `dstPath`; if it lies inside a mount point, the mount must be
  read-write ("mounted volume is marked read-only"); otherwise a read-only root refuses it
  ("container rootfs is marked read-only"). daemon/volume/mounts/volume_unix.go HasResource: the
  path is inside a mount when filepath.Rel(destination, path) does not climb out. So `/` is inside
  no volume: every upload into a read-only container is refused, whatever its `file`. The cases of
  the daemon's own tests (integration-cli/docker_api_containers_test.go
  TestPutContainerArchiveErrSymlinkInVolumeToReadOnlyRootfs, docker_cli_cp_to_container_test.go
  TestCpToErrReadOnlyRootfs and TestCpToErrReadOnlyVolume) are in test_docker_engine_rules.py.
- moby/moby, daemon/create_unix.go populateVolume and daemon/container/container_unix.go
  copyExistingContents (b985e231), with vendor/github.com/containerd/continuity/fs/copy.go
  copyDirectory: a named volume mounted where the image has a directory is filled from it when the
  volume is empty, and its root takes the directory's mode and owner (copyFileInfo).
- The container's environment is the image's ENV with the container's `env` over it; `entrypoints`
  replace the image's ENTRYPOINT and `command` its CMD; `user` replaces USER.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.sandbox import Container, Image, ImageFile, Network, Volume


class EngineRefused(Exception):
    """What `pulumi up` would print as the provider's error (the container is not created)."""


@dataclass(frozen=True)
class CopyRequest:
    """One CopyToContainer call, as the provider builds it."""

    dst_path: str
    entry: str  # the tar entry's name
    mode: int
    content: str


def copy_requests(container: dict[str, Any]) -> list[CopyRequest]:
    out = []
    for upload in container.get("uploads", []):
        default = 0o744 if upload.get("executable") else 0o644
        mode = int(upload["permissions"], 8) if upload.get("permissions") else default
        out.append(CopyRequest("/", upload["file"], mode, upload.get("content", "")))
    return out


def _inside(mount: str, path: str) -> bool:
    rel = os.path.relpath(path, mount)
    return rel != ".." and not rel.startswith("../")


def extraction_refusal(container: dict[str, Any], dst_path: str) -> str | None:
    """checkWritablePath(container, dst_path): the daemon's answer, None when it extracts."""
    for volume in container.get("volumes", []):
        if _inside(volume["containerPath"], dst_path):
            return None if not volume.get("readOnly") else "mounted volume is marked read-only"
    if container.get("readOnly"):
        return "container rootfs is marked read-only"
    return None


def uploads(container: dict[str, Any]) -> list[ImageFile]:
    """The uploads as files of the container's root (root-owned), or the engine's refusal."""
    files = []
    for request in copy_requests(container):
        refusal = extraction_refusal(container, request.dst_path)
        if refusal:
            raise EngineRefused(f"Unable to upload volume content: {refusal}")
        files.append(ImageFile(request.entry, request.content.encode(), request.mode))
    return files


def populate_volume(path: Path, image: Image, container_path: str) -> None:
    """A new (empty) named volume takes the image directory's mode and owner."""
    directory = image.directory(container_path)
    if directory is None or any(path.iterdir()):
        return
    os.chown(path, directory.uid, directory.gid)
    os.chmod(path, directory.mode)


def _user(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    uid, _, gid = value.partition(":")
    return (int(uid), int(gid or uid))


def sandboxed(
    container: dict[str, Any],
    image: Image,
    volumes: dict[str, Path],
    net: Network | None = None,
    hosts: dict[str, str] | None = None,
    entrypoint: list[str] | None = None,
    cmd: list[str] | None = None,
) -> Container:
    """`volumes`: host directories by volume name (the caller keeps them between containers, as
    the engine keeps named volumes)."""
    env = dict(e.split("=", 1) for e in container.get("envs", []))
    mounts = []
    for v in container.get("volumes", []):
        source = volumes[v["volumeName"]]
        populate_volume(source, image, v["containerPath"])
        mounts.append(Volume(v["containerPath"], source, bool(v.get("readOnly"))))
    files = []
    for upload in uploads(container):
        into = next((m for m in mounts if _inside(m.path, upload.path)), None)
        if into is None:
            files.append(upload)
            continue
        target = into.source / os.path.relpath(upload.path, into.path)
        target.write_bytes(upload.content)  # extracted through the mount, into the volume
        target.chmod(upload.mode)
    argv = [*(container.get("entrypoints") or entrypoint or []), *(container.get("command") or cmd or [])]
    return Container(
        argv=argv,
        env=env,
        image=Image(image.env, (*image.files, *files), image.dirs, image.user, image.workdir),
        user=_user(container.get("user")),
        read_only_root=bool(container.get("readOnly")),
        volumes=mounts,
        hosts=hosts or {},
        net=net,
    )
