"""Creates the buckets and bucket-scoped MinIO users (both targets run it with mc, in the image
infra/minio/Dockerfile builds). MLflow never holds MinIO's root credentials.

Environment: MINIO_ROOT_USER, MINIO_ROOT_PASSWORD; BUCKET, MLFLOW_ACCESS_KEY, MLFLOW_SECRET_KEY;
optionally BACKUP_BUCKET, BACKUP_ACCESS_KEY, BACKUP_SECRET_KEY (PostgreSQL's WAL archive and base
backups, Kubernetes with CloudNativePG). Re-running it is safe: it sets the users' current secrets.
"""

BUCKET_SCRIPT = """set -eu
mc alias set store "http://minio:9000" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
grant() {
  mc mb --ignore-existing "store/$1"
  printf '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"], ' > "/tmp/$4.json"
  printf '"Resource": ["arn:aws:s3:::%s", "arn:aws:s3:::%s/*"]}]}\n' "$1" "$1" >> "/tmp/$4.json"
  mc admin policy create store "$4" "/tmp/$4.json"
  mc admin user add store "$2" "$3"
  mc admin policy attach store "$4" --user "$2" || echo "policy $4 already attached to $2"
}
grant "$BUCKET" "$MLFLOW_ACCESS_KEY" "$MLFLOW_SECRET_KEY" mlflow-artifacts
if [ -n "${BACKUP_BUCKET:-}" ]; then
  grant "$BACKUP_BUCKET" "$BACKUP_ACCESS_KEY" "$BACKUP_SECRET_KEY" postgres-backups
fi
"""
