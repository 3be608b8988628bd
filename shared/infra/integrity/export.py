"""Exporting a case's audit bundle from the ledger database and the evidence store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from . import merkle
from .bundle import build_bundle, event_entry, evidence_refs
from .chain import GENESIS, chain_hash, event_hash
from .store import IntegrityStore

Progress = Callable[[str, int, int], None]


def export_case(store: IntegrityStore, case_id: str, *, evidence=None, progress: Progress | None = None,
                now: datetime | None = None) -> dict:
    """The bundle of one case: its stored events with the hashes recorded for them and their
    inclusion proofs in the latest checkpoint, and the SHA-256 of each evidence file's stored bytes.

    Events stored after the latest checkpoint are included with freshly computed hashes and no
    proof (the verifier says so). The bundle is built from what is stored; tampering shows
    when it is verified.
    """
    stored = store.stored_records(case_id)
    recorded = {r.originator_version: r for r in store.recorded(case_id)}
    signed = store.latest_checkpoint()
    size = signed.checkpoint.tree_size if signed is not None else 0
    leaves = store.leaf_hashes(limit=size) if size else []
    # One pass over the tree for all of the case's proofs, not one pass per event.
    proofs = merkle.inclusion_proofs(
        (r.leaf_index for r in (recorded.get(s.originator_version) for s in stored) if r and r.leaf_index < size),
        leaves)
    entries, prev = [], GENESIS
    for i, rec in enumerate(stored, start=1):
        r = recorded.get(rec.originator_version)
        if r is not None and r.leaf_index < size:
            entries.append(event_entry(
                rec, leaf_index=r.leaf_index, notification_id=r.notification_id, event_hash_=r.event_hash,
                prev_hash=r.prev_hash, chain_hash_=r.chain_hash, proof=proofs[r.leaf_index]))
            prev = r.chain_hash
        else:
            h = event_hash(rec)
            c = chain_hash(prev, h)
            entries.append(event_entry(rec, leaf_index=None, notification_id=rec.notification_id, event_hash_=h,
                                       prev_hash=prev, chain_hash_=c, proof=None))
            prev = c
        if progress is not None:
            progress("events", i, len(stored))
    refs: dict[str, list[int]] = {}
    for rec in stored:
        for digest in evidence_refs(rec.topic, rec.state):
            refs.setdefault(digest, []).append(rec.originator_version)
    files = []
    for i, (digest, versions) in enumerate(sorted(refs.items()), start=1):
        item = {"sha256": digest, "referenced_by": versions, "size": None, "sha256_of_stored": None}
        if evidence is not None:
            info = evidence.stat(digest)
            if info is not None:
                item["size"] = info.size
                item["sha256_of_stored"] = evidence.sha256_of_stored(digest)
        files.append(item)
        if progress is not None:
            progress("evidence", i, len(refs))
    return build_bundle(
        case_id=str(case_id), exported_at=(now or datetime.now(UTC)).isoformat(), events=entries,
        checkpoint=signed, evidence=files,
    )
