"""The evidence and checkpoint buckets on SeaweedFS's S3 gateway, each with object lock and a
default GOVERNANCE retention of ten years (what deploy/minio/init.sh does with mc for MinIO).
Run by deploy/k8s's Job `seaweedfs-buckets` with the S3 administrator's keys; the services'
own keys (seaweedfs-s3-config) can read and add objects in these buckets only, and delete none.
Safe to run again: an existing bucket is kept, its lock configuration set again.

Object lock must be asked for when a bucket is made (it turns versioning on); a bucket made
without it cannot get it later, so this refuses to go on if an existing bucket has none.
"""

from __future__ import annotations

import os
import sys
import time

from minio import Minio
from minio.commonconfig import GOVERNANCE
from minio.objectlockconfig import DAYS, ObjectLockConfig

RETENTION_DAYS = 3650


def main() -> int:
    client = Minio(os.environ["S3_ENDPOINT"], access_key=os.environ["S3_ACCESS_KEY"],
                   secret_key=os.environ["S3_SECRET_KEY"], secure=os.environ.get("S3_SECURE") == "true")
    for attempt in range(60):  # the gateway starts after the master, volume and filer
        try:
            client.list_buckets()
            break
        except Exception as exc:  # noqa: BLE001 - any failure here means "not up yet"
            if attempt == 59:
                raise SystemExit(f"seaweedfs-buckets: no S3 gateway at {os.environ['S3_ENDPOINT']}: {exc}") from None
            time.sleep(5)
    for bucket in (os.environ["S3_BUCKET"], os.environ["S3_CHECKPOINT_BUCKET"]):
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket, object_lock=True)
        try:
            client.set_object_lock_config(bucket, ObjectLockConfig(GOVERNANCE, RETENTION_DAYS, DAYS))
        except Exception as exc:  # noqa: BLE001 - name the bucket and stop
            raise SystemExit(f"seaweedfs-buckets: {bucket} has no object lock ({exc}); "
                             "it must be made again with it (deploy/README.md)") from None
        print(f"seaweedfs-buckets: {bucket} ready, GOVERNANCE {RETENTION_DAYS}d")
    return 0


if __name__ == "__main__":
    sys.exit(main())
