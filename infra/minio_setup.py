"""Creates the buckets and bucket-scoped MinIO users (both targets run it with mc, in the image
infra/minio/Dockerfile builds). MLflow never holds MinIO's root credentials.

The script's environment is declared here once (`ROOT`, `ARTIFACTS`, `BACKUPS`): the programs
build the containers' env from these names, so the script and its manifests cannot disagree
(under `set -u` an unset name is "parameter not set", exit 2). Re-running it is safe: it sets the
users' current secrets.

Each user may do what its client needs on its own bucket and nothing else (MLflow's proxied
artifacts and Barman Cloud's WAL archive and base backups: objects read, written, listed and
deleted, multipart uploads for large files), not `s3:*` (which includes bucket policy, lifecycle
and versioning changes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

ROOT = ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD")  # the names of the env variables, read by MinIO too
MINIO_ROOT_USER, MINIO_ROOT_PASSWORD = ROOT
ENDPOINT = "http://minio:9000"  # the Service (Kubernetes, via the namespace's search path) or network alias (Docker)


@dataclass(frozen=True)
class Grant:
    """One bucket and its user: the env variables that carry them, and the MinIO policy's name."""

    bucket: str
    access_key: str
    secret_key: str
    policy: str

    @property
    def names(self) -> tuple[str, str, str]:
        return (self.bucket, self.access_key, self.secret_key)


ARTIFACTS = Grant("BUCKET", "MLFLOW_ACCESS_KEY", "MLFLOW_SECRET_KEY", "mlflow-artifacts")
BACKUPS = Grant("BACKUP_BUCKET", "BACKUP_ACCESS_KEY", "BACKUP_SECRET_KEY", "postgres-backups")

BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads")
OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)


def policy(bucket: str) -> dict:
    """The IAM policy document a bucket's user gets."""
    arn = f"arn:aws:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": list(BUCKET_ACTIONS), "Resource": [arn]},
            {"Effect": "Allow", "Action": list(OBJECT_ACTIONS), "Resource": [f"{arn}/*"]},
        ],
    }


# The policy as a printf format: the bucket's name in place of each %s.
_POLICY_FORMAT = json.dumps(policy("%s"))


def _call(grant: Grant) -> str:
    return f'grant "${grant.bucket}" "${grant.access_key}" "${grant.secret_key}" {grant.policy}'


BUCKET_SCRIPT = f"""set -eu
mc alias set store "{ENDPOINT}" "${MINIO_ROOT_USER}" "${MINIO_ROOT_PASSWORD}"
grant() {{
  mc mb --ignore-existing "store/$1"
  printf '{_POLICY_FORMAT}\\n' "$1" "$1" > "/tmp/$4.json"
  mc admin policy create store "$4" "/tmp/$4.json"
  mc admin user add store "$2" "$3"
  mc admin policy attach store "$4" --user "$2" || echo "policy $4 already attached to $2"
}}
{_call(ARTIFACTS)}
if [ -n "${{{BACKUPS.bucket}:-}}" ]; then
  {_call(BACKUPS)}
fi
"""
