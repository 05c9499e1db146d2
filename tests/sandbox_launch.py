"""Inside a new mount namespace (tests/sandbox.py starts this as root under `unshare --mount`):
lay the image's additions and the volumes over the host's root, make the root read-only if the
manifest says so, drop to the manifest's user and exec its command with exactly its environment.

Standard library only: it runs before anything else in the namespace. Argument: the spec (JSON).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PSEUDO = ("proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "cgroup", "cgroup2", "mqueue")


def mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"sandbox: mount {' '.join(args)}: {done.stderr.strip()}")


def existing_ancestor(path: str) -> str:
    p = Path(path)
    while not p.exists():
        p = p.parent
    return str(p)


def overlay_bases(paths: list[str]) -> list[str]:
    """The directories to overlay: the nearest existing ancestor of each path to add (its parent
    for a file that exists: the file is replaced in the overlay)."""
    bases = set()
    for path in paths:
        base = existing_ancestor(str(Path(path).parent) if Path(path).exists() else path)
        bases.add(base)
    return sorted(bases)


def lay_image(spec: dict, scratch: Path) -> list[str]:
    files, dirs = spec["image_files"], spec["image_dirs"]
    volumes = [v["path"] for v in spec["volumes"] if not Path(v["path"]).exists()]
    bases = overlay_bases([f["path"] for f in files] + [d["path"] for d in dirs] + volumes)
    for i, base in enumerate(bases):
        upper, work = scratch / f"upper{i}", scratch / f"work{i}"
        upper.mkdir(parents=True)
        work.mkdir(parents=True)
        mount("-t", "overlay", "overlay", "-o", f"lowerdir={base},upperdir={upper},workdir={work}", base)
    for d in dirs:
        os.makedirs(d["path"], exist_ok=True)
        os.chown(d["path"], d["uid"], d["gid"])
        os.chmod(d["path"], d["mode"])
    for f in files:
        os.makedirs(Path(f["path"]).parent, exist_ok=True)
        Path(f["path"]).write_bytes(bytes.fromhex(f["content"]))
        os.chown(f["path"], f["uid"], f["gid"])
        os.chmod(f["path"], f["mode"])
    for path in volumes:
        os.makedirs(path, exist_ok=True)
    return bases


def mount_volumes(spec: dict) -> list[str]:
    points = []
    for v in spec["volumes"]:
        mount("--bind", v["source"], v["path"])
        if v["read_only"]:
            mount("-o", "remount,bind,ro", v["path"])
        points.append(v["path"])
    return points


def read_only_root(keep: set[str]) -> None:
    """Every mount but the volumes and the kernel's pseudo file systems, read-only (the image's
    layers and the host's root under them)."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        target, fstype = fields[4], fields[fields.index("-") + 1]
        if target in keep or fstype in PSEUDO or "ro" in fields[5].split(","):
            continue
        mount("-o", "remount,bind,ro", target)


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    scratch = Path(spec["scratch"])
    mount("--make-rprivate", "/")
    lay_image(spec, scratch)
    hosts = scratch / "hosts"
    hosts.write_text("127.0.0.1 localhost\n" + "".join(f"{ip} {name}\n" for name, ip in spec["hosts"].items()))
    mount("--bind", str(hosts), "/etc/hosts")
    volumes = mount_volumes(spec)
    if spec["read_only_root"]:
        read_only_root({*volumes, "/etc/hosts"})
    if spec["user"] is not None:
        uid, gid = spec["user"]
        os.setgroups(spec.get("groups", []))
        os.setgid(gid)
        os.setuid(uid)
    os.chdir(spec["workdir"])
    env = spec["env"]
    sys.stdout.flush()
    try:
        os.execvpe(spec["argv"][0], spec["argv"], env)  # found on the container's PATH, as runc does
    except FileNotFoundError:
        print(f'exec: "{spec["argv"][0]}": executable file not found in $PATH', file=sys.stderr)
        sys.exit(127)


if __name__ == "__main__":
    main(sys.argv[1])
