"""Creates the artifact bucket and a bucket-scoped MinIO user for MLflow (both targets run it with mc)."""

BUCKET_SCRIPT = """set -eu
mc alias set store "http://minio:9000" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing "store/$BUCKET"
cat > /tmp/policy.json <<EOF
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"],
  "Resource": ["arn:aws:s3:::$BUCKET", "arn:aws:s3:::$BUCKET/*"]}]}
EOF
mc admin policy create store mlflow-artifacts /tmp/policy.json || true
mc admin user add store "$MLFLOW_ACCESS_KEY" "$MLFLOW_SECRET_KEY"
mc admin policy attach store mlflow-artifacts --user "$MLFLOW_ACCESS_KEY" || true
"""
