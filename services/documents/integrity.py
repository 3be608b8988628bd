"""The evidence integrity audit: every file the ledger names, re-read from the store and re-hashed.

The ledger, not any read model, says which files must exist: each EvidenceAttached and
EvidenceSuperseded names a SHA-256, and the store must hold bytes with that digest under
`sha256/<hex>`. Superseded documents are checked too: a correction never releases the
store from keeping what it replaced.

A file is *missing* when its key has no readable latest version (never stored, or a
delete marker put over it) and *altered* when the latest bytes under its key hash to
something else (a write made behind the service's back: the lock protects versions, not
keys). Because the bucket is versioned, the audit also looks for a kept version that still
has the original bytes and names it (`recoverable_version`).

No nameko and no HTTP here: `GET /documents/integrity` and `caseplatform evidence-audit`
both call `audit_evidence`. Store failures (unreachable, refused) are raised, never
reported as missing files: an audit that could not look has found nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.domain.case import Case
from shared.domain.dossier import Dossier
from shared.infra.ledger import CaseLedger, to_recorded
from shared.infra.objectstore.errors import EvidenceNotFound
from shared.infra.objectstore.keys import key_for
from shared.infra.objectstore.store import EvidenceStore

EVIDENCE_EVENTS = (Case.EvidenceAttached, Case.EvidenceSuperseded, Dossier.DocumentDeposited)
LEDGER_PAGE = 500  # notifications read per query

# progress(objects checked, objects in all, bytes read so far)
Progress = Callable[[int, int, int], None]


@dataclass
class Referenced:
    """One stored file and every event of the ledger that names it."""

    sha256: str
    references: list[dict] = field(default_factory=list)

    @property
    def expected_size(self) -> int | None:
        return self.references[0]["size"] if self.references else None


def evidence_references(ledger: CaseLedger, page: int = LEDGER_PAGE) -> tuple[dict[str, Referenced], int]:
    """Every SHA-256 the ledger's evidence events name, with those events, in ledger order;
    and the position (notification id) the ledger was read up to."""
    found: dict[str, Referenced] = {}
    position = 0
    while True:
        batch = list(ledger.notifications(position, page))
        if not batch:
            return found, position
        for notification_id, event in batch:
            position = notification_id
            if not isinstance(event, EVIDENCE_EVENTS):  # the log holds every stream's events
                continue
            recorded = to_recorded(event, notification_id)
            p = recorded.payload
            reference = {
                # a dossier's id for a unit's upload, a case's (also as case_id) for evidence on a case
                "stream": recorded.stream, "stream_id": recorded.stream_id,
                **({"case_id": recorded.stream_id} if recorded.stream == "case" else {}),
                "version": recorded.version, "event": recorded.type,
                "filename": p["filename"], "step": p.get("step", "upload"), "size": p["size"],
                "recorded_at": recorded.timestamp,
            }
            if recorded.type == "EvidenceSuperseded":
                reference["supersedes"] = p["supersedes"]
            found.setdefault(p["sha256"], Referenced(p["sha256"])).references.append(reference)


def _hash_stored(store: EvidenceStore, sha256: str, version_id: str | None = None) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with store.open(sha256, version_id) as reader:
        for chunk in reader.stream():
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def recoverable_version(store: EvidenceStore, sha256: str) -> str | None:
    """The id of a kept version under the key whose bytes still hash to `sha256`, if any."""
    for version in reversed(store.versions(sha256)):  # newest first: the last good copy
        if version.is_delete_marker or version.version_id in (None, "null"):
            continue
        try:
            if _hash_stored(store, sha256, version.version_id)[0] == sha256:
                return version.version_id
        except EvidenceNotFound:
            continue
    return None


def check_object(store: EvidenceStore, item: Referenced) -> tuple[str, dict | None, int]:
    """("intact" | "missing" | "altered", the finding for a problem, bytes read)."""
    try:
        actual, size = _hash_stored(store, item.sha256)
    except EvidenceNotFound:
        return "missing", {
            "sha256": item.sha256, "key": key_for(item.sha256), "expected_size": item.expected_size,
            "recoverable_version": recoverable_version(store, item.sha256), "references": item.references,
        }, 0
    if actual == item.sha256:
        return "intact", None, size
    return "altered", {
        "sha256": item.sha256, "key": key_for(item.sha256), "stored_sha256": actual,
        "stored_size": size, "expected_size": item.expected_size,
        "recoverable_version": recoverable_version(store, item.sha256), "references": item.references,
    }, size


def audit_evidence(ledger: CaseLedger, store: EvidenceStore, progress: Progress | None = None) -> dict:
    """Re-hash every file the ledger names; report the missing and the altered, with counts."""
    started = datetime.now(UTC)
    referenced, position = evidence_references(ledger)
    items = list(referenced.values())
    findings: dict[str, list[dict]] = {"missing": [], "altered": []}
    intact = bytes_read = 0
    for done, item in enumerate(items, start=1):
        status, finding, size = check_object(store, item)
        bytes_read += size
        if finding is None:
            intact += 1
        else:
            findings[status].append(finding)
        if progress is not None:
            progress(done, len(items), bytes_read)
    return {
        "ok": not findings["missing"] and not findings["altered"],
        "counts": {
            "references": sum(len(i.references) for i in items),
            "objects": len(items),
            "intact": intact,
            "missing": len(findings["missing"]),
            "altered": len(findings["altered"]),
        },
        "missing": findings["missing"],
        "altered": findings["altered"],
        "bytes_read": bytes_read,
        "ledger_position": position,
        "bucket": store.bucket,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
    }
