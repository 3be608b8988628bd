#!/bin/sh
# Compose's one-shot `minio-init` (image minio/mc): the two buckets, and the services' own
# MinIO user with deploy/minio/services-policy.json, so no service holds the root login.
# The policy grants reading and adding objects in those two buckets and no delete, no
# governance bypass, no other bucket; the buckets are made here, with object lock, because
# the services may not create buckets. Safe to run on every `docker compose up`.
set -eu

mc alias set platform http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null

for bucket in "$S3_BUCKET" "$S3_CHECKPOINT_BUCKET"; do
  # --with-lock: object lock can only be turned on when a bucket is made (it implies versioning)
  mc mb --ignore-existing --with-lock "platform/$bucket"
  mc retention set --default GOVERNANCE 3650d "platform/$bucket"
done

mc admin policy create platform caseplatform-services /deploy/minio/services-policy.json
# add is also how an existing user's secret key is changed
mc admin user add platform "$S3_ACCESS_KEY" "$S3_SECRET_KEY"
# attaching a policy the user already has is refused; the user then has it, which is the aim
mc admin policy attach platform caseplatform-services --user "$S3_ACCESS_KEY" 2>/dev/null \
  || mc admin user info platform "$S3_ACCESS_KEY" | grep -q caseplatform-services
echo "minio-init: buckets $S3_BUCKET, $S3_CHECKPOINT_BUCKET and user $S3_ACCESS_KEY ready"
