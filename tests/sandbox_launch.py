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
    mounted = {v["path"] for v in spec["volumes"]}
    # A directory under a volume's mount point is covered by the volume (its owner and mode went
    # into the volume when it was populated): only the others are laid over the root.
    files = [f for f in spec["image_files"] if not any(f["path"].startswith(m + "/") for m in mounted)]
    dirs = [d for d in spec["image_dirs"] if d["path"] not in mounted]
    volumes = [p for p in mounted if not Path(p).exists()]
    bases = overlay_bases([f["path"] for f in files] + [d["path"] for d in dirs] + volumes)
    if "/" in bases:
        raise SystemExit(f"sandbox: would overlay the whole root for {sorted(mounted)}")
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


def expose(paths: list[str], scratch: Path) -> None:
    """Make `paths` reachable for any user: the host's interpreter lives under /root (0700), where
    an image's would be under /usr/local. The closed ancestor is covered with an empty tmpfs and
    the path bind-mounted back into it."""
    for i, path in enumerate(paths):
        closed = next((str(p) for p in reversed(Path(path).parents) if not os.stat(p).st_mode & 0o001), None)
        if closed is None:
            continue
        keep = scratch / f"expose{i}"
        keep.mkdir()
        mount("--bind", path, str(keep))
        mount("-t", "tmpfs", "-o", "mode=0755", "tmpfs", closed)
        os.makedirs(path, exist_ok=True)
        mount("--bind", str(keep), path)


def mount_volumes(spec: dict) -> list[str]:
    """Parents first; each source held open first, since a volume on /tmp hides the host's /tmp."""
    points = []
    held = {v["path"]: os.open(v["source"], os.O_PATH) for v in spec["volumes"]}
    for v in sorted(spec["volumes"], key=lambda v: v["path"].count("/")):
        mount("--bind", f"/proc/{os.getpid()}/fd/{held[v['path']]}", v["path"])
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
        if target in keep or fstype in PSEUDO or "ro" in fields[5].split(",") or not os.path.exists(target):
            continue  # (a mount that a volume now hides does not exist any more in this view)
        mount("-o", "remount,bind,ro", target)


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    scratch = Path(spec["scratch"])
    mount("--make-rprivate", "/")
    expose(spec.get("expose", []), scratch)
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
