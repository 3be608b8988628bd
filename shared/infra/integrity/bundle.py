"""The offline audit bundle: one JSON file that proves a case's history without the platform.

It holds the case's events exactly as stored (state bytes in base64), each with its
recorded event hash, previous and chain hash, Merkle leaf index and inclusion proof;
the signed checkpoint they are proved against and its public key; and for every
evidence file the case refers to, the SHA-256 the evidence store's bytes had when
exported; and `history`, the same events in words a person reads (type, time, actor,
fields), made from the stored bytes. `verify_bundle` checks all of it with nothing but
this file (and, optionally, the key fingerprint the auditor trusts and a folder of
evidence files): the history must be exactly what the verified events say, since it is
what an auditor reads (a format-1 bundle's history was not checked, and an edited reason
in it passed). A person's data is sealed in the stored bytes (issue #21) and the history
shows it as sealed, or as erased where the case's PersonalDataErased events destroyed its
key: a bundle carries no one's personal data in the clear and verifies after an erasure.

Pure functions: no database, no network, no framework.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.domain.named_documents import document_references
from shared.domain.sealed import ERASED, SEALED, map_sealed

from . import merkle
from .chain import GENESIS, StoredRecord, chain_hash, event_hash, leaf_data
from .checkpoints import CheckpointError, SignedCheckpoint, b64, unb64, verify

FORMAT = "caseplatform-audit-bundle/2"
FORMAT_1 = "caseplatform-audit-bundle/1"  # its history is not proved: verified, it is only warned of
_NOT_FIELDS = ("timestamp", "actor", "originator_topic", "class_version")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def evidence_refs(topic: str, state: bytes) -> list[str]:
    """The evidence SHA-256 digests one stored event refers to."""
    name = (topic or "").rsplit(".", 1)[-1]
    if name not in ("Submitted", "Resubmitted", "EvidenceAttached", "EvidenceSuperseded", "MilestoneReported"):
        return []
    try:
        data = json.loads(state)
    except ValueError:
        return []
    if name in ("Submitted", "Resubmitted"):
        # The application names its documents itself (seal, *_evidence): they are the
        # evidence of the filing even before documents attaches them to the case.
        found = [digest for _, digest in document_references(data.get("application") or {})]
    elif name == "MilestoneReported":
        found = list(data.get("report") or [])
    else:  # a superseded file stays stored and in the case's history: both are evidence
        found = [data.get("sha256"), data.get("supersedes")]
    return [d for d in found if isinstance(d, str) and _HEX64.fullmatch(d)]


def _plain(value: Any) -> Any:
    """A stored value as a reader takes it: the transcoder's {"_type_", "_data_"} objects
    (dates, times, UUIDs) become their text."""
    if isinstance(value, dict):
        if set(value) == {"_type_", "_data_"}:
            return value["_data_"]
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def erased_keys(records: Iterable[StoredRecord]) -> frozenset[str]:
    """The keys the case's own PersonalDataErased events say were destroyed."""
    found: set[str] = set()
    for record in records:
        if record.topic.endswith(".PersonalDataErased"):
            try:
                found.update(k for k in json.loads(record.state).get("keys") or [] if isinstance(k, str))
            except (ValueError, AttributeError):
                continue
    return frozenset(found)


def readable(record: StoredRecord, erased: frozenset[str] = frozenset()) -> dict:
    """One stored event as the bundle's history shows it, from its stored bytes alone: a person's
    sealed data as sealed, or as erased where the case's events record its key destroyed."""
    try:
        state = map_sealed(_plain(json.loads(record.state)),
                           lambda sealed: ERASED if sealed.key_id in erased else SEALED)
    except ValueError:
        state = None
    if not isinstance(state, dict):
        return {"version": record.originator_version, "type": record.topic, "unreadable": True}
    return {
        "version": record.originator_version,
        "type": record.topic.rsplit(":", 1)[-1].rsplit(".", 1)[-1],
        "timestamp": state.get("timestamp"),
        "actor": state.get("actor"),
        "fields": {k: v for k, v in state.items() if k not in _NOT_FIELDS},
    }


def _record(entry: dict) -> StoredRecord:
    return StoredRecord(originator_id=str(entry["originator_id"]), originator_version=int(entry["originator_version"]),
                        topic=entry["topic"], state=unb64(entry["state"]))


def build_bundle(*, case_id: str, exported_at: str, events: list[dict], checkpoint: SignedCheckpoint | None,
                 evidence: list[dict]) -> dict:
    """Assemble a bundle. `events`: one dict per stored event, as made by `event_entry`."""
    return {
        "format": FORMAT,
        "case_id": str(case_id),
        "exported_at": exported_at,
        "checkpoint": checkpoint.as_dict() if checkpoint is not None else None,
        "public_key": ({"ed25519": checkpoint.public_key, "key_id": checkpoint.checkpoint.key_id}
                       if checkpoint is not None else None),
        "hashing": {
            "event_hash": "SHA-256 of the length-prefixed (originator_id, originator_version, topic, state)",
            "chain_hash": "SHA-256(prev_hash || event_hash), prev_hash of version 1 = 32 zero bytes",
            "merkle": "RFC 6962/9162: leaf SHA-256(0x00 || leaf), node SHA-256(0x01 || left || right)",
        },
        "events": events,
        "evidence": evidence,
        "history": _history([_record(entry) for entry in events]),
    }


def _history(records: list[StoredRecord]) -> list[dict]:
    erased = erased_keys(records)
    return [readable(record, erased) for record in records]


def event_entry(record: StoredRecord, *, leaf_index: int | None, notification_id: int | None,
                event_hash_: bytes, prev_hash: bytes, chain_hash_: bytes, proof: list[bytes] | None) -> dict:
    return {
        "notification_id": notification_id,
        "leaf_index": leaf_index,
        "originator_id": record.originator_id,
        "originator_version": record.originator_version,
        "topic": record.topic,
        "state": b64(record.state),
        "event_hash": event_hash_.hex(),
        "prev_hash": prev_hash.hex(),
        "chain_hash": chain_hash_.hex(),
        "inclusion_proof": [p.hex() for p in proof] if proof is not None else None,
    }


@dataclass
class BundleReport:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    verified_events: int = 0
    verified_evidence: int = 0
    key_id: str | None = None
    checkpoint: dict | None = None

    def fail(self, message: str) -> None:
        self.ok = False
        self.problems.append(message)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _hex(value: Any, what: str) -> bytes:
    try:
        out = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} is not hex") from None
    if len(out) != 32:
        raise ValueError(f"{what} is not 32 bytes")
    return out


def verify_bundle(bundle: dict, trusted_key_id: str | None = None,
                  evidence_files: Iterable[Path] | None = None) -> BundleReport:
    """Check a bundle with nothing else: hashes, chain, inclusion proofs, signature, evidence."""
    report = BundleReport()
    if not isinstance(bundle, dict) or bundle.get("format") not in (FORMAT, FORMAT_1):
        report.fail(f"not an audit bundle of format {FORMAT} (or {FORMAT_1})")
        return report
    case_id = str(bundle.get("case_id"))

    # 1. the checkpoint and its key
    cp = None
    raw_cp = bundle.get("checkpoint")
    if raw_cp is None:
        report.fail("the bundle has no checkpoint: nothing proves its events were in the ledger")
    else:
        try:
            signed = SignedCheckpoint.from_dict(raw_cp)
            cp = verify(signed, trusted_key_id)
            report.key_id = cp.key_id
            report.checkpoint = cp.__dict__
        except (CheckpointError, KeyError, TypeError) as exc:
            report.fail(str(exc) if isinstance(exc, CheckpointError) else f"the checkpoint cannot be read: {exc}")
        else:
            pk = bundle.get("public_key") or {}
            if pk.get("ed25519") != signed.public_key or pk.get("key_id") != cp.key_id:
                report.fail("the bundle's public key is not the key that signed its checkpoint")
            if trusted_key_id is None:
                report.warnings.append(f"the signing key was not pinned: compare its fingerprint {cp.key_id} "
                                       "with the one the platform publishes (--key-fingerprint)")
    root = bytes.fromhex(cp.root) if cp is not None else None

    # 2. the events: own hash, chain, inclusion
    events = bundle.get("events") or []
    if not events:
        report.fail(f"the bundle holds no events of case {case_id}")
        return report
    prev = GENESIS
    refs: dict[str, list[int]] = {}
    verified: list[StoredRecord] = []
    for position, entry in enumerate(events, start=1):
        try:
            version = int(entry["originator_version"])
            record = StoredRecord(originator_id=str(entry["originator_id"]), originator_version=version,
                                  topic=entry["topic"], state=unb64(entry["state"]))
            recorded = _hex(entry["event_hash"], f"version {version}'s event hash")
            prev_hash = _hex(entry["prev_hash"], f"version {version}'s previous hash")
            chained = _hex(entry["chain_hash"], f"version {version}'s chain hash")
        except (KeyError, TypeError, ValueError) as exc:
            report.fail(f"event {position} of the bundle cannot be read: {exc}")
            return report
        if record.originator_id != case_id:
            report.fail(f"event {position} belongs to {record.originator_id}, not to case {case_id}")
            return report
        if version != position:
            later = [e.get("originator_version") for e in events[position:] if isinstance(e, dict)]
            if position in later:
                report.fail(f"version {position}: out of place (reordered: version {version} stands before it)")
            elif version > position:
                report.fail(f"version {position}: missing from the bundle "
                            f"(deleted; the next event is version {version})")
            else:
                report.fail(f"version {version}: out of place at position {position} (reordered or inserted)")
            return report
        if event_hash(record) != recorded:
            report.fail(f"version {version}: the event's stored bytes do not match its recorded hash (modified)")
            return report
        if prev_hash != prev or chain_hash(prev_hash, recorded) != chained:
            report.fail(f"version {version}: the hash chain is broken (an event before it was inserted, "
                        "deleted, reordered or changed)")
            return report
        prev = chained
        verified.append(record)
        for digest in evidence_refs(record.topic, record.state):
            refs.setdefault(digest, []).append(version)
        leaf_index, proof = entry.get("leaf_index"), entry.get("inclusion_proof")
        if proof is None or leaf_index is None:
            report.warnings.append(f"version {version}: stored after the checkpoint; its place in the ledger is "
                                   "not proved by this bundle")
            continue
        if cp is None or root is None:  # no checkpoint: nothing to prove inclusion in
            continue
        leaf = merkle.leaf_hash(leaf_data(int(entry["notification_id"]), record.originator_id, version,
                                          recorded, chained))
        try:
            merkle.verify_inclusion(int(leaf_index), cp.tree_size, leaf,
                                    [_hex(p, "a proof element") for p in proof], root)
        except (merkle.ProofError, ValueError) as exc:
            report.fail(f"version {version}: not included in checkpoint {cp.seq} (tree size {cp.tree_size}): {exc}")
            return report
        report.verified_events += 1

    # 3. the history a person reads: exactly what the verified events say
    if bundle["format"] == FORMAT_1:
        report.warnings.append("a format-1 bundle: its `history` is not checked against the events; export the "
                               "case again for a bundle whose history is proved")
    else:
        _check_history(bundle.get("history"), verified, report)

    # 4. evidence: every file a verified event refers to, by the hash of its stored bytes
    listed = {e.get("sha256"): e for e in bundle.get("evidence") or [] if isinstance(e, dict)}
    local: set[str] | None = None
    if evidence_files is not None:
        local = {_sha256_file(p) for p in evidence_files}
    for digest, versions in sorted(refs.items()):
        entry = listed.get(digest)
        if entry is None:
            report.fail(f"evidence {digest} (version {versions[0]}) is missing from the bundle")
            continue
        if entry.get("sha256_of_stored") is None:
            report.fail(f"evidence {digest}: not found in the evidence store (or the store was unreachable) "
                        "when the bundle was exported")
            continue
        if entry.get("sha256_of_stored") != digest:
            report.fail(f"evidence {digest}: the stored file hashed to {entry.get('sha256_of_stored')} when exported")
            continue
        if local is not None and digest not in local:
            report.fail(f"evidence {digest}: no file given has that SHA-256")
            continue
        report.verified_evidence += 1
    return report


def _check_history(history: Any, verified: list[StoredRecord], report: BundleReport) -> None:
    if not isinstance(history, list) or len(history) != len(verified):
        report.fail(f"the history does not list the bundle's {len(verified)} events one for one")
        return
    for shown, expected, record in zip(history, _history(verified), verified, strict=True):
        if shown != expected:
            differing = sorted(k for k in (set(expected) | set(shown if isinstance(shown, dict) else {}))
                               if not isinstance(shown, dict) or shown.get(k) != expected.get(k))
            report.fail(f"version {record.originator_version}: the history differs from the verified event in "
                        f"{', '.join(differing)} (edited after export)")
            return


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
