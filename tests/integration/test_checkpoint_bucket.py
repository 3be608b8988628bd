"""Signed checkpoints in a bucket of their own (S3_CHECKPOINT_BUCKET, issue #18), against the
session's real S3 server: the evidence store sets up both buckets, and checkpoints go to, and
are read from, theirs only. Unset, the checkpoints share the evidence bucket as before.
"""

from __future__ import annotations

import uuid

import pytest
from minio import Minio

from shared.infra.config import Settings
from shared.infra.objectstore.keys import CHECKPOINT_PREFIX
from shared.infra.objectstore.store import EvidenceStore

pytestmark = pytest.mark.integration


def _settings(s3_settings: dict, **extra: str) -> Settings:
    return Settings.from_env({"S3_ENDPOINT": s3_settings["endpoint"], "S3_ACCESS_KEY": s3_settings["access_key"],
                              "S3_SECRET_KEY": s3_settings["secret_key"],
                              "S3_SECURE": "true" if s3_settings["secure"] else "false", **extra})


def _names(raw: Minio, bucket: str) -> set[str]:
    return {o.object_name for o in raw.list_objects(bucket, recursive=True)}


@pytest.fixture
def raw(s3_settings) -> Minio:
    return Minio(s3_settings["endpoint"], access_key=s3_settings["access_key"],
                 secret_key=s3_settings["secret_key"], secure=s3_settings["secure"])


def test_checkpoints_go_to_their_own_bucket(s3_settings, raw):
    tag = uuid.uuid4().hex[:10]
    evidence_bucket, checkpoint_bucket = f"evidence-{tag}", f"checkpoints-{tag}"
    store = EvidenceStore.from_settings(_settings(s3_settings, S3_BUCKET=evidence_bucket,
                                                  S3_CHECKPOINT_BUCKET=checkpoint_bucket))
    store.ensure_bucket()
    assert raw.bucket_exists(evidence_bucket) and raw.bucket_exists(checkpoint_bucket)
    assert raw.get_bucket_versioning(checkpoint_bucket).status == "Enabled"

    key = store.put_checkpoint(1, b'{"SAMPLE": 1}')
    assert _names(raw, checkpoint_bucket) == {key}
    assert key.startswith(CHECKPOINT_PREFIX)
    assert not _names(raw, evidence_bucket)
    assert store.list_checkpoints() == [1] and store.get_checkpoint(1) == b'{"SAMPLE": 1}'
    # a store on the evidence bucket alone does not see them
    alone = EvidenceStore.from_settings(_settings(s3_settings, S3_BUCKET=evidence_bucket))
    assert alone.list_checkpoints() == []


def test_unset_the_checkpoints_share_the_evidence_bucket(s3_settings, raw):
    bucket = f"evidence-{uuid.uuid4().hex[:10]}"
    store = EvidenceStore.from_settings(_settings(s3_settings, S3_BUCKET=bucket))
    assert store.checkpoint_bucket == bucket
    store.ensure_bucket()
    key = store.put_checkpoint(7, b'{"SAMPLE": 7}')
    assert _names(raw, bucket) == {key}
