"""Verifying the ledger against what the checkpoint follower recorded and signed.

Three layers, each catching what the one below cannot:

1. the stored rows of an aggregate against its recorded hash chain (`event_hashes`):
   a modified, deleted, inserted, reordered or truncated event, named by version;
2. the recorded hashes against the signed checkpoints: the Merkle root recomputed
   from the recorded leaves must be each checkpoint's root, so rewriting
   `event_hashes` to match tampered rows is caught too;
3. the checkpoints against the trusted key (a swapped key) and against their copies
   in the evidence store (a checkpoint rolled back or rewritten in the database).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from . import merkle
from .chain import Finding, RecordedHash, compare, event_hash
from .checkpoints import Checkpoint, CheckpointError, SignedCheckpoint, verify_sequence
from .store import IntegrityStore

Progress = Callable[[int, int], None]


@dataclass
class Report:
    subject: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    first_bad: Finding | None = None
    checked_events: int = 0
    unchecked_events: int = 0  # stored after the latest checkpoint / not yet hashed
    checkpoint: Checkpoint | None = None
    proofs: list[dict] = field(default_factory=list)

    def fail(self, message: str) -> None:
        self.ok = False
        self.problems.append(message)

    def as_dict(self) -> dict:
        return {
            "subject": self.subject,
            "ok": self.ok,
            "problems": list(self.problems),
            "first_bad": self.first_bad.as_dict() if self.first_bad else None,
            "checked_events": self.checked_events,
            "unchecked_events": self.unchecked_events,
            "checkpoint": self.checkpoint.__dict__ if self.checkpoint else None,
            "proofs": self.proofs,
        }


def verify_checkpoints(store: IntegrityStore, report: Report, trusted_key_id: str | None,
                       evidence=None, leaves: list[bytes] | None = None) -> list[bytes]:
    """Checks every checkpoint in the database; returns the recorded leaf hashes it read."""
    signed = store.checkpoints()
    leaves = store.leaf_hashes() if leaves is None else leaves
    try:
        cps = verify_sequence(signed, trusted_key_id)
    except CheckpointError as exc:
        report.fail(str(exc))
        cps = []
    if cps:
        report.checkpoint = cps[-1]
    # Each checkpoint's root must follow from the recorded leaves, in one pass.
    tree = merkle.CompactRange()
    for cp in cps:
        if cp.tree_size > len(leaves):
            report.fail(f"checkpoint {cp.seq} covers {cp.tree_size} events but only {len(leaves)} event hashes "
                        "are recorded: recorded hashes were deleted")
            break
        tree.extend(leaves[tree.size:cp.tree_size])
        if tree.root().hex() != cp.root:
            report.fail(f"checkpoint {cp.seq}: the recorded event hashes no longer give its root "
                        f"(tree size {cp.tree_size}): event_hashes was changed")
            break
    if evidence is not None:
        _against_published(signed, report, evidence)
    return leaves


def _against_published(signed: list[SignedCheckpoint], report: Report, evidence) -> None:
    in_db = {s.checkpoint.seq: s for s in signed}
    latest_db = max(in_db, default=0)
    try:
        published = evidence.list_checkpoints()
    except Exception as exc:  # noqa: BLE001 - the store's outage is reported, not raised
        report.fail(f"the evidence store's copies of the checkpoints cannot be read: {exc}")
        return
    for seq in published:
        data = evidence.get_checkpoint(seq)
        copy = SignedCheckpoint.from_dict(json.loads(data))
        if seq not in in_db:
            if seq > latest_db:
                cp = copy.checkpoint
                report.fail(f"checkpoint rolled back: the evidence store holds checkpoint {seq} (tree size "
                            f"{cp.tree_size}) but the database's latest is checkpoint {latest_db}")
            else:
                report.fail(f"checkpoint {seq} is in the evidence store but missing from the database")
            return
        if copy.to_json() != in_db[seq].to_json():
            report.fail(f"checkpoint {seq} in the database differs from its copy in the evidence store")
            return


def verify_case(store: IntegrityStore, case_id: str, trusted_key_id: str | None, evidence=None,
                with_proofs: bool = True) -> Report:
    """One aggregate's stored history against its chain, its chain against the signed head."""
    report = Report(subject=str(case_id))
    stored = store.stored_records(case_id)
    recorded = store.recorded(case_id)
    if not stored and not recorded:
        report.fail(f"the ledger has no events for {case_id}")
        return report
    finding = compare(str(case_id), stored, recorded, store.position())
    if finding is not None:
        report.first_bad = finding
        report.fail(finding.message)
    leaves = verify_checkpoints(store, report, trusted_key_id, evidence)
    cp = report.checkpoint
    size = cp.tree_size if cp is not None else 0
    root = bytes.fromhex(cp.root) if cp is not None else merkle.EMPTY_ROOT
    covered = [r for r in recorded if r.leaf_index < size]
    report.checked_events = len(covered)
    report.unchecked_events = max(len(stored) - len(covered), 0)
    tree = leaves[:size]
    # One pass over the tree for all of the case's proofs, not one pass per event. A leaf
    # beyond the recorded hashes (rows deleted from event_hashes) gets none: the loop stops there.
    proofs = {}
    if with_proofs:
        proofs = merkle.inclusion_proofs((r.leaf_index for r in covered if r.leaf_index < len(tree)), tree)
    for rec in covered:
        leaf = merkle.leaf_hash(rec.leaf_data())
        if rec.leaf_index >= len(leaves) or leaves[rec.leaf_index] != leaf:
            report.fail(f"{case_id} version {rec.originator_version}: its recorded leaf does not match its row "
                        "in event_hashes")
            break
        if not with_proofs:
            continue
        proof = proofs[rec.leaf_index]
        try:
            merkle.verify_inclusion(rec.leaf_index, size, leaf, proof, root)
        except merkle.ProofError as exc:
            report.fail(f"{case_id} version {rec.originator_version}: not included in checkpoint "
                        f"{cp.seq if cp else '-'}: {exc}")
            break
        report.proofs.append({"version": rec.originator_version, "leaf_index": rec.leaf_index,
                              "leaf_hash": leaf.hex(), "proof": [p.hex() for p in proof]})
    return report


def verify_ledger(store: IntegrityStore, trusted_key_id: str | None, evidence=None,
                  progress: Progress | None = None) -> Report:
    """Every stored row against its recorded hash, every recorded chain, every checkpoint."""
    report = Report(subject="ledger")
    position = store.position()
    target = store.max_ledger_id()
    heads: dict[str, tuple[int, bytes]] = {}
    recorded_iter = store.recorded_leaves()
    expected_leaf = 0
    leaves: list[bytes] = []
    after = 0
    done = 0
    pending_rec: tuple[RecordedHash, bytes] | None = None
    while True:
        batch = store.read_ledger(after)
        for row in batch:
            after = row.notification_id
            done += 1
            # Recorded rows the ledger skipped over were deleted.
            while True:
                item = pending_rec if pending_rec is not None else next(recorded_iter, None)
                pending_rec = None
                if item is None:
                    break
                rec, leaf = item
                if rec.notification_id < row.notification_id:
                    _first(report, Finding(rec.originator_version, "deleted",
                                           f"{rec.originator_id} version {rec.originator_version}: deleted from the "
                                           f"ledger (notification {rec.notification_id} was recorded)"))
                    leaves.append(merkle.leaf_hash(rec.leaf_data()))
                    expected_leaf += 1
                    continue
                pending_rec = item
                break
            if pending_rec is None or pending_rec[0].notification_id != row.notification_id:
                if row.notification_id <= position:
                    _first(report, Finding(row.originator_version, "inserted",
                                           f"{row.originator_id} version {row.originator_version}: inserted behind "
                                           f"the checkpoint follower (notification {row.notification_id})"))
                else:
                    report.unchecked_events += 1
                continue
            rec, leaf = pending_rec
            pending_rec = None
            if merkle.leaf_hash(rec.leaf_data()) != leaf:
                _first(report, Finding(rec.originator_version, "chain_broken",
                                       f"{rec.originator_id} version {rec.originator_version}: its recorded leaf "
                                       "hash does not match its row in event_hashes"))
            leaves.append(merkle.leaf_hash(rec.leaf_data()))
            if rec.leaf_index != expected_leaf:
                _first(report, Finding(rec.originator_version, "chain_broken",
                                       f"leaf {expected_leaf} is missing from event_hashes"))
            expected_leaf = rec.leaf_index + 1
            h = event_hash(row)
            if (rec.originator_id, rec.originator_version) != (row.originator_id, row.originator_version):
                _first(report, Finding(row.originator_version, "modified",
                                       f"notification {row.notification_id}: recorded as {rec.originator_id} version "
                                       f"{rec.originator_version}, stored as {row.originator_id} version "
                                       f"{row.originator_version}"))
            elif h != rec.event_hash:
                _first(report, Finding(row.originator_version, "modified",
                                       f"{row.originator_id} version {row.originator_version}: the stored event was "
                                       f"modified (its SHA-256 is {h.hex()}, the recorded hash is "
                                       f"{rec.event_hash.hex()})"))
            last_version, prev = heads.get(rec.originator_id, (0, bytes(32)))
            if rec.originator_version != last_version + 1 or rec.prev_hash != prev:
                _first(report, Finding(rec.originator_version, "chain_broken",
                                       f"{rec.originator_id} version {rec.originator_version}: the recorded chain "
                                       "does not link to its previous version"))
            heads[rec.originator_id] = (rec.originator_version, rec.chain_hash)
            report.checked_events += 1
        if progress is not None:
            progress(done, target)
        if len(batch) == 0:
            break
    # Recorded rows past the ledger's end: the tail was truncated.
    for item in ([pending_rec] if pending_rec else []) + list(recorded_iter):
        rec, _ = item
        leaves.append(merkle.leaf_hash(rec.leaf_data()))
        _first(report, Finding(rec.originator_version, "truncated",
                               f"{rec.originator_id} version {rec.originator_version}: deleted; the ledger ends "
                               f"before notification {rec.notification_id}, which was recorded"))
    verify_checkpoints(store, report, trusted_key_id, evidence, leaves=leaves)
    return report


def _first(report: Report, finding: Finding) -> None:
    if report.first_bad is None:
        report.first_bad = finding
    report.fail(finding.message)
