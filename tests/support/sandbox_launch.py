"""Inside a new mount namespace (tests/support/sandbox.py starts this as root under `unshare --mount`):
build the container's root as an overlay of the host's root (the image's files and directories
written into its upper layer), mount the volumes in it, make it read-only if the manifest says so,
chroot into it, drop to the manifest's user and exec its command with exactly its environment.

Standard library only: it runs before anything else in the namespace. Argument: the spec (JSON).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

KERNEL = ("/proc", "/sys", "/dev")  # the runtime mounts these in every container


def mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"sandbox: mount {' '.join(args)}: {done.stderr.strip()}")


def inside(root: Path, path: str) -> Path:
    """`path` of the container's root, symbolic links resolved within it (as runc's securejoin does:
    /var/run -> /run must not lead to the host's /run)."""
    parts, current, hops = [p for p in path.split("/") if p], root, 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            current = current.parent if current != root else root
            continue
        candidate = current / part
        if candidate.is_symlink():
            hops += 1
            if hops > 40:
                raise SystemExit(f"sandbox: too many symbolic links in {path}")
            link = os.readlink(candidate)
            parts = [p for p in link.split("/") if p] + parts
            current = root if link.startswith("/") else current
            continue
        current = candidate
    return current


def lay_image(spec: dict, root: Path) -> None:
    """The image's additions, in the overlay's upper layer (directories under a volume's mount point
    are the volume's business: their owner and mode went into it when it was populated)."""
    mounted = {v["path"] for v in spec["volumes"]}
    for d in spec["image_dirs"]:
        if d["path"] in mounted:
            continue
        path = inside(root, d["path"])
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, d["uid"], d["gid"])
        os.chmod(path, d["mode"])
    for f in spec["image_files"]:
        if any(f["path"].startswith(m.rstrip("/") + "/") for m in mounted):
            continue
        path = inside(root, f["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes.fromhex(f["content"]))
        os.chown(path, f["uid"], f["gid"])
        os.chmod(path, f["mode"])
    for path in spec.get("expose", []):
        # The host's interpreter may live under a closed directory (/root, 0700), where an image's
        # would be under /usr/local: open the way to it (search only) in this root.
        for parent in Path(path).parents:
            target = inside(root, str(parent))
            if not target.stat().st_mode & 0o001:
                target.chmod(target.stat().st_mode | 0o011)


def mount_volumes(spec: dict, held: dict[str, int], root: Path) -> None:
    """Parents first; a mount point inside a volume is made there, as runc does."""
    for v in sorted(spec["volumes"], key=lambda v: v["path"].count("/")):
        target = inside(root, v["path"])
        target.mkdir(parents=True, exist_ok=True)
        mount("--bind", f"/proc/{os.getpid()}/fd/{held[v['path']]}", str(target))
        if v["read_only"]:
            mount("-o", "remount,bind,ro", str(target))


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    scratch = Path(spec["scratch"])
    mount("--make-rprivate", "/")
    # Opened before anything is laid over the host's paths.
    held = {v["path"]: os.open(v["source"], os.O_PATH) for v in spec["volumes"]}
    root, upper, work = scratch / "root", scratch / "upper", scratch / "work"
    for path in (root, upper, work):
        path.mkdir()
    mount("-t", "overlay", "overlay", "-o", f"lowerdir=/,upperdir={upper},workdir={work}", str(root))
    for kernel in KERNEL:
        mount("--rbind", kernel, str(inside(root, kernel)))
    lay_image(spec, root)
    hosts = "127.0.0.1 localhost\n" + "".join(f"{ip} {name}\n" for name, ip in spec["hosts"].items())
    inside(root, "/etc/hosts").write_text(hosts)
    mount_volumes(spec, held, root)
    if spec["read_only_root"]:
        mount("-o", "remount,ro", str(root))  # the overlay only: the volumes keep their own flags
    os.chroot(root)
    os.chdir(spec["workdir"])
    if spec["user"] is not None:
        uid, gid = spec["user"]
        os.setgroups(spec.get("groups", []))
        os.setgid(gid)
        os.setuid(uid)
    env = spec["env"]
    sys.stdout.flush()
    try:
        os.execvpe(spec["argv"][0], spec["argv"], env)  # found on the container's PATH, as runc does
    except FileNotFoundError:
        print(f'exec: "{spec["argv"][0]}": executable file not found in $PATH', file=sys.stderr)
        sys.exit(127)


if __name__ == "__main__":
    main(sys.argv[1])
