"""The audit service over HTTP in a nameko container: its checkpoint follower signs and
publishes the ledger's head on its own, and an auditor replays, diffs, verifies and exports."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from services.audit.service import AuditService
from services.cli.localinfra.ports import free_port
from shared.infra.config import Settings
from shared.infra.integrity import merkle
from shared.infra.integrity.bundle import verify_bundle
from shared.infra.integrity.checkpoints import SignedCheckpoint, key_id, load_or_create_key, public_bytes
from shared.infra.integrity.store import IntegrityStore
from shared.infra.ledger import CaseLedger
from shared.infra.objectstore.errors import StoreError
from shared.infra.objectstore.store import EvidenceStore
from tests.infra import wait_for
from tests.support.identity import IdentityProvider
from tests.support.localsystem import identity_env

from .test_audit_integrity import attach, submit

pytestmark = pytest.mark.integration



@pytest.fixture
def identity(tmp_path):
    """The provider whose tokens the audit service verifies and the auditor signs in at."""
    provider = IdentityProvider(tmp_path / "identity").start()
    yield provider
    provider.stop()


@pytest.fixture
def audit(container_factory, make_database, make_vhost, s3_settings, tmp_path, identity):
    ledger_url = make_database("audit_ledger")
    bucket = f"audit-svc-{uuid.uuid4().hex[:8]}"
    settings = Settings.from_env({
        "CASEPLATFORM_DATA_DIR": str(tmp_path), "LEDGER_URL": ledger_url,
        "READMODEL_URL": make_database("audit_rm"), "AMQP_URI": make_vhost("audit"),
        "S3_ENDPOINT": s3_settings["endpoint"], "S3_ACCESS_KEY": s3_settings["access_key"],
        "S3_SECRET_KEY": s3_settings["secret_key"], "S3_BUCKET": bucket, "CHECKPOINT_INTERVAL": "0.2",
        **identity_env(identity),
    })
    intake, documents = CaseLedger(ledger_url, owner="intake"), CaseLedger(ledger_url, owner="documents")
    case = submit(intake)
    for n in (1, 2, 3):
        attach(documents, case.id, n)
    port = free_port()
    config = settings.nameko_config("audit")
    config["WEB_SERVER_ADDRESS"] = f"127.0.0.1:{port}"
    container = container_factory(AuditService, config)
    container.start()
    store = IntegrityStore(ledger_url)
    evidence = EvidenceStore.from_settings(settings)
    yield {"base": f"http://127.0.0.1:{port}/audit", "case": str(case.id), "store": store, "evidence": evidence,
           "settings": settings, "documents": documents, "identity": identity}
    store.dispose()
    intake.close()
    documents.close()


def published(evidence: EvidenceStore) -> list[int] | None:
    """The checkpoints copied to the evidence store; None until the follower has made its bucket."""
    try:
        return evidence.list_checkpoints()
    except StoreError:
        return None


def get(a, path, role="auditor", **params):
    token = a["identity"].token_for(sub=f"sample-{role}", role=role, org="NAO" if role == "auditor" else "420000")
    return requests.get(a["base"] + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_the_follower_signs_and_publishes_and_an_auditor_proves_the_case_over_http(audit):
    store, evidence = audit["store"], audit["evidence"]
    # the key was generated under the data dir, and the follower signs the 4 events with it
    kid = key_id(public_bytes(load_or_create_key(audit["settings"].checkpoint_key_path)))
    latest = wait_for(lambda: (cp := store.latest_checkpoint()) and cp.checkpoint.tree_size == 4 and cp)
    assert latest and latest.checkpoint.key_id == kid
    assert wait_for(lambda: published(evidence) == [latest.checkpoint.seq])

    case = audit["case"]
    listed = get(audit, "/checkpoints").json()
    assert listed["key_id"] == kid and listed["checkpoints"][-1]["body"] == latest.body

    state = get(audit, f"/cases/{case}/state", version="2").json()
    assert state["version"] == 2 and state["case"]["evidence"] == [f"{1:064x}"]
    today = datetime.now(UTC).astimezone().date().isoformat()
    assert get(audit, f"/cases/{case}/state", at="2000-01-01").status_code == 404
    diff = get(audit, f"/cases/{case}/diff", **{"from": "1", "to": "4"}).json()
    assert len(diff["changes"]["evidence"]["to"]) == 3 and [e["version"] for e in diff["events"]] == [2, 3, 4]
    assert get(audit, f"/cases/{case}/diff", **{"from": "x", "to": "2"}).status_code == 400

    report = get(audit, f"/cases/{case}/verify").json()
    assert report["ok"] and report["checked_events"] == 4, report
    proofs = get(audit, f"/cases/{case}/proofs").json()
    cp = SignedCheckpoint.from_dict(proofs["checkpoint"]).checkpoint
    for p in proofs["proofs"]:
        merkle.verify_inclusion(p["leaf_index"], cp.tree_size, bytes.fromhex(p["leaf_hash"]),
                                [bytes.fromhex(x) for x in p["proof"]], bytes.fromhex(cp.root))

    # a new event: the follower signs checkpoint 2, consistent with checkpoint 1
    attach(audit["documents"], case, 4)
    assert wait_for(lambda: (c := store.latest_checkpoint()) and c.checkpoint.seq == 2)
    consistency = get(audit, "/checkpoints/consistency", **{"from": "1", "to": "2"}).json()
    first, second = (SignedCheckpoint.from_dict(consistency[k]).checkpoint for k in ("first", "second"))
    merkle.verify_consistency(first.tree_size, second.tree_size, bytes.fromhex(first.root),
                              bytes.fromhex(second.root), [bytes.fromhex(x) for x in consistency["proof"]])

    bundle = get(audit, f"/cases/{case}/bundle").json()
    result = verify_bundle(bundle, kid)
    assert len(bundle["events"]) == 5
    # the evidence of this test is not in the store: the bundle says so and fails on it
    assert not result.ok and all("evidence" in p for p in result.problems)

    # every case touched in a period, from the audit read model (filled through RabbitMQ)
    def touched():
        body = get(audit, "/events", **{"from": today, "to": (datetime.now() + timedelta(days=2)).date().isoformat()})
        return body.json() if body.ok and len(body.json()["events"]) == 5 else None
    period = wait_for(touched)
    assert period and [c["case_id"] for c in period["cases"]] == [case]
    assert get(audit, f"/cases/{case}/verify", role="province").status_code == 403
