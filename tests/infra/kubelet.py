"""What the kubelet makes of a container in a pod template, mirrored so that the container's
command can be executed (tests/support/sandbox.py) exactly as the manifest gives it.

Sources read (kubernetes/kubernetes; the commits are those of the files read):
- third_party/forked/golang/expansion/expand.go, Expand and MappingFuncFor (commit 02604f7d):
  `$(NAME)` in command, args and env values is replaced by NAME's value when NAME is defined
  (earlier in the env list, or by the runtime), kept as written otherwise; `$$` is an escaped `$`;
  anything else after `$` passes through. The cases of expand_test.go (commit 490ffa43) are in
  tests/infra/test_k8s_api_rules.py.
- pkg/kubelet/kubelet_pods.go, makeEnvironmentVariables: each env entry in order; `value` is
  expanded against the entries before it; `valueFrom.secretKeyRef` takes the Secret's key (a missing
  Secret or key fails the container's start, CreateContainerConfigError); `fieldRef` reads the pod.
- pkg/volume/emptydir/empty_dir.go (emptyDir directories are created 0777) and
  pkg/volume/volume_linux.go, SetVolumeOwnership (commit 03e06024): with the pod's fsGroup, every
  file and directory of a volume gets that group, mode | 0660 (| 0440 for read-only volumes), and
  directories setgid. Secret volumes hold each item's key as a file of `defaultMode` (or the item's
  mode), written by the kubelet (root).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from tests.infra.harness import Run
from tests.support.sandbox import Container, Image, Network, Volume, volume_dir

EMPTY_DIR_MODE = 0o777
SETGID = 0o2000


class ContainerConfigError(Exception):
    """What the kubelet reports as CreateContainerConfigError: the container never starts."""


def expand(text: str, defined: dict[str, str]) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] != "$" or i + 1 == len(text):
            out.append(text[i])
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            close = text.find(")", i + 2)
            if close == -1:
                out.append("$(")
                i += 2
            else:
                name = text[i + 2 : close]
                out.append(defined.get(name, f"$({name})"))
                i = close + 1
        else:
            out.append("$" + nxt)
            i += 2
    return "".join(out)


def secret_data(run: Run) -> dict[tuple[str, str], str]:
    values: dict[tuple[str, str], str] = {}
    for secret in run.k8s("Secret"):
        name = secret["metadata"]["name"]
        for key, value in (secret.get("data") or {}).items():
            values[(name, key)] = base64.b64decode(value).decode()
        for key, value in (secret.get("stringData") or {}).items():
            values[(name, key)] = value
    return values


def _field(path: str, pod: dict[str, str]) -> str:
    if path not in pod:
        raise ContainerConfigError(f"fieldRef {path}: not emulated")
    return pod[path]


def container_env(
    run: Run, container: dict[str, Any], pod: dict[str, str], secrets: dict[tuple[str, str], str] | None = None
) -> dict[str, str]:
    """The container's environment as the kubelet builds it. `pod`: fieldRef values (status.podIP...);
    `secrets`: the Secrets' data (default: as the program writes them)."""
    secrets = secret_data(run) if secrets is None else secrets
    env: dict[str, str] = {}
    for entry in container.get("env", []):
        name = entry["name"]
        if "value" in entry:
            env[name] = expand(entry["value"], env)
            continue
        source = entry["valueFrom"]
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            key = (ref["name"], ref["key"])
            if key not in secrets:
                if ref.get("optional"):
                    continue
                raise ContainerConfigError(f"couldn't find key {ref['key']} in Secret {ref['name']}")
            env[name] = secrets[key]
        elif "fieldRef" in source:
            env[name] = _field(source["fieldRef"]["fieldPath"], pod)
        else:
            raise ContainerConfigError(f"env {name}: {sorted(source)} not emulated")
    return env


def argv(container: dict[str, Any], env: dict[str, str], image_entrypoint: list[str]) -> list[str]:
    """command replaces the image's ENTRYPOINT, args its CMD; both expanded against the env."""
    command = container.get("command") or image_entrypoint
    return [expand(a, env) for a in [*command, *container.get("args", [])]]


def _secret_volume(run: Run, volume: dict[str, Any], root: Path, fs_group: int | None) -> Path:
    secrets = secret_data(run)
    spec = volume["secret"]
    path = volume_dir(root, volume["name"], 0o755 | (SETGID if fs_group is not None else 0), 0, fs_group or 0)
    items = spec.get("items") or [{"key": k, "path": k} for (s, k) in secrets if s == spec["secretName"]]
    for item in items:
        target = path / item["path"]
        target.write_text(secrets[(spec["secretName"], item["key"])])
        mode = item.get("mode", spec.get("defaultMode", 0o644))
        if fs_group is not None:  # SetVolumeOwnership on a read-only volume: group fsGroup, mode | 0440
            os.chown(target, 0, fs_group)
            mode |= 0o440
        target.chmod(mode)
    return path


def _config_map_volume(run: Run, volume: dict[str, Any], root: Path, fs_group: int | None) -> Path:
    spec = volume["configMap"]
    (config_map,) = [m for m in run.k8s("ConfigMap") if m["metadata"]["name"] == spec["name"]]
    path = volume_dir(root, volume["name"], 0o755 | (SETGID if fs_group is not None else 0), 0, fs_group or 0)
    for key, value in (config_map.get("data") or {}).items():
        target = path / key
        target.write_text(value)
        mode = spec.get("defaultMode", 0o644)
        if fs_group is not None:
            os.chown(target, 0, fs_group)
            mode |= 0o440
        target.chmod(mode)
    return path


def pod_volumes(run: Run, pod_spec: dict[str, Any], root: Path, claims: tuple[str, ...] = ()) -> dict[str, Path]:
    """Host directories for the pod's volumes, as the kubelet lays them out. `claims`: the
    StatefulSet's volumeClaimTemplates (a new volume: its root 0755, then the fsGroup's ownership)."""
    fs_group = (pod_spec.get("securityContext") or {}).get("fsGroup")
    group_mode = SETGID | 0o660 if fs_group is not None else 0
    out = {name: volume_dir(root, name, 0o755 | group_mode, 0, fs_group or 0) for name in claims}
    for volume in pod_spec.get("volumes", []):
        if "emptyDir" in volume:
            out[volume["name"]] = volume_dir(root, volume["name"], EMPTY_DIR_MODE | group_mode, 0, fs_group or 0)
        elif "secret" in volume:
            out[volume["name"]] = _secret_volume(run, volume, root, fs_group)
        elif "configMap" in volume:
            out[volume["name"]] = _config_map_volume(run, volume, root, fs_group)
        else:
            raise ContainerConfigError(f"volume {volume['name']}: kind not emulated")
    return out


def user(pod_spec: dict[str, Any], container: dict[str, Any], image: Image) -> tuple[int, int] | None:
    pod, own = pod_spec.get("securityContext") or {}, container.get("securityContext") or {}
    uid = own.get("runAsUser", pod.get("runAsUser"))
    gid = own.get("runAsGroup", pod.get("runAsGroup"))
    if uid is None:
        return image.user
    return (uid, gid if gid is not None else (image.user or (0, 0))[1])


def sandboxed(
    run: Run,
    pod_spec: dict[str, Any],
    container: dict[str, Any],
    image: Image,
    volumes: dict[str, Path],
    net: Network | None = None,
    hosts: dict[str, str] | None = None,
    pod: dict[str, str] | None = None,
    entrypoint: list[str] | None = None,
    secrets: dict[tuple[str, str], str] | None = None,
) -> Container:
    """The container of `pod_spec`, ready to run in a sandbox: exactly its command, env, user,
    read-only root and volume mounts. `secrets`: other values for the Secrets it reads."""
    env = container_env(run, container, pod or {}, secrets)
    mounts = [
        Volume(m["mountPath"], volumes[m["name"]], bool(m.get("readOnly"))) for m in container.get("volumeMounts", [])
    ]
    fs_group = (pod_spec.get("securityContext") or {}).get("fsGroup")
    return Container(
        argv=argv(container, env, entrypoint or []),
        env=env,
        image=image,
        user=user(pod_spec, container, image),
        read_only_root=bool((container.get("securityContext") or {}).get("readOnlyRootFilesystem")),
        volumes=mounts,
        hosts=hosts or {},
        net=net,
        groups=[fs_group] if fs_group is not None else [],
    )
