"""Tamper evidence against a real PostgreSQL ledger (and the S3 store where checkpoints go).

Each mutation test builds a small ledger, lets the checkpoint follower hash and sign it,
then changes the stored rows the way an attacker with database access would (the
append-only trigger is disabled as superuser for that, after showing it refuses the
plain statement) and checks that verification names what happened and where.
"""

import io
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit.application import Audit, case_as_of, case_diff
from services.audit.follower import IntegrityContext
from shared.domain.access import Caller
from shared.domain.case import Case
from shared.domain.errors import Forbidden, NotFound
from shared.domain.registration_area import check_registration_area
from shared.infra.integrity import merkle
from shared.infra.integrity.bundle import verify_bundle
from shared.infra.integrity.checkpoints import SignedCheckpoint, key_id, new_checkpoint, public_bytes
from shared.infra.integrity.export import export_case
from shared.infra.integrity.store import EVENTS_TABLE, IntegrityStore
from shared.infra.integrity.verify import verify_case, verify_ledger
from shared.infra.ledger import CaseLedger
from shared.infra.objectstore.store import EvidenceStore

pytestmark = pytest.mark.integration

APPLICANT = {"sub": "u", "role": "applicant", "org": "91420100MA4K2XJ55T"}
CLERK = {"sub": "d", "role": "applicant", "org": "91420100MA4K2XJ55T"}
AUDITOR = Caller(sub="a", role="auditor", org="NAO")
ROOT = Path(__file__).resolve().parents[2]


def submit(ledger: CaseLedger, title="SAMPLE product") -> Case:
    case = Case.submit(
        actor=APPLICANT, call_id="sample", call_version=1, program="signature_product",
        direction="酶制剂", applicant={"credit_code": APPLICANT["org"], "name": "SAMPLE unit"},
        province="420000", city=None, chain=["province"], public_notice_required=True,
        title=title, application={},
        registration_check=check_registration_area(APPLICANT["org"], "420000", None),
    )
    ledger.save_case(case)
    return case


def attach(ledger: CaseLedger, case_id, n: int, digest=None, evidence=None) -> None:
    if evidence is not None:  # a real file in the store
        digest = evidence.put_stream(io.BytesIO(f"%PDF-1.4 SAMPLE evidence {n}\n".encode()),
                                     content_type="application/pdf", max_bytes=1 << 20).sha256
    case = ledger.get_case(case_id)
    case.attach_evidence(actor=CLERK, sha256=digest or f"{n:064x}", size=n, content_type="application/pdf",
                         filename=f"file-{n}.pdf", step="submission")
    ledger.save_case(case)


class World:
    """A ledger database with two interleaved cases of five events each, hashed and signed."""

    def __init__(self, url: str, evidence=None):
        self.url = url
        self.intake = CaseLedger(url, owner="intake")
        self.documents = CaseLedger(url, owner="documents")
        self.store = IntegrityStore(url)
        self.store.create()
        self.key = Ed25519PrivateKey.generate()
        self.kid = key_id(public_bytes(self.key))
        self.case = submit(self.intake).id
        self.other = submit(self.intake, "SAMPLE other").id
        for n in range(1, 5):
            attach(self.documents, self.case, n, evidence=evidence)
            attach(self.documents, self.other, 100 + n, evidence=evidence)

    def sign(self):
        return self.store.run_once(self.key)

    def close(self):
        self.intake.close()
        self.documents.close()
        self.store.dispose()

    # -- the attacker's side: the database as superuser

    def sql(self, statement: str, params=(), bypass=True):
        with psycopg.connect(self.url, autocommit=True) as conn:
            if bypass:
                conn.execute(f"ALTER TABLE {EVENTS_TABLE} DISABLE TRIGGER USER")
                conn.execute("ALTER TABLE event_hashes DISABLE TRIGGER USER")
                conn.execute("ALTER TABLE checkpoints DISABLE TRIGGER USER")
            try:
                conn.execute(statement, params)
            finally:
                if bypass:
                    conn.execute(f"ALTER TABLE {EVENTS_TABLE} ENABLE TRIGGER USER")
                    conn.execute("ALTER TABLE event_hashes ENABLE TRIGGER USER")
                    conn.execute("ALTER TABLE checkpoints ENABLE TRIGGER USER")

    def row(self, version: int):
        with psycopg.connect(self.url) as conn:
            return conn.execute(f"SELECT topic, state FROM {EVENTS_TABLE} WHERE originator_id = %s "
                                "AND originator_version = %s", (self.case, version)).fetchone()


@pytest.fixture
def world(make_database):
    w = World(make_database("integrity"))
    w.sign()
    yield w
    w.close()


def verified(w: World, evidence=None):
    case = verify_case(w.store, str(w.case), w.kid, evidence)
    ledger = verify_ledger(w.store, w.kid, evidence)
    return case, ledger


def test_the_table_name_is_the_recorders(world):
    assert world.intake.recorder.events_table_name == EVENTS_TABLE


def test_an_untouched_ledger_verifies_with_inclusion_proofs(world):
    case, ledger = verified(world)
    assert case.ok and ledger.ok, case.problems + ledger.problems
    assert case.checked_events == 5 and ledger.checked_events == 10
    assert [p["version"] for p in case.proofs] == [1, 2, 3, 4, 5]
    assert case.checkpoint.tree_size == 10


def test_the_trigger_refuses_update_delete_and_truncate_but_appends_go_on(world):
    for statement in (f"UPDATE {EVENTS_TABLE} SET topic = topic", f"DELETE FROM {EVENTS_TABLE}",
                      f"TRUNCATE {EVENTS_TABLE}", "UPDATE event_hashes SET leaf_index = leaf_index",
                      "DELETE FROM checkpoints"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            world.sql(statement, bypass=False)
    attach(world.documents, world.case, 9)  # the ledger's own writes are inserts
    assert world.sign().hashed == 1
    assert verified(world)[0].ok


def flip_a_byte(w):
    _, state = w.row(2)
    state = bytearray(state)
    state[len(state) // 2] ^= 0x01
    w.sql(f"UPDATE {EVENTS_TABLE} SET state = %s WHERE originator_id = %s AND originator_version = 2",
          (bytes(state), w.case))


def delete_one(w):
    w.sql(f"DELETE FROM {EVENTS_TABLE} WHERE originator_id = %s AND originator_version = 3", (w.case,))


def insert_one(w):
    for v in (5, 4, 3, 2):  # make room at version 2, one row at a time (the key is checked per row)
        w.sql(f"UPDATE {EVENTS_TABLE} SET originator_version = %s WHERE originator_id = %s AND "
              "originator_version = %s", (v + 1, w.case, v))
    topic, state = w.row(3)
    w.sql(f"INSERT INTO {EVENTS_TABLE} (originator_id, originator_version, topic, state) VALUES (%s, 2, %s, %s)",
          (w.case, topic, bytes(state).replace(b"file-1", b"forged")))


def reorder_two(w):
    t2, s2 = w.row(2)
    t3, s3 = w.row(3)
    w.sql(f"UPDATE {EVENTS_TABLE} SET topic = %s, state = %s WHERE originator_id = %s AND originator_version = 2",
          (t3, s3, w.case))
    w.sql(f"UPDATE {EVENTS_TABLE} SET topic = %s, state = %s WHERE originator_id = %s AND originator_version = 3",
          (t2, s2, w.case))


def truncate_tail(w):
    w.sql(f"DELETE FROM {EVENTS_TABLE} WHERE originator_id = %s AND originator_version >= 4", (w.case,))


@pytest.mark.parametrize("mutate,version,kind,message", [
    (flip_a_byte, 2, "modified", "version 2: the stored event was modified"),
    (delete_one, 3, "deleted", "version 3: deleted"),
    (insert_one, 2, "inserted", "version 2: an event was inserted here"),
    (reorder_two, 2, "reordered", "versions 2 and 3: reordered"),
    (truncate_tail, 4, "truncated", "version 4: deleted; the history was truncated after version 3"),
])
def test_each_mutation_of_the_stored_events_is_named(world, mutate, version, kind, message):
    mutate(world)
    case, ledger = verified(world)
    assert not case.ok
    assert (case.first_bad.version, case.first_bad.kind) == (version, kind)
    assert message in case.first_bad.message
    assert str(world.case) in case.first_bad.message
    assert not ledger.ok  # the whole-ledger pass sees it too
    assert ledger.first_bad.kind in {kind, "modified", "deleted", "truncated"}
    # the other case is untouched
    assert verify_case(world.store, str(world.other), world.kid).ok


def test_rewriting_the_recorded_hashes_to_match_is_caught_by_the_signed_root(world):
    flip_a_byte(world)
    # the attacker recomputes event_hashes for the changed row... but cannot re-sign the head
    from shared.infra.integrity.chain import StoredRecord, chain_hash, event_hash, leaf_data
    rec = next(r for r in world.store.stored_records(str(world.case)) if r.originator_version == 2)
    old = world.store.recorded(str(world.case))[1]
    h = event_hash(rec)
    c = chain_hash(old.prev_hash, h)
    leaf = merkle.leaf_hash(leaf_data(old.notification_id, old.originator_id, 2, h, c))
    world.sql("UPDATE event_hashes SET event_hash = %s, chain_hash = %s, leaf_hash = %s WHERE notification_id = %s",
              (h, c, leaf, old.notification_id))
    case, _ = verified(world)
    assert not case.ok
    assert any("event_hashes was changed" in p or "chain" in p for p in case.problems), case.problems
    assert isinstance(rec, StoredRecord)


def test_a_swapped_key_is_named(world):
    attacker = Ed25519PrivateKey.generate()
    latest = world.store.latest_checkpoint()
    cp = latest.checkpoint
    forged = new_checkpoint(cp.seq, cp.tree_size, bytes.fromhex(cp.root), cp.timestamp, None, attacker)
    world.sql("UPDATE checkpoints SET body = %s, signature = %s, public_key = %s, key_id = %s WHERE seq = %s",
              (forged.body, forged.signature, forged.public_key, forged.checkpoint.key_id, cp.seq))
    case, _ = verified(world)
    assert not case.ok
    assert f"is signed by key {key_id(public_bytes(attacker))}, not by the trusted key {world.kid}" in case.problems[0]


@pytest.fixture
def evidence(s3_settings):
    store = EvidenceStore(s3_settings["endpoint"], s3_settings["access_key"], s3_settings["secret_key"],
                          f"audit-{uuid.uuid4().hex[:8]}", s3_settings["secure"])
    store.ensure_bucket()
    return store


def test_checkpoints_are_published_and_a_rolled_back_checkpoint_is_named(world, evidence):
    attach(world.documents, world.case, 6)
    second = world.sign().checkpoint
    assert second.checkpoint.seq == 2
    assert world.store.publish(evidence) == 2
    assert evidence.list_checkpoints() == [1, 2]
    assert json.loads(evidence.get_checkpoint(2))["body"] == second.body
    assert verify_case(world.store, str(world.case), world.kid, evidence).ok
    # consistency between the two published heads
    one = world.store.checkpoint(1).checkpoint
    leaves = world.store.leaf_hashes()
    merkle.verify_consistency(one.tree_size, 11, bytes.fromhex(one.root), bytes.fromhex(second.checkpoint.root),
                              merkle.consistency_proof(one.tree_size, leaves))
    world.sql("DELETE FROM checkpoints WHERE seq = 2")
    case, ledger = verified(world, evidence)
    assert not case.ok and not ledger.ok
    expected = ("checkpoint rolled back: the evidence store holds checkpoint 2 (tree size 11) "
                "but the database's latest is checkpoint 1")
    assert expected in case.problems
    assert expected in ledger.problems


def test_state_at_any_version_or_moment_and_the_difference_between_versions(world):
    first = case_as_of(world.intake, str(world.case), version=1)
    assert first["version"] == 1 and first["case"]["evidence"] == []
    now = case_as_of(world.intake, str(world.case))
    assert now["version"] == 5 and len(now["case"]["evidence"]) == 4
    stamp = datetime.fromisoformat(world.intake.history(world.case)[2].timestamp)
    at = case_as_of(world.intake, str(world.case), at=stamp.isoformat())
    assert at["version"] == 3
    before = (stamp - timedelta(days=3650)).astimezone(UTC).isoformat()
    with pytest.raises(NotFound, match="did not exist yet"):
        case_as_of(world.intake, str(world.case), at=before)
    diff = case_diff(world.intake, str(world.case), 2, 4)
    assert diff["changes"]["evidence"] == {"from": [f"{1:064x}"], "to": [f"{n:064x}" for n in (1, 2, 3)]}
    assert [e["version"] for e in diff["events"]] == [3, 4]


def test_the_audit_application_reads_touched_cases_and_serves_proofs(world, evidence):
    ctx = IntegrityContext(world.store, evidence, world.kid, public_bytes(world.key))
    audit = Audit(world.intake, None, ctx)
    report = audit.verify(AUDITOR, str(world.case))
    assert report["ok"], report["problems"]
    proofs = audit.proofs(AUDITOR, str(world.case))
    cp = SignedCheckpoint.from_dict(proofs["checkpoint"]).checkpoint
    for p in proofs["proofs"]:
        merkle.verify_inclusion(p["leaf_index"], cp.tree_size, bytes.fromhex(p["leaf_hash"]),
                                [bytes.fromhex(x) for x in p["proof"]], bytes.fromhex(cp.root))
    attach(world.documents, world.case, 7)
    world.sign()
    consistency = audit.consistency(AUDITOR, "1", "2")
    assert len(consistency["proof"]) > 0
    with pytest.raises(Forbidden, match="role province may not do this"):
        audit.verify(Caller(sub="p", role="province", org="420000"), str(world.case))


def test_a_bundle_is_verified_after_the_database_is_gone(make_database, _databases, evidence, tmp_path):
    url = make_database("bundle")
    w = World(url, evidence=evidence)
    attach(w.documents, w.case, 5, evidence=evidence)
    w.sign()
    bundle = export_case(w.store, str(w.case), evidence=evidence)
    report = verify_bundle(bundle, w.kid)
    assert report.ok, report.problems
    assert len(bundle["evidence"]) == 5 and all(e["sha256_of_stored"] == e["sha256"] for e in bundle["evidence"])
    good = tmp_path / "bundle.json"
    good.write_text(json.dumps(bundle))
    tampered = json.loads(json.dumps(bundle))
    tampered["events"][1]["state"] = tampered["events"][3]["state"]
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered))
    # What an auditor reads, edited: the reason of an event, its bytes and hashes left alone.
    edited = json.loads(json.dumps(bundle))
    edited["history"][2]["fields"]["filename"] = "SAMPLE edited after export.pdf"
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    kid = w.kid
    w.close()
    _databases.drop(url.rsplit("/", 1)[1])
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url).close()

    env = {**os.environ, "LEDGER_URL": url, "S3_ENDPOINT": "127.0.0.1:9", "CASEPLATFORM_DATA_DIR": str(tmp_path / "d")}
    verify_bundle_cli = [sys.executable, "-m", "services.cli.main", "verify-bundle"]
    ok = subprocess.run([*verify_bundle_cli, str(good), "--key-fingerprint", kid],
                        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK: case" in ok.stdout and "6 event(s) proved" in ok.stdout and "5 evidence file(s) match" in ok.stdout
    failed = subprocess.run([*verify_bundle_cli, str(bad), "--key-fingerprint", kid],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert "FAILED: version 2: the event's stored bytes do not match its recorded hash" in failed.stdout
    rewritten = subprocess.run([*verify_bundle_cli, str(tmp_path / "edited.json"), "--key-fingerprint", kid],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert rewritten.returncode == 1, rewritten.stdout
    assert "FAILED: version 3: the history differs from the verified event in fields (edited after export)" \
        in rewritten.stdout
    wrong_key = subprocess.run([sys.executable, "-m", "services.cli.main", "verify-bundle", str(good),
                                "--key-fingerprint", "0" * 64], cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=60)
    assert wrong_key.returncode == 1 and "not by the trusted key" in wrong_key.stdout
    assert not (tmp_path / "d").exists()  # nothing was read or written for settings


def test_a_sqlite_ledger_gets_the_same_trigger_and_verification(tmp_path):
    import sqlite3

    url = f"sqlite:///{tmp_path}/ledger.db"
    intake, documents = CaseLedger(url, owner="intake"), CaseLedger(url, owner="documents")
    store = IntegrityStore(url)
    try:
        store.create()
        assert store.events_table == intake.recorder.events_table_name
        case = submit(intake).id
        for n in (1, 2, 3):
            attach(documents, case, n)
        key = Ed25519PrivateKey.generate()
        assert store.run_once(key).checkpoint.checkpoint.tree_size == 4
        kid = key_id(public_bytes(key))
        assert verify_case(store, str(case), kid).ok
        db = sqlite3.connect(f"{tmp_path}/ledger.db")
        with pytest.raises(sqlite3.IntegrityError, match="append-only: DELETE refused"):
            db.execute(f"DELETE FROM {store.events_table}")
        db.execute(f'DROP TRIGGER "{store.events_table}_no_update"')
        db.execute(f"UPDATE {store.events_table} SET state = CAST(REPLACE(CAST(state AS TEXT), 'file-2', 'file-X') "
                   "AS BLOB) WHERE originator_version = 3")
        db.commit()
        db.close()
        report = verify_case(store, str(case), kid)
        assert (report.first_bad.version, report.first_bad.kind) == (3, "modified")
    finally:
        store.dispose()
        intake.close()
        documents.close()
