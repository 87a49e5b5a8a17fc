#!/bin/sh
# One-shot MinIO setup, safe to re-run: private versioned bucket, and an application user whose
# policy allows object access to that bucket only (the app never holds the root credentials).
set -eu
: "${S3_ACCESS_KEY:?set S3_ACCESS_KEY and S3_SECRET_KEY for the stack's MinIO}" "${S3_SECRET_KEY:?set S3_SECRET_KEY}"
mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing "local/$S3_BUCKET"
mc anonymous set none "local/$S3_BUCKET"
mc version enable "local/$S3_BUCKET"
cat >/tmp/dossier-app.json <<POLICY
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
      "Resource": ["arn:aws:s3:::$S3_BUCKET"]
    },
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      "Resource": ["arn:aws:s3:::$S3_BUCKET/*"]
    }
  ]
}
POLICY
mc admin policy create local dossier-app /tmp/dossier-app.json
mc admin user add local "$S3_ACCESS_KEY" "$S3_SECRET_KEY"
if ! mc admin user info local "$S3_ACCESS_KEY" | grep -q dossier-app; then
  mc admin policy attach local dossier-app --user "$S3_ACCESS_KEY"
fi
echo "minio-setup: bucket $S3_BUCKET and user $S3_ACCESS_KEY ready"
