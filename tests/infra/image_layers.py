"""The images the programs run, as tests/support/sandbox.py lays them over the host's root: what each
Dockerfile adds (files, directories, USER, ENV), with this machine's binaries standing in for the
image's (the venv's mlflow and python for the server image's, PostgreSQL 15's for the postgres
image's 16, the recording `mc` stub for MinIO's client). tests/infra/test_container_commands.py
checks these against infra/Dockerfile and infra/minio/Dockerfile, line by line.
"""

from __future__ import annotations

import glob
import sys
from pathlib import Path

from tests.infra.harness import REPO
from tests.support.sandbox import Image, ImageDir, ImageFile

STANDARD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
VENV_BIN = str(Path(sys.executable).parent)  # stands in for the server image's /usr/local/bin
STUBS = REPO / "tests" / "infra" / "stubs"


def _pg_bin() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return found[-1] if found else "/usr/lib/postgresql/15/bin"


def _copied(*names: str) -> tuple[ImageFile, ...]:
    return tuple(ImageFile(f"/opt/mlflow-registry/{n}", (REPO / "infra" / n).read_bytes()) for n in names)


# infra/Dockerfile
MLFLOW = Image(
    env={
        "PATH": f"{VENV_BIN}:{STANDARD_PATH}",
        "HOME": "/tmp",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    },
    files=_copied("auth_bootstrap.py", "metrics_exporter.py"),
    dirs=(ImageDir("/etc/mlflow/auth", 0o750, 10001, 10001), ImageDir("/tmp", 0o1777)),
    user=(10001, 10001),
)
MLFLOW_UID = 10001

# infra/minio/Dockerfile: `mc` is the recording stub (tests/infra/stubs/mc); ENTRYPOINT ["minio"]. (Its
# /data is left out: the sandbox lays directories over existing ones only, and no script here uses it.)
MINIO = Image(
    env={"PATH": STANDARD_PATH, "HOME": "/tmp", "MC_CONFIG_DIR": "/tmp/.mc"},
    files=(ImageFile("/usr/local/bin/mc", (STUBS / "mc").read_bytes(), 0o755),),
    user=(1000, 1000),
)
MINIO_ENTRYPOINT = ["minio"]

# The official postgres image (Debian): its PATH ends with the server's bin directory, its user is
# root (the entrypoint steps down to postgres, uid 999), /var/run/postgresql is 3777.
POSTGRES = Image(
    env={"PATH": f"{STANDARD_PATH}:{_pg_bin()}", "PGDATA": "/var/lib/postgresql/data"},
    dirs=(ImageDir("/var/run/postgresql", 0o3777, 999, 999),),
)
