"""Hash chains over stored event records, signed checkpoints and the offline bundle, without a database."""

import base64
import json
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.infra.integrity import merkle
from shared.infra.integrity.bundle import build_bundle, event_entry, evidence_refs, verify_bundle
from shared.infra.integrity.chain import (
    GENESIS,
    LedgerRow,
    RecordedHash,
    StoredRecord,
    build_chain,
    canonical,
    chain_hash,
    check_recorded,
    compare,
    event_hash,
)
from shared.infra.integrity.checkpoints import (
    CheckpointError,
    SignedCheckpoint,
    key_id,
    load_or_create_key,
    new_checkpoint,
    public_bytes,
    verify,
    verify_sequence,
)

CASE = "6c0b5d0e-7b8a-4d7e-9a65-1f2e3d4c5b6a"


def records(n, case=CASE, first_nid=1, step=1):
    return [StoredRecord(case, v, f"shared.domain.case:Case.Step{v}", json.dumps({"v": v}).encode(),
                         first_nid + (v - 1) * step)
            for v in range(1, n + 1)]


def recorded_for(stored):
    out = []
    for i, (rec, (h, prev, c)) in enumerate(zip(stored, build_chain(stored), strict=True)):
        out.append(RecordedHash(rec.notification_id, i, rec.originator_id, rec.originator_version, h, prev, c))
    return out


def renumber(stored):
    return [replace(r, originator_version=i) for i, r in enumerate(stored, start=1)]


def test_canonical_encoding_separates_fields():
    a = StoredRecord(CASE, 1, "ab", b"c")
    b = StoredRecord(CASE, 1, "a", b"bc")
    assert canonical(a) != canonical(b)
    assert event_hash(a) != event_hash(replace(a, originator_version=2))


def test_a_row_read_from_the_ledger_has_its_place_in_the_log_and_hashes_as_the_record_it_is():
    with pytest.raises(TypeError, match="notification_id"):
        LedgerRow(CASE, 1, "ab", b"c")
    row = LedgerRow(CASE, 1, "ab", b"c", 7)
    assert row.notification_id == 7
    # Its place in the log is not hashed: the record's own fields are.
    assert event_hash(row) == event_hash(StoredRecord(CASE, 1, "ab", b"c"))


def test_chain_links_each_version_to_the_previous_one():
    chain = build_chain(records(3))
    assert chain[0][1] == GENESIS
    assert chain[1][1] == chain[0][2] and chain[2][1] == chain[1][2]
    assert chain[2][2] == chain_hash(chain[1][2], chain[2][0])


def test_an_untouched_history_has_no_finding_and_new_events_are_not_findings():
    stored = records(5)
    recorded = recorded_for(stored[:4])
    assert compare(CASE, stored, recorded, follower_position=4) is None


def test_a_modified_event_is_named():
    stored = records(5)
    recorded = recorded_for(stored)
    stored[2] = replace(stored[2], state=stored[2].state.replace(b"3", b"4"))
    f = compare(CASE, stored, recorded, 5)
    assert (f.version, f.kind) == (3, "modified")
    assert "version 3: the stored event was modified" in f.message


def test_a_deleted_event_leaving_a_gap():
    stored = records(5)
    recorded = recorded_for(stored)
    f = compare(CASE, stored[:1] + stored[2:], recorded, 5)
    assert (f.version, f.kind) == (2, "deleted")


def test_a_deleted_event_with_later_versions_renumbered():
    stored = records(5)
    recorded = recorded_for(stored)
    f = compare(CASE, renumber(stored[:1] + stored[2:]), recorded, 5)
    assert (f.version, f.kind) == (2, "deleted")


def test_an_inserted_event_with_later_versions_shifted():
    stored = records(5)
    recorded = recorded_for(stored)
    forged = StoredRecord(CASE, 2, "shared.domain.case:Case.Forged", b"{}", 99)
    f = compare(CASE, renumber([*stored[:1], forged, *stored[1:]]), recorded, 5)
    assert (f.version, f.kind) == (2, "inserted")


def test_an_event_inserted_behind_the_follower():
    stored = records(3)
    recorded = recorded_for(stored)
    late = StoredRecord(CASE, 4, "shared.domain.case:Case.Forged", b"{}", 2)  # placed in a gap of the log
    f = compare(CASE, [*stored, late], recorded, follower_position=3)
    assert (f.version, f.kind) == (4, "inserted")
    assert compare(CASE, [*stored, replace(late, notification_id=10)], recorded, follower_position=3) is None


def test_two_reordered_events():
    stored = records(5)
    recorded = recorded_for(stored)
    swapped = [*stored[:2], stored[3], stored[2], *stored[4:]]
    f = compare(CASE, renumber(swapped), recorded, 5)
    assert (f.version, f.kind) == (3, "reordered")
    assert "versions 3 and 4: reordered" in f.message


def test_a_truncated_tail():
    stored = records(5)
    recorded = recorded_for(stored)
    f = compare(CASE, stored[:3], recorded, 5)
    assert (f.version, f.kind) == (4, "truncated")


def test_a_rewritten_recorded_chain_is_caught():
    stored = records(3)
    recorded = recorded_for(stored)
    recorded[1] = replace(recorded[1], prev_hash=bytes(32))
    assert check_recorded(CASE, recorded).kind == "chain_broken"


# -- checkpoints ----------------------------------------------------------------------


def test_key_is_generated_once_with_private_permissions(tmp_path):
    path = tmp_path / "keys" / "ck.pem"
    key = load_or_create_key(path)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert public_bytes(load_or_create_key(path)) == public_bytes(key)


def test_checkpoints_sign_verify_and_chain():
    key = Ed25519PrivateKey.generate()
    kid = key_id(public_bytes(key))
    one = new_checkpoint(1, 3, b"\x01" * 32, "2025-01-01T00:00:00+00:00", None, key)
    two = new_checkpoint(2, 5, b"\x02" * 32, "2025-01-01T00:01:00+00:00", one, key)
    assert verify(two, kid).tree_size == 5
    assert [c.seq for c in verify_sequence([one, two], kid)] == [1, 2]
    with pytest.raises(CheckpointError, match="checkpoint 2 is missing"):
        verify_sequence([one, new_checkpoint(3, 6, b"\x03" * 32, "t", two, key)], kid)


def test_a_swapped_key_and_a_forged_signature_are_refused():
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    kid = key_id(public_bytes(key))
    genuine = new_checkpoint(1, 3, b"\x01" * 32, "t", None, key)
    resigned = new_checkpoint(1, 3, b"\x01" * 32, "t", None, other)
    with pytest.raises(CheckpointError, match=f"not by the trusted key {kid}"):
        verify(resigned, kid)
    swapped = SignedCheckpoint(genuine.body, genuine.signature, resigned.public_key)
    with pytest.raises(CheckpointError, match=r"names key .* but carries key"):
        verify(swapped)
    bad_sig = SignedCheckpoint(genuine.body.replace('"tree_size":3', '"tree_size":4'), genuine.signature,
                               genuine.public_key)
    with pytest.raises(CheckpointError, match="signature does not verify"):
        verify(bad_sig)


# -- the bundle, verified offline -------------------------------------------------------


def make_bundle(n=4, key=None):
    """A bundle of one case whose events are leaves 1, 3, 5, ... of a ledger with another aggregate between."""
    key = key or Ed25519PrivateKey.generate()
    other = "00000000-0000-4000-8000-000000000001"
    stored = records(n, first_nid=2, step=2)
    chain = build_chain(stored)
    leaves, entries = [], []
    from shared.infra.integrity.chain import leaf_data
    for i, (rec, (h, _, c)) in enumerate(zip(stored, chain, strict=True)):
        filler = StoredRecord(other, i + 1, "x", b"{}", rec.notification_id - 1)
        fh = event_hash(filler)
        leaves.append(merkle.leaf_hash(leaf_data(filler.notification_id, other, i + 1, fh, fh)))
        leaves.append(merkle.leaf_hash(leaf_data(rec.notification_id, CASE, rec.originator_version, h, c)))
    cp = new_checkpoint(1, len(leaves), merkle.root(leaves), "t", None, key)
    for i, (rec, (h, prev, c)) in enumerate(zip(stored, chain, strict=True)):
        entries.append(event_entry(rec, leaf_index=2 * i + 1, notification_id=rec.notification_id, event_hash_=h,
                                   prev_hash=prev, chain_hash_=c, proof=merkle.inclusion_proof(2 * i + 1, leaves)))
    return build_bundle(case_id=CASE, exported_at="t", events=entries, checkpoint=cp, evidence=[]), key, leaves


def test_a_whole_bundle_verifies_and_pins_the_key():
    bundle, key, _ = make_bundle()
    report = verify_bundle(json.loads(json.dumps(bundle)), key_id(public_bytes(key)))
    assert report.ok, report.problems
    assert report.verified_events == 4


def test_bundle_tampering_is_named():
    bundle, key, leaves = make_bundle()
    kid = key_id(public_bytes(key))

    def check(mutate, expected):
        b = json.loads(json.dumps(bundle))
        mutate(b)
        report = verify_bundle(b, kid)
        assert not report.ok
        assert expected in report.problems[0], report.problems

    def flip(b):
        state = bytearray(base64.b64decode(b["events"][1]["state"]))
        state[-2] ^= 1
        b["events"][1]["state"] = base64.b64encode(bytes(state)).decode()

    check(flip, "version 2: the event's stored bytes do not match")
    check(lambda b: b["events"].pop(1), "version 2: missing from the bundle")
    check(lambda b: b["events"].__setitem__(slice(1, 3), [b["events"][2], b["events"][1]]),
          "version 2: out of place (reordered")
    other = Ed25519PrivateKey.generate()
    resigned = new_checkpoint(1, len(leaves), merkle.root(leaves), "t", None, other)
    check(lambda b: b.__setitem__("checkpoint", resigned.as_dict()), "not by the trusted key")
    older = new_checkpoint(1, 3, merkle.root(leaves[:3]), "t", None, key)
    check(lambda b: b.__setitem__("checkpoint", older.as_dict()),
          "version 1: not included in checkpoint 1 (tree size 3)")


def test_a_bundle_lists_the_documents_an_application_names_and_the_files_attached_later():
    seal, profile, report = "a" * 64, "b" * 64, "c" * 64
    application = {"cover": {"seal": seal}, "applicant": {"profile_evidence": [profile]}, "title": "SAMPLE"}
    submitted = json.dumps({"application": application, "title": "SAMPLE"}).encode()
    assert sorted(evidence_refs("shared.domain.case:Case.Submitted", submitted)) == [seal, profile]
    assert sorted(evidence_refs("shared.domain.case:Case.Resubmitted", submitted)) == [seal, profile]
    reported = json.dumps({"report": [report]}).encode()
    assert evidence_refs("shared.domain.case:Case.MilestoneReported", reported) == [report]
    assert evidence_refs("shared.domain.case:Case.ProvinceEndorsed", submitted) == []
    assert evidence_refs("shared.domain.case:Case.Submitted", b"not json") == []
